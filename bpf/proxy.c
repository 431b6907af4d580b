// SPDX-License-Identifier: GPL-2.0
/*
 * Transparent tc proxy. On egress, connections to an address/port listed in
 * `proxy_targets` are redirected to the configured replacement, and the
 * reply direction is remembered in `proxy_reverse`. On ingress, replies that
 * match `proxy_reverse` get the original address/port back as their source,
 * so the client never sees the redirection.
 *
 * Both programs sit in section "tc" (see monitor.c for why) and share maps:
 * load them together with `bpftool prog loadall`.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "l4_rewrite.h"

/* Address and port in network byte order. */
struct endpoint {
	__u32 addr;
	__u16 port;
	__u16 pad;
};

/* A reply as it arrives: from the proxy target back to the local client. */
struct reverse_key {
	__u32 remote_addr;
	__u32 local_addr;
	__u16 remote_port;
	__u16 local_port;
	__u8 proto;
	__u8 pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct endpoint);
	__type(value, struct endpoint);
} proxy_targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct reverse_key);
	__type(value, struct endpoint);
} proxy_reverse SEC(".maps");

SEC("tc")
int proxy_egress(struct __sk_buff *skb)
{
	struct l4_packet pkt;
	struct endpoint orig = {}, target;
	struct reverse_key rev = {};
	struct endpoint *found;

	if (parse_l4_packet(skb, &pkt))
		return TC_ACT_OK;
	orig.addr = pkt.daddr;
	orig.port = pkt.dport;
	found = bpf_map_lookup_elem(&proxy_targets, &orig);
	if (!found)
		return TC_ACT_OK;
	target = *found;

	rev.remote_addr = target.addr;
	rev.local_addr = pkt.saddr;
	rev.remote_port = target.port;
	rev.local_port = pkt.sport;
	rev.proto = pkt.proto;
	if (bpf_map_update_elem(&proxy_reverse, &rev, &orig, BPF_ANY))
		return TC_ACT_SHOT;

	if (rewrite_endpoint(skb, &pkt, REWRITE_DESTINATION, target.addr, target.port))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

SEC("tc")
int proxy_ingress(struct __sk_buff *skb)
{
	struct l4_packet pkt;
	struct reverse_key rev = {};
	struct endpoint *orig;

	if (parse_l4_packet(skb, &pkt))
		return TC_ACT_OK;
	rev.remote_addr = pkt.saddr;
	rev.local_addr = pkt.daddr;
	rev.remote_port = pkt.sport;
	rev.local_port = pkt.dport;
	rev.proto = pkt.proto;
	orig = bpf_map_lookup_elem(&proxy_reverse, &rev);
	if (!orig)
		return TC_ACT_OK;

	if (rewrite_endpoint(skb, &pkt, REWRITE_SOURCE, orig->addr, orig->port))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
