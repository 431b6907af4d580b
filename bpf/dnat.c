// SPDX-License-Identifier: GPL-2.0
/*
 * Destination NAT. On ingress, packets to an address/port/protocol listed in
 * `dnat_rules` are rewritten to the rule's backend, and the connection is
 * recorded in `conn_track` under the 4-tuple its replies will carry. On
 * egress, replies found in `conn_track` get the original destination back
 * as their source.
 *
 * Both programs sit in section "tc" (see monitor.c for why) and share maps:
 * load them together with `bpftool prog loadall`.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "l4_rewrite.h"

/* All addresses and ports below are in network byte order. */
struct dnat_key {
	__u32 addr;
	__u16 port;
	__u8 proto;
	__u8 pad;
};

struct endpoint {
	__u32 addr;
	__u16 port;
	__u16 pad;
};

/* A reply as it leaves: from the backend to the remote client. */
struct conn_key {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct dnat_key);
	__type(value, struct endpoint);
} dnat_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct conn_key);
	__type(value, struct endpoint);
} conn_track SEC(".maps");

SEC("tc")
int dnat_ingress(struct __sk_buff *skb)
{
	struct l4_packet pkt;
	struct dnat_key rule = {};
	struct endpoint orig = {}, backend;
	struct conn_key conn = {};
	struct endpoint *found;

	if (parse_l4_packet(skb, &pkt))
		return TC_ACT_OK;
	rule.addr = pkt.daddr;
	rule.port = pkt.dport;
	rule.proto = pkt.proto;
	found = bpf_map_lookup_elem(&dnat_rules, &rule);
	if (!found)
		return TC_ACT_OK;
	backend = *found;

	conn.saddr = backend.addr;
	conn.daddr = pkt.saddr;
	conn.sport = backend.port;
	conn.dport = pkt.sport;
	orig.addr = pkt.daddr;
	orig.port = pkt.dport;
	if (bpf_map_update_elem(&conn_track, &conn, &orig, BPF_ANY))
		return TC_ACT_SHOT;

	if (rewrite_endpoint(skb, &pkt, REWRITE_DESTINATION, backend.addr, backend.port))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

SEC("tc")
int dnat_egress(struct __sk_buff *skb)
{
	struct l4_packet pkt;
	struct conn_key conn = {};
	struct endpoint *orig;

	if (parse_l4_packet(skb, &pkt))
		return TC_ACT_OK;
	conn.saddr = pkt.saddr;
	conn.daddr = pkt.daddr;
	conn.sport = pkt.sport;
	conn.dport = pkt.dport;
	orig = bpf_map_lookup_elem(&conn_track, &conn);
	if (!orig)
		return TC_ACT_OK;

	if (rewrite_endpoint(skb, &pkt, REWRITE_SOURCE, orig->addr, orig->port))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
