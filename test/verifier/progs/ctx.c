/* The context: each program type has its own layout of readable and writable fields, accessed
 * at fixed offsets through the unmodified context pointer, with the sizes the kernel rewrites. */
#include "common.h"
#include <linux/ptrace.h>

#define SKB(field) offsetof(struct __sk_buff, field)

/* tc may read skb->len but not write it. */
/* kernel: invalid bpf_context access off=0 size=4 */
SEC("tc")
int ctx_tc_write_len_bad(struct __sk_buff *skb)
{
	skb->len = 0;
	return TC_ACT_OK;
}

/* kernel: loads */
SEC("tc")
int ctx_tc_write_len_good(struct __sk_buff *skb)
{
	skb->mark = skb->len;
	return TC_ACT_OK;
}

/* tc_classid is for tc only: writable there, not in a socket filter. */
/* kernel: invalid bpf_context access off=72 size=4 */
SEC("socket")
int ctx_socket_write_classid_bad(struct __sk_buff *skb)
{
	skb->tc_classid = 1;
	return 0;
}

/* kernel: loads */
SEC("tc")
int ctx_socket_write_classid_good(struct __sk_buff *skb)
{
	skb->tc_classid = 1;
	return TC_ACT_OK;
}

/* Socket filters get no direct packet access: skb->data is not theirs to read. */
/* kernel: invalid bpf_context access off=76 size=4 */
SEC("socket")
int ctx_socket_data_bad(struct __sk_buff *skb)
{
	return *(volatile __u32 *)&skb->data != 0;
}

/* kernel: loads */
SEC("socket")
int ctx_socket_data_good(struct __sk_buff *skb)
{
	return skb->len > 64;
}

/* A socket filter may write skb->cb[], but not skb->mark. */
/* kernel: invalid bpf_context access off=8 size=4 */
SEC("socket")
int ctx_socket_write_mark_bad(struct __sk_buff *skb)
{
	skb->mark = 1;
	return 0;
}

/* kernel: loads */
SEC("socket")
int ctx_socket_write_mark_good(struct __sk_buff *skb)
{
	skb->cb[0] = 1;
	return 0;
}

/* Narrow reads of a field are allowed, narrow writes are not. */
/* kernel: invalid bpf_context access off=8 size=1 */
SEC("tc")
__naked int ctx_narrow_write_bad(void)
{
	asm volatile ("r2 = 1; *(u8 *)(r1 + %[mark]) = r2; r0 = 0; exit;" :: __imm_const(mark, SKB(mark)));
}

/* kernel: loads */
SEC("tc")
__naked int ctx_narrow_write_good(void)
{
	asm volatile ("r0 = *(u8 *)(r1 + %[mark]); r0 = 0; exit;" :: __imm_const(mark, SKB(mark)));
}

/* A narrow read must be at an offset aligned to its size. */
/* kernel: invalid bpf_context access off=9 size=2 */
SEC("tc")
__naked int ctx_narrow_misaligned_bad(void)
{
	asm volatile ("r0 = *(u16 *)(r1 + 9); r0 = 0; exit;");
}

/* kernel: loads */
SEC("tc")
__naked int ctx_narrow_misaligned_good(void)
{
	asm volatile ("r0 = *(u16 *)(r1 + 10); r0 = 0; exit;");
}

/* Past the end of struct __sk_buff. */
/* kernel: invalid bpf_context access off=256 size=4 */
SEC("tc")
__naked int ctx_past_end_bad(void)
{
	asm volatile ("r0 = *(u32 *)(r1 + 256); r0 = 0; exit;");
}

/* kernel: loads */
SEC("tc")
__naked int ctx_past_end_good(void)
{
	asm volatile ("r0 = *(u32 *)(r1 + %[last]); r0 = 0; exit;" :: __imm_const(last, SKB(gso_size)));
}

/* The context is read at a constant offset from the pointer the program got, never a moved one. */
/* kernel: dereference of modified ctx ptr R1 off=4 disallowed */
SEC("tc")
__naked int ctx_modified_ptr_bad(void)
{
	asm volatile ("r1 += 4; r0 = *(u32 *)(r1 + 0); r0 = 0; exit;");
}

/* kernel: loads */
SEC("tc")
__naked int ctx_modified_ptr_good(void)
{
	asm volatile ("r0 = *(u32 *)(r1 + 4); r0 = 0; exit;");
}

