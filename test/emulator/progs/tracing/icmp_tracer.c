// The ICMP tracer: read an skb's IPv4 header with CO-RE reads and send {saddr, daddr, protocol} of
// every ICMP packet to user space through a perf event array. For kernels without kprobes on
// netif_receive_skb, once as a raw tracepoint (the skb is args[0], skb->data at the IP header) and
// once as a tracepoint (the skb is the record's skbaddr field); and as originally written, a
// kretprobe on ip_rcv_core (the skb it returns, its IP header at head + network_header).
#define __TARGET_ARCH_x86
#include <linux/bpf.h>
#include <asm/ptrace.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>

/* Only the members read here; CO-RE finds them in the target kernel's struct sk_buff. */
struct sk_buff {
	unsigned char *head;
	unsigned char *data;
	__u16 network_header;
	__be16 protocol;
} __attribute__((preserve_access_index));

struct iphdr {
	__u8 ihl : 4, version : 4;
	__u8 tos;
	__be16 tot_len;
	__be16 id;
	__be16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__sum16 check;
	__be32 saddr;
	__be32 daddr;
} __attribute__((preserve_access_index));

/* The format of events/net/netif_receive_skb (struct trace_event_raw_net_dev_template). */
struct netif_receive_skb_args {
	__u64 common;
	void *skbaddr;
	unsigned int len;
	__u32 data_loc_name;
};

struct event {
	__be32 saddr;
	__be32 daddr;
	__u8 protocol;
};

/* Puts struct event into the object's BTF, so that readers can decode the records. */
const struct event *unused_event __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

#define ETH_P_IP 0x0800
#define IPPROTO_ICMP 1

static int trace_ip(void *ctx, struct sk_buff *skb, const unsigned char *network)
{
	struct iphdr ip;

	if (BPF_CORE_READ(skb, protocol) != bpf_htons(ETH_P_IP))
		return 0;
	if (bpf_probe_read_kernel(&ip, sizeof(ip), network) < 0)
		return 0;
	if (ip.version != 4 || ip.protocol != IPPROTO_ICMP)
		return 0;
	struct event e = { .saddr = ip.saddr, .daddr = ip.daddr, .protocol = ip.protocol };
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 1;
}

SEC("raw_tp/netif_receive_skb")
int icmp_raw_tp(struct bpf_raw_tracepoint_args *ctx)
{
	struct sk_buff *skb = (struct sk_buff *)ctx->args[0];

	return trace_ip(ctx, skb, BPF_CORE_READ(skb, data));
}

SEC("tracepoint/net/netif_receive_skb")
int icmp_tp(struct netif_receive_skb_args *ctx)
{
	struct sk_buff *skb = ctx->skbaddr;

	return trace_ip(ctx, skb, BPF_CORE_READ(skb, data));
}

SEC("kretprobe/ip_rcv_core")
int BPF_KRETPROBE(icmp_kretprobe, struct sk_buff *skb)
{
	if (!skb)
		return 0;
	return trace_ip(ctx, skb, BPF_CORE_READ(skb, head) + BPF_CORE_READ(skb, network_header));
}

char LICENSE[] SEC("license") = "GPL";
