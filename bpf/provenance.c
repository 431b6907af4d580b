// SPDX-License-Identifier: GPL-2.0
/*
 * Egress packet-capture/provenance classifier: every packet leaving the
 * interface is described by one record in the `events` ring buffer, and the
 * packet itself always passes.
 *
 * The section name comes from PROVENANCE_SECTION so that the same source
 * also yields the object users commonly produce by naming the section after
 * the hook ("egress"): tc loads that one, libbpf cannot guess its type.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef PROVENANCE_SECTION
#define PROVENANCE_SECTION classifier
#endif
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

/* Set in flags when the IPv4 addresses and protocol were parsed. */
#define PROV_HAVE_IPV4 1
/* Set in flags when the TCP/UDP ports were parsed as well. */
#define PROV_HAVE_PORTS 2

struct provenance_record {
	__u64 timestamp_ns;
	__u32 len;
	__u32 ifindex;
	__u16 eth_proto; /* host byte order */
	__u8 ip_proto;
	__u8 flags;
	__u32 saddr; /* network byte order */
	__u32 daddr; /* network byte order */
	__u16 sport; /* host byte order */
	__u16 dport; /* host byte order */
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

SEC(STRINGIFY(PROVENANCE_SECTION))
int provenance(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + ETH_HLEN;
	struct provenance_record *rec;

	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec)
		return TC_ACT_OK;

	__builtin_memset(rec, 0, sizeof(*rec));
	rec->timestamp_ns = bpf_ktime_get_ns();
	rec->len = skb->len;
	rec->ifindex = skb->ifindex;
	rec->eth_proto = bpf_ntohs(skb->protocol);

	if (skb->protocol == bpf_htons(ETH_P_IP) && (void *)(ip + 1) <= data_end) {
		rec->flags = PROV_HAVE_IPV4;
		rec->ip_proto = ip->protocol;
		rec->saddr = ip->saddr;
		rec->daddr = ip->daddr;
		if ((ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP) && ip->ihl >= 5) {
			/* TCP and UDP both start with source then destination port. */
			struct udphdr *ports = (void *)ip + ip->ihl * 4;

			if ((void *)(ports + 1) <= data_end) {
				rec->flags |= PROV_HAVE_PORTS;
				rec->sport = bpf_ntohs(ports->source);
				rec->dport = bpf_ntohs(ports->dest);
			}
		}
	}

	bpf_ringbuf_submit(rec, 0);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
