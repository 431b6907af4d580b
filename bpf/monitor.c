// SPDX-License-Identifier: GPL-2.0
/*
 * Packet monitor: one classifier per direction counts packets and bytes in
 * `pkt_count` (index 0 ingress, 1 egress) and per-flow totals in `flows`.
 * User space reads both maps; the programs never change the packet.
 *
 * Both programs sit in section "tc": libbpf 1.1 only knows the exact names
 * "tc" and "classifier" for SCHED_CLS, so direction is carried by the
 * function name. Load both with `bpftool prog loadall` (they share maps) and
 * attach each with `tc filter ... bpf da pinned`.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum direction {
	DIR_INGRESS = 0,
	DIR_EGRESS = 1,
	DIR_MAX,
};

struct counters {
	__u64 packets;
	__u64 bytes;
};

/* Addresses in network byte order, ports in host byte order. */
struct flow_key {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 direction;
	__u8 pad[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DIR_MAX);
	__type(key, __u32);
	__type(value, struct counters);
} pkt_count SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct flow_key);
	__type(value, struct counters);
} flows SEC(".maps");

static __always_inline void add(struct counters *c, __u64 bytes)
{
	__sync_fetch_and_add(&c->packets, 1);
	__sync_fetch_and_add(&c->bytes, bytes);
}

static __always_inline void count_flow(struct __sk_buff *skb, __u8 direction)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + ETH_HLEN;
	struct flow_key key = {};
	struct counters *c;

	if (skb->protocol != bpf_htons(ETH_P_IP) || (void *)(ip + 1) > data_end)
		return;
	key.saddr = ip->saddr;
	key.daddr = ip->daddr;
	key.proto = ip->protocol;
	key.direction = direction;
	if ((ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP) && ip->ihl >= 5) {
		/* TCP and UDP both start with source then destination port. */
		struct udphdr *ports = (void *)ip + ip->ihl * 4;

		if ((void *)(ports + 1) <= data_end) {
			key.sport = bpf_ntohs(ports->source);
			key.dport = bpf_ntohs(ports->dest);
		}
	}

	c = bpf_map_lookup_elem(&flows, &key);
	if (c) {
		add(c, skb->len);
		return;
	}
	struct counters first = { .packets = 1, .bytes = skb->len };

	/* A racing CPU may have inserted the flow meanwhile; losing one sample is fine. */
	bpf_map_update_elem(&flows, &key, &first, BPF_NOEXIST);
}

static __always_inline int count(struct __sk_buff *skb, __u32 direction)
{
	struct counters *c = bpf_map_lookup_elem(&pkt_count, &direction);

	if (c)
		add(c, skb->len);
	count_flow(skb, direction);
	return TC_ACT_OK;
}

SEC("tc")
int monitor_ingress(struct __sk_buff *skb)
{
	return count(skb, DIR_INGRESS);
}

SEC("tc")
int monitor_egress(struct __sk_buff *skb)
{
	return count(skb, DIR_EGRESS);
}

char LICENSE[] SEC("license") = "GPL";
