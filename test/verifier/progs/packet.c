/* Direct packet access: a read or write is in bounds only where a comparison against data_end
 * proved it, the proof is lost when a helper may move the packet, and each program type has its
 * own rules about writing. */
#include "common.h"

#define SKB_DATA offsetof(struct __sk_buff, data)
#define SKB_DATA_END offsetof(struct __sk_buff, data_end)
#define SKB_DATA_META offsetof(struct __sk_buff, data_meta)
#define XDP_DATA offsetof(struct xdp_md, data)
#define XDP_DATA_END offsetof(struct xdp_md, data_end)
#define XDP_DATA_META offsetof(struct xdp_md, data_meta)

/* kernel: invalid access to packet */
SEC("tc")
int pkt_no_check_bad(struct __sk_buff *skb)
{
	struct ethhdr *eth = (void *)(long)skb->data;

	return eth->h_proto == bpf_htons(ETH_P_IP) ? TC_ACT_SHOT : TC_ACT_OK;
}

/* kernel: loads */
SEC("tc")
int pkt_no_check_good(struct __sk_buff *skb)
{
	struct ethhdr *eth = (void *)(long)skb->data;

	if ((void *)(eth + 1) > (void *)(long)skb->data_end)
		return TC_ACT_OK;
	return eth->h_proto == bpf_htons(ETH_P_IP) ? TC_ACT_SHOT : TC_ACT_OK;
}

/* The check covers the Ethernet header, the read goes on into the IP header. */
/* kernel: invalid access to packet */
SEC("xdp")
int pkt_short_check_bad(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	return ip->protocol == IPPROTO_ICMP ? XDP_DROP : XDP_PASS;
}

/* kernel: loads */
SEC("xdp")
int pkt_short_check_good(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);

	if ((void *)(ip + 1) > end)
		return XDP_PASS;
	return ip->protocol == IPPROTO_ICMP ? XDP_DROP : XDP_PASS;
}

/* Off by one: 14 bytes proved, a 2-byte read at 13. */
/* kernel: invalid access to packet, off=13 size=2 */
SEC("tc")
__naked int pkt_off_by_one_bad(void)
{
	asm volatile ("					\
	r2 = *(u32 *)(r1 + %[data]);			\
	r3 = *(u32 *)(r1 + %[data_end]);		\
	r0 = 0;						\
	r4 = r2;					\
	r4 += 14;					\
	if r4 > r3 goto l0_%=;				\
	r0 = *(u16 *)(r2 + 13);				\
l0_%=:	exit;						\
"	:: __imm_const(data, SKB_DATA), __imm_const(data_end, SKB_DATA_END));
}

/* kernel: loads */
SEC("tc")
__naked int pkt_off_by_one_good(void)
{
	asm volatile ("					\
	r2 = *(u32 *)(r1 + %[data]);			\
	r3 = *(u32 *)(r1 + %[data_end]);		\
	r0 = 0;						\
	r4 = r2;					\
	r4 += 14;					\
	if r4 > r3 goto l0_%=;				\
	r0 = *(u16 *)(r2 + 12);				\
l0_%=:	exit;						\
"	:: __imm_const(data, SKB_DATA), __imm_const(data_end, SKB_DATA_END));
}

/* The eight ways to compare a packet pointer with data_end: each good program reads where the
 * comparison proved 8 bytes, each bad one reads on the other edge. */
#define XDP_PROLOGUE "					\
	r2 = *(u32 *)(r1 + %[data]);			\
	r3 = *(u32 *)(r1 + %[data_end]);		\
	r0 = 0;						\
	r4 = r2;					\
	r4 += 8;					"
#define XDP_OPERANDS __imm_const(data, XDP_DATA), __imm_const(data_end, XDP_DATA_END)

/* pkt > end jumps away: the fall-through is in range. */
/* kernel: loads */
SEC("xdp")
__naked int pkt_gt_good(void)
{
	asm volatile (XDP_PROLOGUE "if r4 > r3 goto l0_%=; r0 = *(u32 *)(r2 + 4); l0_%=: exit;" :: XDP_OPERANDS);
}

/* kernel: invalid access to packet */
SEC("xdp")
__naked int pkt_gt_bad(void)
{
	asm volatile (XDP_PROLOGUE "if r4 > r3 goto l0_%=; exit; l0_%=: r0 = *(u32 *)(r2 + 4); exit;" :: XDP_OPERANDS);
}

/* pkt < end: the taken edge is in range. */
/* kernel: loads */
SEC("xdp")
__naked int pkt_lt_good(void)
{
	asm volatile (XDP_PROLOGUE "if r4 < r3 goto l0_%=; exit; l0_%=: r0 = *(u32 *)(r2 + 3); exit;" :: XDP_OPERANDS);
}

