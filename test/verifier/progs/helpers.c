/* Helper arguments: each argument has a type (context, map, pointer to memory of a given size,
 * constant size, ...) checked against the register's state at the call. */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} vals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

#define LEN offsetof(struct __sk_buff, len)

/* The size of a read must be bounded above. */
/* kernel: R2 unbounded memory access, use 'var &= const' or 'if (var < const)' */
SEC("kprobe/do_nanosleep")
__naked int helper_size_unbounded_bad(void)
{
	asm volatile ("					\
	r3 = r1;					\
	call %[bpf_get_prandom_u32];			\
	r2 = r0;					\
	r2 <<= 32;					\
	r2 >>= 32;					\
	r1 = r10;					\
	r1 += -64;					\
	call %[bpf_probe_read_kernel];			\
	r0 = 0;						\
	exit;						\
"	:: __imm(bpf_probe_read_kernel), __imm(bpf_get_prandom_u32));
}

/* kernel: loads */
SEC("kprobe/do_nanosleep")
__naked int helper_size_unbounded_good(void)
{
	asm volatile ("					\
	r6 = r1;					\
	call %[bpf_get_prandom_u32];			\
	r2 = r0;					\
	r2 &= 63;					\
	r3 = r6;					\
	r1 = r10;					\
	r1 += -64;					\
	call %[bpf_probe_read_kernel];			\
	r0 = 0;						\
	exit;						\
"	:: __imm(bpf_probe_read_kernel), __imm(bpf_get_prandom_u32));
}

/* ... and not negative. */
/* kernel: R2 min value is negative, either use unsigned or 'var &= const' */
SEC("kprobe/do_nanosleep")
__naked int helper_size_negative_bad(void)
{
	asm volatile ("					\
	r6 = r1;					\
	call %[bpf_get_prandom_u32];			\
	r2 = r0;					\
	r2 <<= 32;					\
	r2 s>>= 32;					\
	if r2 s> 63 goto l0_%=;				\
	r3 = r6;					\
	r1 = r10;					\
	r1 += -64;					\
	call %[bpf_probe_read_kernel];			\
l0_%=:	r0 = 0;						\
	exit;						\
"	:: __imm(bpf_probe_read_kernel), __imm(bpf_get_prandom_u32));
}

/* kernel: loads */
SEC("kprobe/do_nanosleep")
__naked int helper_size_negative_good(void)
{
	asm volatile ("					\
	r6 = r1;					\
	call %[bpf_get_prandom_u32];			\
	r2 = r0;					\
	r2 <<= 32;					\
	r2 s>>= 32;					\
	if r2 s> 63 goto l0_%=;				\
	if r2 s< 0 goto l0_%=;				\
	r3 = r6;					\
	r1 = r10;					\
	r1 += -64;					\
	call %[bpf_probe_read_kernel];			\
l0_%=:	r0 = 0;						\
	exit;						\
"	:: __imm(bpf_probe_read_kernel), __imm(bpf_get_prandom_u32));
}

/* The buffer must hold as many bytes as the size may be. */
/* kernel: invalid write to stack R1 off=-32 size=64 */
SEC("kprobe/do_nanosleep")
__naked int helper_size_too_big_bad(void)
{
	asm volatile ("r3 = r1; r1 = r10; r1 += -32; r2 = 64; call %[bpf_probe_read_kernel]; r0 = 0; exit;" :: __imm(bpf_probe_read_kernel));
}

/* kernel: loads */
SEC("kprobe/do_nanosleep")
__naked int helper_size_too_big_good(void)
{
	asm volatile ("r3 = r1; r1 = r10; r1 += -32; r2 = 32; call %[bpf_probe_read_kernel]; r0 = 0; exit;" :: __imm(bpf_probe_read_kernel));
}

