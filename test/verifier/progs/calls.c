/* bpf-to-bpf calls: each call opens a frame with r1-r5 as arguments and nothing else, pointers
 * into the caller's stack stay valid, the callee's own stack does not outlive it, and frames add
 * up. Global (non-static) functions are verified once, on their own, from their BTF prototype;
 * static ones are verified at each call with what the caller knows. */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[8]);
} vals SEC(".maps");

#define __sub static __naked __noinline __attribute__((used))

__sub void sub_void(void) { asm volatile ("r1 = 0; exit;"); }
__sub void sub_ret_r1(void) { asm volatile ("r0 = r1; exit;"); }
__sub void sub_ret_r6(void) { asm volatile ("r0 = r6; exit;"); }

/* A sub-program need not set r0; the entry program must, before its own exit. */
/* kernel: R0 !read_ok */
SEC("tc")
__naked int call_void_r0_bad(void) { asm volatile ("call sub_void; exit;"); }

/* kernel: loads */
SEC("tc")
__naked int call_void_r0_good(void) { asm volatile ("call sub_void; r0 = 0; exit;"); }

/* A callee sees only r1-r5 (and its own r10): the caller's r6 is not there. */
/* kernel: R6 !read_ok */
SEC("tc")
__naked int call_callee_saved_bad(void) { asm volatile ("r6 = 0; call sub_ret_r6; r0 = 0; exit;"); }

/* kernel: loads */
SEC("tc")
__naked int call_callee_saved_good(void) { asm volatile ("r6 = r1; r1 = 0; call sub_ret_r1; r0 = 0; exit;"); }

/* The caller's r1-r5 are gone after the call; r6-r9 survive. */
/* kernel: R2 !read_ok */
SEC("tc")
__naked int call_clobbers_bad(void) { asm volatile ("r2 = 1; r1 = 0; call sub_ret_r1; r0 = r2; exit;"); }

/* kernel: loads */
SEC("tc")
__naked int call_clobbers_good(void) { asm volatile ("r7 = 1; r1 = 0; call sub_ret_r1; r0 = r7; r0 = 0; exit;"); }

/* A callee may write through a pointer to its caller's stack, within the caller's frame. */
__sub void sub_store_r1_8(void) { asm volatile ("r2 = 0; *(u64 *)(r1 + 8) = r2; exit;"); }
__sub void sub_store_r1_0(void) { asm volatile ("r2 = 0; *(u64 *)(r1 + 0) = r2; exit;"); }

/* kernel: invalid write to stack R1 off=0 size=8 */
SEC("tc")
__naked int call_caller_stack_bad(void) { asm volatile ("r1 = r10; r1 += -8; call sub_store_r1_8; r0 = 0; exit;"); }

/* kernel: loads */
SEC("tc")
__naked int call_caller_stack_good(void) { asm volatile ("r1 = r10; r1 += -8; call sub_store_r1_0; r0 = *(u64 *)(r10 - 8); r0 = 0; exit;"); }

/* A callee's own stack is gone when it returns. */
__sub void sub_ret_own_stack(void) { asm volatile ("r0 = r10; r0 += -8; r1 = 0; *(u64 *)(r0 + 0) = r1; exit;"); }

/* kernel: cannot return stack pointer to the caller */
SEC("tc")
__naked int call_ret_stack_bad(void) { asm volatile ("call sub_ret_own_stack; r0 = 0; exit;"); }

/* Returning what the stack holds is fine. */
__sub void sub_ret_own_stack_value(void) { asm volatile ("r1 = 7; *(u64 *)(r10 - 8) = r1; r0 = *(u64 *)(r10 - 8); exit;"); }

/* kernel: loads */
SEC("tc")
__naked int call_ret_stack_good(void) { asm volatile ("call sub_ret_own_stack_value; r0 = 0; exit;"); }

/* Frames add up: 256 bytes here and 264 there pass 512. */
__sub void sub_stack_256(void) { asm volatile ("r1 = 0; *(u64 *)(r10 - 256) = r1; exit;"); }

/* kernel: combined stack size of 2 calls is */
SEC("tc")
__naked int call_stack_combined_bad(void) { asm volatile ("r1 = 0; *(u64 *)(r10 - 264) = r1; call sub_stack_256; r0 = 0; exit;"); }

/* kernel: loads */
SEC("tc")
__naked int call_stack_combined_good(void) { asm volatile ("r1 = 0; *(u64 *)(r10 - 256) = r1; call sub_stack_256; r0 = 0; exit;"); }