/* kernel: invalid access to packet */
SEC("xdp")
__naked int pkt_lt_bad(void)
{
	asm volatile (XDP_PROLOGUE "if r4 < r3 goto l0_%=; r0 = *(u32 *)(r2 + 3); l0_%=: exit;" :: XDP_OPERANDS);
}

/* pkt >= end jumps away: the fall-through (pkt < end) is in range. */
/* kernel: loads */
SEC("xdp")
__naked int pkt_ge_good(void)
{
	asm volatile (XDP_PROLOGUE "if r4 >= r3 goto l0_%=; r0 = *(u32 *)(r2 + 3); l0_%=: exit;" :: XDP_OPERANDS);
}

/* kernel: invalid access to packet */
SEC("xdp")
__naked int pkt_ge_bad(void)
{
	asm volatile (XDP_PROLOGUE "if r4 >= r3 goto l0_%=; exit; l0_%=: r0 = *(u32 *)(r2 + 3); exit;" :: XDP_OPERANDS);
}

/* pkt <= end: the taken edge is in range. */
/* kernel: loads */
SEC("xdp")
__naked int pkt_le_good(void)
{
	asm volatile (XDP_PROLOGUE "if r4 <= r3 goto l0_%=; exit; l0_%=: r0 = *(u32 *)(r2 + 4); exit;" :: XDP_OPERANDS);
}

/* kernel: invalid access to packet */
SEC("xdp")
__naked int pkt_le_bad(void)
{
	asm volatile (XDP_PROLOGUE "if r4 <= r3 goto l0_%=; r0 = *(u32 *)(r2 + 4); l0_%=: exit;" :: XDP_OPERANDS);
}

/* end < pkt jumps away. */
/* kernel: loads */
SEC("xdp")
__naked int pkt_end_lt_good(void)
{
	asm volatile (XDP_PROLOGUE "if r3 < r4 goto l0_%=; r0 = *(u32 *)(r2 + 4); l0_%=: exit;" :: XDP_OPERANDS);
}

/* kernel: invalid access to packet */
SEC("xdp")
__naked int pkt_end_lt_bad(void)
{
	asm volatile (XDP_PROLOGUE "if r3 < r4 goto l0_%=; exit; l0_%=: r0 = *(u32 *)(r2 + 4); exit;" :: XDP_OPERANDS);
}

/* end > pkt: the taken edge. */
/* kernel: loads */
SEC("xdp")
__naked int pkt_end_gt_good(void)
{
	asm volatile (XDP_PROLOGUE "if r3 > r4 goto l0_%=; exit; l0_%=: r0 = *(u32 *)(r2 + 3); exit;" :: XDP_OPERANDS);
}

/* kernel: invalid access to packet */
SEC("xdp")
__naked int pkt_end_gt_bad(void)
{
	asm volatile (XDP_PROLOGUE "if r3 > r4 goto l0_%=; r0 = *(u32 *)(r2 + 3); l0_%=: exit;" :: XDP_OPERANDS);
}

/* end <= pkt jumps away. */
/* kernel: loads */
SEC("xdp")
__naked int pkt_end_le_good(void)
{
	asm volatile (XDP_PROLOGUE "if r3 <= r4 goto l0_%=; r0 = *(u32 *)(r2 + 3); l0_%=: exit;" :: XDP_OPERANDS);
}

/* kernel: invalid access to packet */
SEC("xdp")
__naked int pkt_end_le_bad(void)
{
	asm volatile (XDP_PROLOGUE "if r3 <= r4 goto l0_%=; exit; l0_%=: r0 = *(u32 *)(r2 + 3); exit;" :: XDP_OPERANDS);
}

/* end >= pkt: the taken edge. */
/* kernel: loads */
SEC("xdp")
__naked int pkt_end_ge_good(void)
{
	asm volatile (XDP_PROLOGUE "if r3 >= r4 goto l0_%=; exit; l0_%=: r0 = *(u32 *)(r2 + 4); exit;" :: XDP_OPERANDS);
}

/* kernel: invalid access to packet */
SEC("xdp")
__naked int pkt_end_ge_bad(void)
{
	asm volatile (XDP_PROLOGUE "if r3 >= r4 goto l0_%=; r0 = *(u32 *)(r2 + 4); l0_%=: exit;" :: XDP_OPERANDS);
}

/* A proof covers exactly the bytes before the checked pointer: 8 here, so byte 8 is out. */
/* kernel: invalid access to packet, off=8 size=1 */
SEC("xdp")
__naked int pkt_range_edge_bad(void)
{
	asm volatile (XDP_PROLOGUE "if r4 > r3 goto l0_%=; r0 = *(u8 *)(r2 + 8); l0_%=: exit;" :: XDP_OPERANDS);
}

