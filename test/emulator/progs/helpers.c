// SPDX-License-Identifier: GPL-2.0
/* Packet helpers driven by the packet's own bytes, for comparing the emulator with the kernel. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

/* Byte i of the packet, or 0 when the packet is shorter. */
static __always_inline __u32 byte_at(struct __sk_buff *skb, __u32 i)
{
	__u8 b = 0;

	bpf_skb_load_bytes(skb, i, &b, 1);
	return b;
}

SEC("tc")
int load_store(struct __sk_buff *skb)
{
	__u8 buf[8] = {};
	__u32 knob = byte_at(skb, 14);
	long r1, r2;

	r1 = bpf_skb_load_bytes(skb, knob, buf, sizeof(buf));
	r2 = bpf_skb_store_bytes(skb, byte_at(skb, 15), buf, 4, byte_at(skb, 16) & 7);
	return (int)((r1 & 0xff) | ((r2 & 0xff) << 8)) ^ buf[0];
}

SEC("tc")
int csums(struct __sk_buff *skb)
{
	__u32 from = byte_at(skb, 20) | byte_at(skb, 21) << 8 | byte_at(skb, 22) << 16 | byte_at(skb, 23) << 24;
	__u32 to = byte_at(skb, 24) | byte_at(skb, 25) << 8 | byte_at(skb, 26) << 16 | byte_at(skb, 27) << 24;
	__u64 flags = byte_at(skb, 17);
	long a, b, c;

	a = bpf_l3_csum_replace(skb, byte_at(skb, 18), byte_at(skb, 19) & 1 ? 0 : from, to, flags & 0x1f);
	b = bpf_l4_csum_replace(skb, byte_at(skb, 28), byte_at(skb, 19) & 2 ? 0 : from, to, flags);
	c = bpf_csum_diff((__be32 *)0, 0, (__be32 *)0, 0, to);
	return (int)((a & 0xff) | ((b & 0xff) << 8)) ^ (int)(c & 0xffff0000) ^ 0;
}

SEC("tc")
int diff(struct __sk_buff *skb)
{
	__be32 words[4] = {};
	__u32 i;

	if (bpf_skb_load_bytes(skb, 14, words, sizeof(words)))
		return 1;
	/* Folded, so that any partial-sum representation gives one answer. */
	__u32 s = bpf_csum_diff(words, 8, words + 2, 8, byte_at(skb, 30));
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return s == 0xffff ? 0 : s;
}

SEC("tc")
int reshape(struct __sk_buff *skb)
{
	__u32 op = byte_at(skb, 14);
	long r = 0;

	switch (op & 7) {
	case 0:
		r = bpf_skb_change_tail(skb, skb->len + byte_at(skb, 15) - 128, 0);
		break;
	case 1:
		r = bpf_skb_change_head(skb, byte_at(skb, 15) & 63, 0);
		break;
	case 2:
		r = bpf_skb_vlan_push(skb, byte_at(skb, 15) & 1 ? 0xa888 : 0x0081, byte_at(skb, 16));
		if (!r && (byte_at(skb, 17) & 1))
			r = bpf_skb_vlan_push(skb, 0x0081, byte_at(skb, 18));
		break;
	case 3:
		r = bpf_skb_vlan_pop(skb);
		break;
	case 4:
		r = bpf_skb_pull_data(skb, byte_at(skb, 15) * 4);
		break;
	case 5:
		r = bpf_skb_change_tail(skb, byte_at(skb, 15), byte_at(skb, 16) & 1);
		break;
	case 6:
		return bpf_redirect(byte_at(skb, 15), byte_at(skb, 16) & 3);
	default:
		r = bpf_skb_change_head(skb, 8, byte_at(skb, 15) & 1);
	}
	return (int)(r & 0xffff) ^ (skb->len << 16) ^ (skb->protocol << 8) ^ skb->vlan_present ^ skb->vlan_tci << 4;
}

SEC("tc")
int ctx_fields(struct __sk_buff *skb)
{
	__u32 v = byte_at(skb, 14) | byte_at(skb, 15) << 8;

	skb->mark = v;
	skb->priority = v * 3;
	skb->tc_index = v * 5;
	skb->cb[2] = v * 7;
	skb->tc_classid = v * 11;
	skb->queue_mapping = v & 0xff;
	return skb->mark ^ skb->priority ^ skb->tc_index ^ skb->cb[2] ^ skb->tc_classid ^ skb->queue_mapping ^
	       skb->pkt_type << 24 ^ skb->ifindex << 20 ^ skb->ingress_ifindex ^ skb->hash ^ skb->napi_id ^
	       skb->wire_len ^ skb->gso_segs ^ skb->gso_size ^ (__u32)skb->tstamp ^ (__u32)skb->hwtstamp ^
	       skb->len ^ skb->protocol ^ skb->vlan_present ^ skb->vlan_proto;
}

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

/* The first 4 packet bytes as the record, then skb->len bytes of the packet appended by the kernel. */
SEC("tc")
int perf_out(struct __sk_buff *skb)
{
	__u32 head = 0;

	bpf_skb_load_bytes(skb, 0, &head, sizeof(head));
	return bpf_perf_event_output(skb, &events, BPF_F_CURRENT_CPU | ((__u64)(skb->len & 0xff) << 32), &head, sizeof(head));
}

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} seen SEC(".maps");

/* The fields as cgroup programs read them, folded into seen[0]; the verdict is one bit of it. */
SEC("cgroup_skb/ingress")
int cg_view(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 first = 0, zero = 0, v;

	if (data + 4 <= data_end)
		first = *(__u32 *)data;
	skb->mark = first;
	v = skb->len ^ skb->protocol << 3 ^ skb->family << 7 ^ skb->local_ip4 ^ skb->remote_ip4 << 1 ^ skb->pkt_type << 9 ^ skb->mark << 2;
	bpf_map_update_elem(&seen, &zero, &v, BPF_ANY);
	return v & 1;
}

SEC("socket")
int sock_view(struct __sk_buff *skb)
{
	__u8 b[4] = {};

	bpf_skb_load_bytes(skb, 0, b, sizeof(b));
	return skb->len ^ skb->protocol ^ skb->pkt_type ^ b[0] ^ b[3] << 8 ^ skb->ifindex << 16;
}
