/* Ring buffer records are references: a reserved record must be submitted or discarded on every
 * path, exactly once, and is written only within the size reserved. */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} vals SEC(".maps");

struct event {
	__u64 time;
	__u32 pid;
	__u32 pad;
};

/* A reservation may fail. */
/* kernel: invalid mem access 'ringbuf_mem_or_null' */
SEC("tracepoint/syscalls/sys_enter_nanosleep")
int rb_null_check_bad(void *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);

	opaque(e)->time = bpf_ktime_get_ns();
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* kernel: loads */
SEC("tracepoint/syscalls/sys_enter_nanosleep")
int rb_null_check_good(void *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);

	if (!e)
		return 0;
	e->time = bpf_ktime_get_ns();
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* Reserved and never given back. */
/* kernel: Unreleased reference */
SEC("tracepoint/syscalls/sys_enter_nanosleep")
int rb_leak_bad(void *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);

	if (!e)
		return 0;
	e->time = bpf_ktime_get_ns();
	return 0;
}

/* kernel: loads */
SEC("tracepoint/syscalls/sys_enter_nanosleep")
int rb_leak_good(void *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);

	if (!e)
		return 0;
	e->time = bpf_ktime_get_ns();
	bpf_ringbuf_discard(e, 0);
	return 0;
}

/* Given back on one path only. */
/* kernel: Unreleased reference */
SEC("tracepoint/syscalls/sys_enter_nanosleep")
int rb_leak_one_path_bad(void *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);

	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	if (e->pid == 1)
		return 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* kernel: loads */
