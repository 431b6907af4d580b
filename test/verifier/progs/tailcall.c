/* Tail calls: through a program array only, with the context, holding no references, and from a
 * sub-program only when the frames below it are small. */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} jmp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} vals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

/* kernel: loads */
SEC("tc")
int tail_map_type_good(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jmp, 1);
	return TC_ACT_OK;
}

/* kernel: expected prog array map for tail call */
SEC("tc")
int tail_map_type_bad(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &vals, 1);
	return TC_ACT_OK;
}

/* The first argument is the context. */
/* kernel: R1 type=fp expected=ctx */
SEC("tc")
__naked int tail_ctx_bad(void)
{
	asm volatile ("r1 = r10; r2 = %[jmp] ll; r3 = 0; call %[bpf_tail_call]; r0 = 0; exit;" :: __imm_addr(jmp), __imm(bpf_tail_call));
}

/* kernel: loads */
SEC("tc")
__naked int tail_ctx_good(void)
{
	asm volatile ("r2 = %[jmp] ll; r3 = 0; call %[bpf_tail_call]; r0 = 0; exit;" :: __imm_addr(jmp), __imm(bpf_tail_call));
}

/* A tail call never returns: a reserved record would never be released. */
/* kernel: tail_call would lead to reference leak */
SEC("tc")
int tail_ref_leak_bad(struct __sk_buff *skb)
{
	__u64 *e = bpf_ringbuf_reserve(&rb, 8, 0);

	if (!e)
		return TC_ACT_OK;
	*e = skb->len;
	bpf_tail_call(skb, &jmp, 0);
	bpf_ringbuf_submit(e, 0);
	return TC_ACT_OK;
}

/* kernel: loads */
SEC("tc")
int tail_ref_leak_good(struct __sk_buff *skb)
{
	__u64 *e = bpf_ringbuf_reserve(&rb, 8, 0);

	if (!e)
		return TC_ACT_OK;
	*e = skb->len;
	bpf_ringbuf_submit(e, 0);
	bpf_tail_call(skb, &jmp, 0);
	return TC_ACT_OK;
}

/* From a sub-program, the frames below must use at most 256 bytes of stack. */
static __naked __noinline __attribute__((used)) int sub_tail(void)
{
	asm volatile ("r2 = %[jmp] ll; r3 = 0; call %[bpf_tail_call]; r0 = 0; exit;" :: __imm_addr(jmp), __imm(bpf_tail_call));
}

/* kernel: tail_calls are not allowed when call stack of previous frames is */
SEC("tc")
__naked int tail_subprog_stack_bad(void)
{
	asm volatile ("r2 = 0; *(u64 *)(r10 - 264) = r2; call sub_tail; r0 = 0; exit;");
}

/* kernel: loads */
SEC("tc")
__naked int tail_subprog_stack_good(void)
{
	asm volatile ("r2 = 0; *(u64 *)(r10 - 64) = r2; call sub_tail; r0 = 0; exit;");
}