/* At most 8 frames: the entry program and 7 nested calls. */
__sub void sub_depth1(void) { asm volatile ("exit;"); }
__sub void sub_depth2(void) { asm volatile ("call sub_depth1; exit;"); }
__sub void sub_depth3(void) { asm volatile ("call sub_depth2; exit;"); }
__sub void sub_depth4(void) { asm volatile ("call sub_depth3; exit;"); }
__sub void sub_depth5(void) { asm volatile ("call sub_depth4; exit;"); }
__sub void sub_depth6(void) { asm volatile ("call sub_depth5; exit;"); }
__sub void sub_depth7(void) { asm volatile ("call sub_depth6; exit;"); }
__sub void sub_depth8(void) { asm volatile ("call sub_depth7; exit;"); }

/* kernel: the call stack of 9 frames is too deep */
SEC("tc")
__naked int call_depth_bad(void) { asm volatile ("call sub_depth8; r0 = 0; exit;"); }

/* kernel: loads */
SEC("tc")
__naked int call_depth_good(void) { asm volatile ("call sub_depth7; r0 = 0; exit;"); }

/* A function that calls itself: the kernel follows the calls until the frames run out. */
__sub void sub_recurse(void) { asm volatile ("if r1 == 0 goto l0_%=; r1 -= 1; call sub_recurse; l0_%=: exit;" ::); }

/* kernel: the call stack of 8 frames is too deep */
SEC("tc")
__naked int call_recursion_bad(void) { asm volatile ("r1 = 3; call sub_recurse; r0 = 0; exit;"); }

/* kernel: loads */
SEC("tc")
__naked int call_recursion_good(void) { asm volatile ("r1 = 3; call sub_ret_r1; r0 = 0; exit;"); }

/* A global function's pointer argument may be NULL: the function must check it. */
__noinline int global_deref(int *p)
{
	return *p;
}

__noinline int global_deref_checked(int *p)
{
	return p ? *p : 0;
}

/* kernel: R1 invalid mem access 'mem_or_null' */
SEC("tc")
int global_ptr_null_bad(struct __sk_buff *skb)
{
	int x = skb->mark;

	return global_deref(&x) ? TC_ACT_SHOT : TC_ACT_OK;
}

/* kernel: loads */
SEC("tc")
int global_ptr_null_good(struct __sk_buff *skb)
{
	int x = skb->mark;

	return global_deref_checked(&x) ? TC_ACT_SHOT : TC_ACT_OK;
}

/* What the caller proved about an argument does not reach a global function... */
__noinline int global_index(__u32 i)
{
	__u32 zero = 0;
	char *v = bpf_map_lookup_elem(&vals, &zero);

	return v ? v[i] : 0;
}

/* ... but reaches a static one, verified at the call with the caller's bounds. */
static __noinline int static_index(__u32 i)
{
	__u32 zero = 0;
	char *v = bpf_map_lookup_elem(&vals, &zero);

	return v ? v[i] : 0;
}

/* kernel: unbounded memory access */
SEC("tc")
int global_caller_bounds_bad(struct __sk_buff *skb)
{
	__u32 i = skb->mark;

	if (i >= 8)
		return TC_ACT_OK;
	return global_index(i) ? TC_ACT_SHOT : TC_ACT_OK;
}

/* kernel: loads */
SEC("tc")
int global_caller_bounds_good(struct __sk_buff *skb)
{
	__u32 i = skb->mark;

	if (i >= 8)
		return TC_ACT_OK;
	return static_index(i) ? TC_ACT_SHOT : TC_ACT_OK;
}

/* A global function's context argument must get the context. */
__noinline int global_len(struct __sk_buff *skb)
{
	return skb->len;
}

/* kernel: arg#0 expects pointer to ctx */
SEC("tc")
__naked int global_ctx_arg_bad(void) { asm volatile ("r1 = r10; r1 += -8; call global_len; r0 = 0; exit;"); }

/* kernel: loads */
SEC("tc")
__naked int global_ctx_arg_good(void) { asm volatile ("call global_len; r0 = 0; exit;"); }

/* A global function's packet access is checked on its own, whatever the caller checked. */
__noinline int global_first_byte(struct __sk_buff *skb)
{
	unsigned char *data = (void *)(long)skb->data;

	return data[0];
}

__noinline int global_first_byte_checked(struct __sk_buff *skb)
{
	unsigned char *data = (void *)(long)skb->data;

	if (data + 1 > (unsigned char *)(long)skb->data_end)
		return 0;
	return data[0];
}

/* kernel: invalid access to packet */
SEC("tc")
int global_pkt_bad(struct __sk_buff *skb)
{
	if ((void *)(long)skb->data + 1 > (void *)(long)skb->data_end)
		return TC_ACT_OK;
	return global_first_byte(skb) ? TC_ACT_SHOT : TC_ACT_OK;
}

/* kernel: loads */
SEC("tc")
int global_pkt_good(struct __sk_buff *skb)
{
	return global_first_byte_checked(skb) ? TC_ACT_SHOT : TC_ACT_OK;
}
