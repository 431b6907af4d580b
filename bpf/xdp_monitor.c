// SPDX-License-Identifier: GPL-2.0
/*
 * XDP monitor: counts IPv4 packets per IP protocol number in `proto_count`
 * and drops UDP datagrams whose destination port equals the value stored at
 * index 0 of `xdp_config` (host byte order; 0 disables dropping). Everything
 * else passes.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} proto_count SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} xdp_config SEC(".maps");

SEC("xdp")
int xdp_monitor(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp;
	__u32 proto, zero = 0;
	__u32 *drop_port;
	__u64 *count;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;

	proto = ip->protocol;
	count = bpf_map_lookup_elem(&proto_count, &proto);
	/* Per-CPU slots: no other CPU writes this one, a plain increment suffices. */
	if (count)
		*count += 1;

	if (proto != IPPROTO_UDP || ip->ihl < 5)
		return XDP_PASS;
	udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > data_end)
		return XDP_PASS;
	drop_port = bpf_map_lookup_elem(&xdp_config, &zero);
	if (drop_port && *drop_port && bpf_ntohs(udp->dest) == *drop_port)
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
