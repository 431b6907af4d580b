/* SPDX-License-Identifier: GPL-2.0 */
/*
 * IPv4 TCP/UDP parsing and address/port rewriting shared by proxy.c and
 * dnat.c. Rewrites go through helpers that keep the IPv4 header checksum and
 * the TCP/UDP checksum (including its pseudo-header) valid.
 */
#ifndef BPFTS_L4_REWRITE_H
#define BPFTS_L4_REWRITE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Fragment offset bits of iphdr.frag_off (include/net/ip.h is not uapi). */
#define IPV4_FRAG_OFFSET_MASK 0x1fff

#define IPV4_CSUM_OFF (ETH_HLEN + offsetof(struct iphdr, check))
#define IPV4_SADDR_OFF (ETH_HLEN + offsetof(struct iphdr, saddr))
#define IPV4_DADDR_OFF (ETH_HLEN + offsetof(struct iphdr, daddr))

/* Addresses and ports in network byte order, as they sit in the packet. */
struct l4_packet {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u32 l4_off;
};

enum rewrite_side {
	REWRITE_SOURCE,
	REWRITE_DESTINATION,
};

/* Fills *pkt for an unfragmented (or first-fragment) IPv4 TCP/UDP packet; returns 0 on success. */
static __always_inline int parse_l4_packet(struct __sk_buff *skb, struct l4_packet *pkt)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *ports;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return -1;
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		return -1;
	if (ip->ihl < 5 || (ip->frag_off & bpf_htons(IPV4_FRAG_OFFSET_MASK)))
		return -1;
	/* TCP and UDP both start with source then destination port. */
	ports = (void *)ip + ip->ihl * 4;
	if ((void *)(ports + 1) > data_end)
		return -1;
	/* A TCP header is longer than the ports; its checksum must be in the packet too. */
	if (ip->protocol == IPPROTO_TCP && (void *)ports + sizeof(struct tcphdr) > data_end)
		return -1;

	pkt->saddr = ip->saddr;
	pkt->daddr = ip->daddr;
	pkt->sport = ports->source;
	pkt->dport = ports->dest;
	pkt->proto = ip->protocol;
	pkt->l4_off = ETH_HLEN + ip->ihl * 4;
	return 0;
}

/*
 * Replaces the source or destination address and port of *pkt with
 * new_addr/new_port (network byte order). Packet pointers taken before this
 * call are invalid afterwards. Returns 0 on success.
 */
static __always_inline int rewrite_endpoint(struct __sk_buff *skb, const struct l4_packet *pkt,
					    enum rewrite_side side, __u32 new_addr, __u16 new_port)
{
	int dst = side == REWRITE_DESTINATION;
	__u32 old_addr = dst ? pkt->daddr : pkt->saddr;
	__u16 old_port = dst ? pkt->dport : pkt->sport;
	__u32 addr_off = dst ? IPV4_DADDR_OFF : IPV4_SADDR_OFF;
	__u32 port_off = pkt->l4_off + (dst ? offsetof(struct udphdr, dest) : offsetof(struct udphdr, source));
	__u32 csum_off;
	__u64 l4_flags;

	if (pkt->proto == IPPROTO_TCP) {
		csum_off = pkt->l4_off + offsetof(struct tcphdr, check);
		l4_flags = 0;
	} else {
		/* A zero UDP checksum means "none" and must stay zero. */
		csum_off = pkt->l4_off + offsetof(struct udphdr, check);
		l4_flags = BPF_F_MARK_MANGLED_0;
	}

	if (bpf_l4_csum_replace(skb, csum_off, old_addr, new_addr,
				l4_flags | BPF_F_PSEUDO_HDR | sizeof(new_addr)))
		return -1;
	if (bpf_l4_csum_replace(skb, csum_off, old_port, new_port, l4_flags | sizeof(new_port)))
		return -1;
	if (bpf_l3_csum_replace(skb, IPV4_CSUM_OFF, old_addr, new_addr, sizeof(new_addr)))
		return -1;
	if (bpf_skb_store_bytes(skb, addr_off, &new_addr, sizeof(new_addr), 0))
		return -1;
	if (bpf_skb_store_bytes(skb, port_off, &new_port, sizeof(new_port), 0))
		return -1;
	return 0;
}

#endif
