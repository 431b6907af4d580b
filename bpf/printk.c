// SPDX-License-Identifier: GPL-2.0
/* tc classifier that logs each packet to the trace pipe with bpf_printk and passes it. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("tc")
int log_packet(struct __sk_buff *skb)
{
	bpf_printk("pkt len=%u proto=0x%04x ifindex=%u", skb->len, bpf_ntohs(skb->protocol),
		   skb->ifindex);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