/* A map value as the buffer: it must fit in value_size. */
/* kernel: invalid access to map value, value_size=8 off=0 size=16 */
SEC("kprobe/do_nanosleep")
__naked int helper_map_buf_bad(void)
{
	asm volatile ("					\
	r6 = r1;					\
	r1 = 0;						\
	*(u32 *)(r10 - 4) = r1;				\
	r2 = r10;					\
	r2 += -4;					\
	r1 = %[vals] ll;				\
	call %[bpf_map_lookup_elem];			\
	r1 = r0;					\
	r2 = 16;					\
	r3 = r6;					\
	call %[bpf_probe_read_kernel];			\
	r0 = 0;						\
	exit;						\
"	:: __imm(bpf_probe_read_kernel), __imm(bpf_map_lookup_elem), __imm_addr(vals));
}

/* kernel: loads */
SEC("kprobe/do_nanosleep")
__naked int helper_map_buf_good(void)
{
	asm volatile ("					\
	r6 = r1;					\
	r1 = 0;						\
	*(u32 *)(r10 - 4) = r1;				\
	r2 = r10;					\
	r2 += -4;					\
	r1 = %[vals] ll;				\
	call %[bpf_map_lookup_elem];			\
	r1 = r0;					\
	r2 = 8;						\
	r3 = r6;					\
	call %[bpf_probe_read_kernel];			\
	r0 = 0;						\
	exit;						\
"	:: __imm(bpf_probe_read_kernel), __imm(bpf_map_lookup_elem), __imm_addr(vals));
}

/* A size argument that must not be zero (ARG_CONST_SIZE, not _OR_ZERO). */
/* kernel: R4 invalid zero-sized read */
SEC("tc")
__naked int helper_size_zero_bad(void)
{
	asm volatile ("r2 = 0; r3 = r10; r3 += -8; r4 = 0; call %[bpf_skb_load_bytes]; r0 = 0; exit;" :: __imm(bpf_skb_load_bytes));
}

/* kernel: loads */
SEC("tc")
__naked int helper_size_zero_good(void)
{
	asm volatile ("r2 = 0; r3 = r10; r3 += -8; r4 = 8; call %[bpf_skb_load_bytes]; r0 = 0; exit;" :: __imm(bpf_skb_load_bytes));
}

/* The context argument must be the context. */
/* kernel: R1 type=fp expected=ctx */
SEC("tc")
__naked int helper_ctx_arg_bad(void)
{
	asm volatile ("r1 = r10; r2 = 0; r3 = r10; r3 += -8; r4 = 8; call %[bpf_skb_load_bytes]; r0 = 0; exit;" :: __imm(bpf_skb_load_bytes));
}

/* kernel: loads */
SEC("tc")
__naked int helper_ctx_arg_good(void)
{
	asm volatile ("r2 = 0; r3 = r10; r3 += -8; r4 = 4; call %[bpf_skb_load_bytes]; r0 = 0; exit;" :: __imm(bpf_skb_load_bytes));
}

/* The map argument must be a map. */
/* kernel: R1 type=scalar expected=map_ptr */
SEC("tc")
__naked int helper_map_arg_bad(void)
{
	asm volatile ("r1 = 0; r2 = r10; r2 += -8; *(u64 *)(r10 - 8) = r1; call %[bpf_map_lookup_elem]; r0 = 0; exit;" :: __imm(bpf_map_lookup_elem));
}

/* kernel: loads */
SEC("tc")
__naked int helper_map_arg_good(void)
{
	asm volatile ("r1 = 0; *(u64 *)(r10 - 8) = r1; r2 = r10; r2 += -8; r1 = %[vals] ll; call %[bpf_map_lookup_elem]; r0 = 0; exit;"
		      :: __imm(bpf_map_lookup_elem), __imm_addr(vals));
}

/* Each helper takes only the map types it works on. */
/* kernel: cannot pass map_type 2 into func bpf_perf_event_output#25 */
SEC("tc")
__naked int helper_map_type_bad(void)
{
	asm volatile ("r2 = %[vals] ll; r3 = 0xffffffff ll; r4 = r10; r4 += -8; r5 = 0; *(u64 *)(r10 - 8) = r5; r5 = 8; call %[bpf_perf_event_output]; r0 = 0; exit;"
		      :: __imm(bpf_perf_event_output), __imm_addr(vals));
}