/* A variable offset into the context. */
/* kernel: variable ctx access var_off= */
SEC("tc")
__naked int ctx_var_off_bad(void)
{
	asm volatile ("					\
	r2 = *(u32 *)(r1 + %[mark]);			\
	r2 &= 4;					\
	r1 += r2;					\
	r0 = *(u32 *)(r1 + 0);				\
	r0 = 0;						\
	exit;						\
"	:: __imm_const(mark, SKB(mark)));
}

/* kernel: loads */
SEC("tc")
__naked int ctx_var_off_good(void)
{
	asm volatile ("					\
	r2 = *(u32 *)(r1 + %[mark]);			\
	r2 &= 4;					\
	r0 = *(u32 *)(r1 + 0);				\
	r0 += r2;					\
	r0 = 0;						\
	exit;						\
"	:: __imm_const(mark, SKB(mark)));
}

/* XDP's data pointers are 32-bit fields: the kernel rewrites only 4-byte loads of them. */
/* kernel: invalid bpf_context access off=0 size=8 */
SEC("xdp")
__naked int ctx_xdp_wide_load_bad(void)
{
	asm volatile ("r0 = *(u64 *)(r1 + 0); r0 = 2; exit;");
}

/* kernel: loads */
SEC("xdp")
__naked int ctx_xdp_wide_load_good(void)
{
	asm volatile ("r0 = *(u32 *)(r1 + 0); r0 = 2; exit;");
}

/* xdp_md is read only. */
/* kernel: invalid bpf_context access off=0 size=4 */
SEC("xdp")
__naked int ctx_xdp_write_bad(void)
{
	asm volatile ("r2 = 0; *(u32 *)(r1 + 0) = r2; r0 = 2; exit;");
}

/* kernel: loads */
SEC("xdp")
__naked int ctx_xdp_write_good(void)
{
	asm volatile ("r2 = *(u32 *)(r1 + %[ifindex]); r0 = 2; exit;" :: __imm_const(ifindex, offsetof(struct xdp_md, ingress_ifindex)));
}

/* Storing an immediate into the context follows the same field rules as a register store. */
/* kernel: invalid bpf_context access off=0 size=4 */
SEC("tc")
__naked int ctx_st_imm_bad(void)
{
	asm volatile ("*(u32 *)(r1 + 0) = 1; r0 = 0; exit;");
}

/* kernel: loads */
SEC("tc")
__naked int ctx_st_imm_good(void)
{
	asm volatile ("*(u32 *)(r1 + %[mark]) = 1; r0 = 0; exit;" :: __imm_const(mark, SKB(mark)));
}

/* Atomic operations on the context neither. */
/* kernel: BPF_ATOMIC stores into R1 ctx is not allowed */
SEC("tc")
__naked int ctx_atomic_bad(void)
{
	asm volatile ("r2 = 1; lock *(u32 *)(r1 + %[mark]) += r2; r0 = 0; exit;" :: __imm_const(mark, SKB(mark)));
}

/* kernel: loads */
SEC("tc")
__naked int ctx_atomic_good(void)
{
	asm volatile ("r2 = 1; *(u64 *)(r10 - 8) = r2; lock *(u64 *)(r10 - 8) += r2; r0 = 0; exit;");
}

/* kprobe programs read struct pt_regs, never write it. */
/* kernel: invalid bpf_context access off=112 size=8 */
SEC("kprobe/do_nanosleep")
int ctx_kprobe_write_bad(struct pt_regs *regs)
{
	regs->rdi = 0;
	return 0;
}

/* kernel: loads */
SEC("kprobe/do_nanosleep")
int ctx_kprobe_write_good(struct pt_regs *regs)
{
	return regs->rdi != 0;
}

/* Past the end of struct pt_regs. */
/* kernel: invalid bpf_context access off=168 size=8 */
SEC("kprobe/do_nanosleep")
__naked int ctx_kprobe_past_end_bad(void)
{
	asm volatile ("r0 = *(u64 *)(r1 + 168); r0 = 0; exit;");
}

/* kernel: loads */
SEC("kprobe/do_nanosleep")
__naked int ctx_kprobe_past_end_good(void)
{
	asm volatile ("r0 = *(u64 *)(r1 + 160); r0 = 0; exit;");
}

/* A tracepoint's record may be read, not written. */
/* kernel: invalid bpf_context access off=8 size=8 */
SEC("tracepoint/syscalls/sys_enter_nanosleep")
__naked int ctx_tracepoint_write_bad(void)
{
	asm volatile ("r2 = 0; *(u64 *)(r1 + 8) = r2; r0 = 0; exit;");
}