/* kernel: loads */
SEC("xdp")
__naked int pkt_range_edge_good(void)
{
	asm volatile (XDP_PROLOGUE "if r4 > r3 goto l0_%=; r0 = *(u8 *)(r2 + 7); l0_%=: exit;" :: XDP_OPERANDS);
}

/* data_end is not a pointer one may move. */
/* kernel: R3 pointer arithmetic on pkt_end prohibited */
SEC("tc")
__naked int pkt_end_arith_bad(void)
{
	asm volatile ("					\
	r2 = *(u32 *)(r1 + %[data]);			\
	r3 = *(u32 *)(r1 + %[data_end]);		\
	r3 -= 4;					\
	r0 = 0;						\
	exit;						\
"	:: __imm_const(data, SKB_DATA), __imm_const(data_end, SKB_DATA_END));
}

/* kernel: loads */
SEC("tc")
__naked int pkt_end_arith_good(void)
{
	asm volatile ("					\
	r2 = *(u32 *)(r1 + %[data]);			\
	r3 = *(u32 *)(r1 + %[data_end]);		\
	r2 += 4;					\
	r0 = 0;						\
	exit;						\
"	:: __imm_const(data, SKB_DATA), __imm_const(data_end, SKB_DATA_END));
}

/* Moving the packet head forgets every proof: the old pointer is not a packet pointer any more. */
/* kernel: invalid mem access 'scalar' */
SEC("xdp")
int pkt_adjust_head_stale_bad(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	if (bpf_xdp_adjust_head(ctx, -4))
		return XDP_PASS;
	return opaque(eth)->h_proto == 0 ? XDP_DROP : XDP_PASS;
}

/* kernel: loads */
SEC("xdp")
int pkt_adjust_head_stale_good(struct xdp_md *ctx)
{
	struct ethhdr *eth;

	if (bpf_xdp_adjust_head(ctx, -4))
		return XDP_PASS;
	eth = (void *)(long)ctx->data;
	if ((void *)(eth + 1) > (void *)(long)ctx->data_end)
		return XDP_PASS;
	return eth->h_proto == 0 ? XDP_DROP : XDP_PASS;
}

/* bpf_skb_pull_data may reallocate the skb's head, the same way. */
/* kernel: invalid mem access 'scalar' */
SEC("tc")
int pkt_pull_data_stale_bad(struct __sk_buff *skb)
{
	struct ethhdr *eth = (void *)(long)skb->data;

	if ((void *)(eth + 1) > (void *)(long)skb->data_end)
		return TC_ACT_OK;
	bpf_skb_pull_data(skb, 64);
	return opaque(eth)->h_proto == 0 ? TC_ACT_SHOT : TC_ACT_OK;
}

/* kernel: loads */
SEC("tc")
int pkt_pull_data_stale_good(struct __sk_buff *skb)
{
	struct ethhdr *eth;

	bpf_skb_pull_data(skb, 64);
	eth = (void *)(long)skb->data;
	if ((void *)(eth + 1) > (void *)(long)skb->data_end)
		return TC_ACT_OK;
	return eth->h_proto == 0 ? TC_ACT_SHOT : TC_ACT_OK;
}

/* cgroup_skb programs may read the packet but not write it. */
/* kernel: cannot write into packet */
SEC("cgroup_skb/ingress")
int pkt_cgroup_write_bad(struct __sk_buff *skb)
{
	struct ethhdr *eth = (void *)(long)skb->data;

	if ((void *)(eth + 1) > (void *)(long)skb->data_end)
		return 1;
	eth->h_proto = 0;
	return 1;
}

/* kernel: loads */
SEC("cgroup_skb/ingress")
int pkt_cgroup_write_good(struct __sk_buff *skb)
{
	struct ethhdr *eth = (void *)(long)skb->data;

	if ((void *)(eth + 1) > (void *)(long)skb->data_end)
		return 1;
	return eth->h_proto != 0;
}

/* tc may write what it proved. */
/* kernel: invalid access to packet */
SEC("tc")
int pkt_tc_write_bad(struct __sk_buff *skb)
{
	struct ethhdr *eth = (void *)(long)skb->data;

	if ((void *)eth + 12 > (void *)(long)skb->data_end)
		return TC_ACT_OK;
	eth->h_proto = bpf_htons(ETH_P_IP);
	return TC_ACT_OK;
}

/* kernel: loads */
SEC("tc")
int pkt_tc_write_good(struct __sk_buff *skb)
{
	struct ethhdr *eth = (void *)(long)skb->data;

	if ((void *)(eth + 1) > (void *)(long)skb->data_end)
		return TC_ACT_OK;
	eth->h_proto = bpf_htons(ETH_P_IP);
	return TC_ACT_OK;
}

