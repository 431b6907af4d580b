// A tp_btf program reading the skb it is given with plain loads through its BTF pointers (the kernel
// turns them into loads that read 0 where they would fault), and a perf_event program reading struct bpf_perf_event_data.
#define __TARGET_ARCH_x86
#include <linux/bpf.h>
#include <linux/types.h>
#include <asm/ptrace.h>
#include <linux/bpf_perf_event.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct net_device {
	int ifindex;
} __attribute__((preserve_access_index));

struct sk_buff {
	unsigned int len;
	__be16 protocol;
	unsigned char *data;
	struct net_device *dev;
} __attribute__((preserve_access_index));

__u64 skb_seen[4];
__u64 perf_seen[3];

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(btf_skb, struct sk_buff *skb)
{
	skb_seen[0] = skb->len;
	skb_seen[1] = skb->protocol;
	skb_seen[2] = (__u64)skb->data;
	/* No NULL check: a load through a bad BTF pointer reads 0. */
	skb_seen[3] = skb->dev->ifindex;
	return 0;
}

SEC("perf_event")
int sample(struct bpf_perf_event_data *ctx)
{
	perf_seen[0] = ctx->sample_period;
	perf_seen[1] = ctx->addr;
	perf_seen[2] = PT_REGS_IP(&ctx->regs);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