SEC("tracepoint/syscalls/sys_enter_nanosleep")
int rb_leak_one_path_good(void *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);

	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	if (e->pid == 1) {
		bpf_ringbuf_discard(e, 0);
		return 0;
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* Written past the reserved size. */
/* kernel: invalid access to memory, mem_size=16 off=16 size=4 */
SEC("tracepoint/syscalls/sys_enter_nanosleep")
__naked int rb_past_end_bad(void)
{
	asm volatile ("					\
	r1 = %[rb] ll;					\
	r2 = 16;					\
	r3 = 0;						\
	call %[bpf_ringbuf_reserve];			\
	if r0 == 0 goto l0_%=;				\
	r1 = 0;						\
	*(u32 *)(r0 + 16) = r1;				\
	r1 = r0;					\
	r2 = 0;						\
	call %[bpf_ringbuf_submit];			\
l0_%=:	r0 = 0;						\
	exit;						\
"	:: __imm_addr(rb), __imm(bpf_ringbuf_reserve), __imm(bpf_ringbuf_submit));
}

/* kernel: loads */
SEC("tracepoint/syscalls/sys_enter_nanosleep")
__naked int rb_past_end_good(void)
{
	asm volatile ("					\
	r1 = %[rb] ll;					\
	r2 = 16;					\
	r3 = 0;						\
	call %[bpf_ringbuf_reserve];			\
	if r0 == 0 goto l0_%=;				\
	r1 = 0;						\
	*(u32 *)(r0 + 12) = r1;				\
	r1 = r0;					\
	r2 = 0;						\
	call %[bpf_ringbuf_submit];			\
l0_%=:	r0 = 0;						\
	exit;						\
"	:: __imm_addr(rb), __imm(bpf_ringbuf_reserve), __imm(bpf_ringbuf_submit));
}

/* The size of a reservation must be a known constant. */
/* kernel: R2 is not a known constant' */
SEC("tracepoint/syscalls/sys_enter_nanosleep")
__naked int rb_var_size_bad(void)
{
	asm volatile ("					\
	call %[bpf_get_prandom_u32];			\
	r2 = r0;					\
	r2 &= 63;					\
	r1 = %[rb] ll;					\
	r3 = 0;						\
	call %[bpf_ringbuf_reserve];			\
	if r0 == 0 goto l0_%=;				\
	r1 = r0;					\
	r2 = 0;						\
	call %[bpf_ringbuf_discard];			\
l0_%=:	r0 = 0;						\
	exit;						\
"	:: __imm_addr(rb), __imm(bpf_ringbuf_reserve), __imm(bpf_ringbuf_discard), __imm(bpf_get_prandom_u32));
}

/* kernel: loads */
SEC("tracepoint/syscalls/sys_enter_nanosleep")
__naked int rb_var_size_good(void)
{
	asm volatile ("					\
	r1 = %[rb] ll;					\
	r2 = 64;					\
	r3 = 0;						\
	call %[bpf_ringbuf_reserve];			\
	if r0 == 0 goto l0_%=;				\
	r1 = r0;					\
	r2 = 0;						\
	call %[bpf_ringbuf_discard];			\
l0_%=:	r0 = 0;						\
	exit;						\
"	:: __imm_addr(rb), __imm(bpf_ringbuf_reserve), __imm(bpf_ringbuf_discard));
}

/* Only a reserved record can be submitted. */
/* kernel: R1 type=fp expected=ringbuf_mem */
SEC("tracepoint/syscalls/sys_enter_nanosleep")
__naked int rb_submit_stack_bad(void)
{
	asm volatile ("r1 = r10; r1 += -16; r2 = 0; call %[bpf_ringbuf_submit]; r0 = 0; exit;" :: __imm(bpf_ringbuf_submit));
}

/* Copying from the stack is what bpf_ringbuf_output is for. */
/* kernel: loads */
SEC("tracepoint/syscalls/sys_enter_nanosleep")
__naked int rb_submit_stack_good(void)
{
	asm volatile ("					\
	r1 = 0;						\
	*(u64 *)(r10 - 16) = r1;			\
	*(u64 *)(r10 - 8) = r1;				\
	r1 = %[rb] ll;					\
	r2 = r10;					\
	r2 += -16;					\
	r3 = 16;					\
	r4 = 0;						\
	call %[bpf_ringbuf_output];			\
	r0 = 0;						\
	exit;						\
"	:: __imm_addr(rb), __imm(bpf_ringbuf_output));
}

/* A submitted record is gone: every copy of the pointer is invalid. */
/* kernel: R6 invalid mem access 'scalar' */
SEC("tracepoint/syscalls/sys_enter_nanosleep")
__naked int rb_use_after_submit_bad(void)
{
	asm volatile ("					\
	r1 = %[rb] ll;					\
	r2 = 16;					\
	r3 = 0;						\
	call %[bpf_ringbuf_reserve];			\
	if r0 == 0 goto l0_%=;				\
	r6 = r0;					\
	r1 = r0;					\
	r2 = 0;						\
	call %[bpf_ringbuf_submit];			\
	r1 = 0;						\
	*(u64 *)(r6 + 0) = r1;				\
l0_%=:	r0 = 0;						\
	exit;						\
"	:: __imm_addr(rb), __imm(bpf_ringbuf_reserve), __imm(bpf_ringbuf_submit));
}

/* kernel: loads */
SEC("tracepoint/syscalls/sys_enter_nanosleep")
__naked int rb_use_after_submit_good(void)
{
	asm volatile ("					\
	r1 = %[rb] ll;					\
	r2 = 16;					\
	r3 = 0;						\
	call %[bpf_ringbuf_reserve];			\
	if r0 == 0 goto l0_%=;				\
	r6 = r0;					\
	r1 = 0;						\
	*(u64 *)(r6 + 0) = r1;				\
	r1 = r0;					\
	r2 = 0;						\
	call %[bpf_ringbuf_submit];			\
l0_%=:	r0 = 0;						\
	exit;						\
"	:: __imm_addr(rb), __imm(bpf_ringbuf_reserve), __imm(bpf_ringbuf_submit));
}

/* Submitting twice: the second time the pointer is not a record any more. */
/* kernel: R1 type=scalar expected=ringbuf_mem */
SEC("tracepoint/syscalls/sys_enter_nanosleep")
__naked int rb_double_submit_bad(void)
{
	asm volatile ("					\
	r1 = %[rb] ll;					\
	r2 = 16;					\
	r3 = 0;						\
	call %[bpf_ringbuf_reserve];			\
	if r0 == 0 goto l0_%=;				\
	r6 = r0;					\
	r1 = r0;					\
	r2 = 0;						\
	call %[bpf_ringbuf_submit];			\
	r1 = r6;					\
	r2 = 0;						\
	call %[bpf_ringbuf_submit];			\
l0_%=:	r0 = 0;						\
	exit;						\
"	:: __imm_addr(rb), __imm(bpf_ringbuf_reserve), __imm(bpf_ringbuf_submit));
}

/* kernel: loads */
SEC("tracepoint/syscalls/sys_enter_nanosleep")
__naked int rb_double_submit_good(void)
{
	asm volatile ("					\
	r1 = %[rb] ll;					\
	r2 = 16;					\
	r3 = 0;						\
	call %[bpf_ringbuf_reserve];			\
	if r0 == 0 goto l0_%=;				\
	r1 = r0;					\
	r2 = 0;						\
	call %[bpf_ringbuf_submit];			\
l0_%=:	r0 = 0;						\
	exit;						\
"	:: __imm_addr(rb), __imm(bpf_ringbuf_reserve), __imm(bpf_ringbuf_submit));
}

/* Reserving from a map that is not a ring buffer. */
/* kernel: cannot pass map_type 2 into func bpf_ringbuf_reserve#131 */
SEC("tracepoint/syscalls/sys_enter_nanosleep")
int rb_wrong_map_bad(void *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&vals, sizeof(*e), 0);

	if (e)
		bpf_ringbuf_discard(e, 0);
	return 0;
}

/* kernel: loads */
SEC("tracepoint/syscalls/sys_enter_nanosleep")
int rb_wrong_map_good(void *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);

	if (e)
		bpf_ringbuf_discard(e, 0);
	return 0;
}

/* A record passed to a helper as a buffer, within its size. */
/* kernel: invalid access to memory, mem_size=16 off=0 size=32 */
SEC("tracepoint/syscalls/sys_enter_nanosleep")
int rb_as_buffer_bad(void *ctx)
{
	char *e = bpf_ringbuf_reserve(&rb, 16, 0);

	if (!e)
		return 0;
	bpf_get_current_comm(e, 32);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* kernel: loads */
SEC("tracepoint/syscalls/sys_enter_nanosleep")
int rb_as_buffer_good(void *ctx)
{
	char *e = bpf_ringbuf_reserve(&rb, 16, 0);

	if (!e)
		return 0;
	bpf_get_current_comm(e, 16);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