/* A variable offset from a packet byte ([0, 255]) is fine once data + off + 1 is checked. */
/* kernel: loads */
SEC("xdp")
int pkt_var_off_good(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	unsigned char *p;

	if (data + 1 > end)
		return XDP_PASS;
	p = data + data[0];
	if (p + 1 > end)
		return XDP_PASS;
	return *p ? XDP_DROP : XDP_PASS;
}

/* Checked once for the fixed part only: the variable part is unproven. */
/* kernel: invalid access to packet */
SEC("xdp")
int pkt_var_off_bad(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	unsigned char *p;

	if (data + 2 > end)
		return XDP_PASS;
	p = data + data[0];
	return *opaque(p) ? XDP_DROP : XDP_PASS;
}

/* An offset that may be huge (a whole u32 from the context) makes no packet pointer. */
/* kernel: invalid access to packet, off=0 size=1 */
SEC("tc")
__naked int pkt_var_off_unbounded_bad(void)
{
	asm volatile ("					\
	r2 = *(u32 *)(r1 + %[data]);			\
	r3 = *(u32 *)(r1 + %[data_end]);		\
	r4 = *(u32 *)(r1 + %[mark]);			\
	r0 = 0;						\
	r2 += r4;					\
	r5 = r2;					\
	r5 += 1;					\
	if r5 > r3 goto l0_%=;				\
	r0 = *(u8 *)(r2 + 0);				\
l0_%=:	exit;						\
"	:: __imm_const(data, SKB_DATA), __imm_const(data_end, SKB_DATA_END),
	   __imm_const(mark, offsetof(struct __sk_buff, mark)));
}

/* kernel: loads */
SEC("tc")
__naked int pkt_var_off_unbounded_good(void)
{
	asm volatile ("					\
	r2 = *(u32 *)(r1 + %[data]);			\
	r3 = *(u32 *)(r1 + %[data_end]);		\
	r4 = *(u32 *)(r1 + %[mark]);			\
	r4 &= 0xfff;					\
	r0 = 0;						\
	r2 += r4;					\
	r5 = r2;					\
	r5 += 1;					\
	if r5 > r3 goto l0_%=;				\
	r0 = *(u8 *)(r2 + 0);				\
l0_%=:	exit;						\
"	:: __imm_const(data, SKB_DATA), __imm_const(data_end, SKB_DATA_END),
	   __imm_const(mark, offsetof(struct __sk_buff, mark)));
}

/* XDP metadata sits before data: it is proven against data, not data_end. */
/* kernel: invalid access to packet */
SEC("xdp")
__naked int pkt_meta_no_check_bad(void)
{
	asm volatile ("					\
	r2 = *(u32 *)(r1 + %[meta]);			\
	r0 = *(u32 *)(r2 + 0);				\
	r0 = 2;						\
	exit;						\
"	:: __imm_const(meta, XDP_DATA_META));
}

/* kernel: loads */
SEC("xdp")
__naked int pkt_meta_no_check_good(void)
{
	asm volatile ("					\
	r2 = *(u32 *)(r1 + %[meta]);			\
	r3 = *(u32 *)(r1 + %[data]);			\
	r4 = r2;					\
	r4 += 4;					\
	if r4 > r3 goto l0_%=;				\
	r0 = *(u32 *)(r2 + 0);				\
l0_%=:	r0 = 2;						\
	exit;						\
"	:: __imm_const(meta, XDP_DATA_META), __imm_const(data, XDP_DATA));
}

/* The legacy packet loads exist for socket filters and tc, not for XDP. */
/* kernel: BPF_LD_[ABS|IND] instructions not allowed for this program type */
SEC("xdp")
__naked int pkt_ld_abs_type_bad(void)
{
	asm volatile ("					\
	r6 = r1;					\
	r0 = *(u8 *)skb[12];				\
	r0 = 2;						\
	exit;						\
");
}

/* kernel: loads */
SEC("socket")
__naked int pkt_ld_abs_type_good(void)
{
	asm volatile ("					\
	r6 = r1;					\
	r0 = *(u8 *)skb[12];				\
	r0 = 0;						\
	exit;						\
");
}

/* LD_ABS takes the skb from r6 implicitly. */
/* kernel: at the time of BPF_LD_ABS|IND R6 != pointer to skb */
SEC("socket")
__naked int pkt_ld_abs_r6_bad(void)
{
	asm volatile ("					\
	r6 = r10;					\
	r0 = *(u16 *)skb[12];				\
	r0 = 0;						\
	exit;						\
");
}

/* kernel: loads */
SEC("socket")
__naked int pkt_ld_abs_r6_good(void)
{
	asm volatile ("					\
	r6 = r1;					\
	r0 = *(u16 *)skb[12];				\
	r0 = 0;						\
	exit;						\
");
}