/* kernel: loads */
SEC("tracepoint/syscalls/sys_enter_nanosleep")
__naked int ctx_tracepoint_write_good(void)
{
	asm volatile ("r0 = *(u64 *)(r1 + 8); r0 = 0; exit;");
}

/* Tracepoint record reads must be aligned to their size. */
/* kernel: invalid bpf_context access off=10 size=4 */
SEC("tracepoint/syscalls/sys_enter_nanosleep")
__naked int ctx_tracepoint_misaligned_bad(void)
{
	asm volatile ("r0 = *(u32 *)(r1 + 10); r0 = 0; exit;");
}

/* kernel: loads */
SEC("tracepoint/syscalls/sys_enter_nanosleep")
__naked int ctx_tracepoint_misaligned_good(void)
{
	asm volatile ("r0 = *(u32 *)(r1 + 12); r0 = 0; exit;");
}

/* The record's first 8 bytes (the common header's pointer-sized prefix) are not the program's. */
/* kernel: invalid bpf_context access off=4 size=4 */
SEC("tracepoint/syscalls/sys_enter_nanosleep")
__naked int ctx_tracepoint_header_bad(void)
{
	asm volatile ("r0 = *(u32 *)(r1 + 4); r0 = 0; exit;");
}

/* kernel: loads */
SEC("tracepoint/syscalls/sys_enter_nanosleep")
__naked int ctx_tracepoint_header_good(void)
{
	asm volatile ("r0 = *(u32 *)(r1 + 8); r0 = 0; exit;");
}

/* A raw tracepoint's arguments are u64 slots, read only (narrow reads included). */
/* kernel: invalid bpf_context access off=8 size=8 */
SEC("raw_tp/sys_enter")
__naked int ctx_raw_tp_write_bad(void)
{
	asm volatile ("r2 = 0; *(u64 *)(r1 + 8) = r2; r0 = 0; exit;");
}

/* kernel: loads */
SEC("raw_tp/sys_enter")
__naked int ctx_raw_tp_write_good(void)
{
	asm volatile ("r0 = *(u32 *)(r1 + 8); r0 = 0; exit;");
}

/* At most 12 of them. */
/* kernel: invalid bpf_context access off=96 size=8 */
SEC("raw_tp/sys_enter")
__naked int ctx_raw_tp_past_end_bad(void)
{
	asm volatile ("r0 = *(u64 *)(r1 + 96); r0 = 0; exit;");
}

/* kernel: loads */
SEC("raw_tp/sys_enter")
__naked int ctx_raw_tp_past_end_good(void)
{
	asm volatile ("r0 = *(u64 *)(r1 + 88); r0 = 0; exit;");
}

/* cgroup_skb may set the mark but not the tc classid. */
/* kernel: invalid bpf_context access off=72 size=4 */
SEC("cgroup_skb/egress")
int ctx_cgroup_write_bad(struct __sk_buff *skb)
{
	skb->tc_classid = 1;
	return 1;
}

/* kernel: loads */
SEC("cgroup_skb/egress")
int ctx_cgroup_write_good(struct __sk_buff *skb)
{
	skb->mark = 1;
	return 1;
}

/* cgroup_skb programs return a verdict: 0 (drop) or 1 (allow). */
/* kernel: At program exit the register R0 has smin=2 smax=2 should have been in [0, 1] */
SEC("cgroup_skb/ingress")
__naked int ctx_cgroup_retval_bad(void)
{
	asm volatile ("r0 = 2; exit;");
}

/* kernel: loads */
SEC("cgroup_skb/ingress")
__naked int ctx_cgroup_retval_good(void)
{
	asm volatile ("r0 = 1; exit;");
}

/* An unknown verdict is as wrong as a wrong one. */
/* kernel: At program exit the register R0 has smin=0 smax=4294967295 should have been in [0, 1] */
SEC("cgroup_skb/ingress")
__naked int ctx_cgroup_retval_unknown_bad(void)
{
	asm volatile ("r0 = *(u32 *)(r1 + 0); exit;");
}

/* kernel: loads */
SEC("cgroup_skb/ingress")
__naked int ctx_cgroup_retval_unknown_good(void)
{
	asm volatile ("r0 = *(u32 *)(r1 + 0); r0 &= 1; exit;");
}
