// SPDX-License-Identifier: GPL-2.0
/* XDP head, tail and metadata adjustment driven by the packet's bytes. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int adjust(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *p = data;
	int head, tail, meta;
	long a, b, c;

	if ((void *)(p + 18) > data_end)
		return XDP_ABORTED;
	head = (int)(__s8)p[14];
	tail = (int)(__s8)p[15] * 4;
	meta = -(int)(p[16] & 0x3f);
	a = bpf_xdp_adjust_meta(ctx, meta);
	b = bpf_xdp_adjust_head(ctx, head);
	c = bpf_xdp_adjust_tail(ctx, tail);

	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	void *data_meta = (void *)(long)ctx->data_meta;
	if (data_meta + 4 <= data)
		*(__u32 *)data_meta = 0xdeadbeef;
	if (data + 1 <= data_end)
		*(__u8 *)data ^= 0x5a;
	return ((a & 0xff) | ((b & 0xff) << 8) | ((c & 0xff) << 16)) == 0 ? XDP_TX : XDP_PASS + ((a != 0) + (b != 0) * 2 + (c != 0) * 4) * 8;
}

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int view(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;

	return ctx->ingress_ifindex << 24 ^ ctx->rx_queue_index << 16 ^ len ^ (ctx->data - ctx->data_meta) << 12;
}
