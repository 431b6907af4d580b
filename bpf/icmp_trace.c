// SPDX-License-Identifier: GPL-2.0
/*
 * The ICMP tracer: for every received IPv4 ICMP packet, {saddr, daddr, protocol} to user space
 * through a perf event array. Built two ways: on the raw tracepoint netif_receive_skb (works on
 * kernels without kprobes), and with -DICMP_KRETPROBE as a kretprobe on ip_rcv_core that reads
 * the returned sk_buff, as the original bcc tracer does. The sk_buff is read with CO-RE, so the
 * program follows the running kernel's layout.
 */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

struct sk_buff {
	unsigned char *head;
	__u16 network_header;
	__u16 protocol;
} __attribute__((preserve_access_index));

struct icmp_event {
	__u32 saddr;
	__u32 daddr;
	__u8 protocol;
	__u8 pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	/* One slot per CPU; fixed rather than left 0 so that the map is the same on every machine. */
	__uint(max_entries, 128);
} events SEC(".maps");

/* The event is built here rather than on the stack, which also puts its type in the object's BTF. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct icmp_event);
} icmp_scratch SEC(".maps");

/* The IPv4 header fields the tracer reads, at their offsets in struct iphdr. */
struct ipv4_head {
	__u8 version_ihl;
	__u8 tos;
	__u16 tot_len;
	__u16 id;
	__u16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__u16 check;
	__u32 saddr;
	__u32 daddr;
};

static __always_inline int report(void *ctx, struct sk_buff *skb)
{
	struct ipv4_head ip;
	__u32 zero = 0;
	struct icmp_event *e = bpf_map_lookup_elem(&icmp_scratch, &zero);

	if (!e || !skb || BPF_CORE_READ(skb, protocol) != bpf_htons(0x0800))
		return 0;
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);

	if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh))
		return 0;
	if ((ip.version_ihl >> 4) != 4 || ip.protocol != 1)
		return 0;
	e->saddr = ip.saddr;
	e->daddr = ip.daddr;
	e->protocol = ip.protocol;
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, e, sizeof(*e));
	return 0;
}

#ifdef ICMP_KRETPROBE
SEC("kretprobe/ip_rcv_core")
int BPF_KRETPROBE(icmp_ip_rcv, struct sk_buff *skb)
{
	return report(ctx, skb);
}
#else
SEC("raw_tp/netif_receive_skb")
int icmp_netif_rx(struct bpf_raw_tracepoint_args *ctx)
{
	return report(ctx, (struct sk_buff *)ctx->args[0]);
}
#endif

char LICENSE[] SEC("license") = "GPL";