/* kernel: loads */
SEC("tc")
__naked int helper_map_type_good(void)
{
	asm volatile ("r2 = %[events] ll; r3 = 0xffffffff ll; r4 = r10; r4 += -8; r5 = 0; *(u64 *)(r10 - 8) = r5; r5 = 8; call %[bpf_perf_event_output]; r0 = 0; exit;"
		      :: __imm(bpf_perf_event_output), __imm_addr(events));
}

/* A packet buffer passed to a helper must be proven like a direct access. */
/* kernel: invalid access to packet */
SEC("tc")
__naked int helper_pkt_buf_bad(void)
{
	asm volatile ("					\
	r2 = *(u32 *)(r1 + %[data]);			\
	r1 = r2;					\
	r2 = 4;						\
	r3 = 0;						\
	r4 = 0;						\
	r5 = 0;						\
	call %[bpf_csum_diff];				\
	r0 = 0;						\
	exit;						\
"	:: __imm(bpf_csum_diff), __imm_const(data, offsetof(struct __sk_buff, data)));
}

/* kernel: loads */
SEC("tc")
__naked int helper_pkt_buf_good(void)
{
	asm volatile ("					\
	r2 = *(u32 *)(r1 + %[data]);			\
	r3 = *(u32 *)(r1 + %[data_end]);		\
	r0 = 0;						\
	r4 = r2;					\
	r4 += 4;					\
	if r4 > r3 goto l0_%=;				\
	r1 = r2;					\
	r2 = 4;						\
	r3 = 0;						\
	r4 = 0;						\
	r5 = 0;						\
	call %[bpf_csum_diff];				\
	r0 = 0;						\
l0_%=:	exit;						\
"	:: __imm(bpf_csum_diff), __imm_const(data, offsetof(struct __sk_buff, data)),
	   __imm_const(data_end, offsetof(struct __sk_buff, data_end)));
}

/* A helper's result is a scalar, not a pointer. */
/* kernel: R0 invalid mem access 'scalar' */
SEC("tc")
__naked int helper_ret_scalar_bad(void)
{
	asm volatile ("call %[bpf_get_prandom_u32]; r0 = *(u32 *)(r0 + 0); r0 = 0; exit;" :: __imm(bpf_get_prandom_u32));
}

/* kernel: loads */
SEC("tc")
__naked int helper_ret_scalar_good(void)
{
	asm volatile ("call %[bpf_get_prandom_u32]; r0 &= 1; exit;" :: __imm(bpf_get_prandom_u32));
}

/* bpf_loop's callback must return 0 or 1. */
static __noinline int loop_cb_two(__u32 i, void *ctx) { return opaque(2); }
static __noinline int loop_cb_zero(__u32 i, void *ctx) { return 0; }

/* kernel: At callback return the register R0 has */
SEC("tc")
int helper_loop_cb_ret_bad(struct __sk_buff *skb)
{
	bpf_loop(4, loop_cb_two, 0, 0);
	return TC_ACT_OK;
}

/* kernel: loads */
SEC("tc")
int helper_loop_cb_ret_good(struct __sk_buff *skb)
{
	bpf_loop(4, loop_cb_zero, 0, 0);
	return TC_ACT_OK;
}

/* The callback's context is whatever the caller passed: here nothing. */
static __noinline int loop_cb_read(__u32 i, __u64 *ctx) { return *ctx & 1; }

/* kernel: R2 invalid mem access 'scalar' */
SEC("tc")
int helper_loop_ctx_bad(struct __sk_buff *skb)
{
	bpf_loop(4, loop_cb_read, 0, 0);
	return TC_ACT_OK;
}

/* kernel: loads */
SEC("tc")
int helper_loop_ctx_good(struct __sk_buff *skb)
{
	__u64 x = 0;

	bpf_loop(4, loop_cb_read, &x, 0);
	return TC_ACT_OK;
}
