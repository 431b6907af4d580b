// SPDX-License-Identifier: GPL-2.0
/*
 * tc classifier that drops IPv4 TCP segments to destination port 80.
 * Every header is bounds-checked against data_end before it is read, so
 * truncated frames are passed rather than misparsed. Built a second time
 * with -mcpu=v4, where the run-time byte swap of tot_len becomes a v4-only
 * BSWAP instruction on little-endian targets.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("tc")
int drop_tcp80(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *tcp;

	if ((void *)(ip + 1) > data_end)
		return TC_ACT_OK;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->protocol != IPPROTO_TCP)
		return TC_ACT_OK;
	/* ihl counts 32-bit words; anything below 5 is a malformed header. */
	if (ip->ihl < 5)
		return TC_ACT_OK;
	tcp = (void *)ip + ip->ihl * 4;
	if ((void *)(tcp + 1) > data_end)
		return TC_ACT_OK;
	/* The frame may hold the header while the IP length says it was cut short. */
	if (bpf_ntohs(ip->tot_len) < ip->ihl * 4 + sizeof(*tcp))
		return TC_ACT_OK;
	if (tcp->dest == bpf_htons(80))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
