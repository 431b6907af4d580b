// SPDX-License-Identifier: GPL-2.0
/*
 * Probe programs for the attach tests: a uprobe and a uretprobe on `int h_sum(int a, int b)` of a
 * small C program the tests build, which add up the calls, their arguments and their results and
 * send each call and return to the `calls` ring buffer, and a perf_event program counting the
 * samples of a software event. The probes read x86_64 pt_regs
 * (BPF_KPROBE: the libbpf 1.1 headers predate BPF_UPROBE, which is the same macro).
 */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <linux/bpf_perf_event.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct probe_totals {
	__u64 enter;
	__u64 exit;
	__u64 args;
	__u64 results;
	__u64 samples;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct probe_totals);
} totals SEC(".maps");

/* One call (kind 0, with its arguments) or return (kind 1, with its result) of h_sum. */
struct call_event {
	__u32 kind;
	__u32 pid;
	__s32 a;
	__s32 b;
	__s32 ret;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 65536);
} calls SEC(".maps");

/* Events are built here, which also puts their type in the object's BTF. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct call_event);
} call_scratch SEC(".maps");

static __always_inline void send(__u32 kind, __s32 a, __s32 b, __s32 ret)
{
	__u32 zero = 0;
	struct call_event *e = bpf_map_lookup_elem(&call_scratch, &zero);

	if (!e)
		return;
	e->kind = kind;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->a = a;
	e->b = b;
	e->ret = ret;
	bpf_ringbuf_output(&calls, e, sizeof(*e), 0);
}

static __always_inline struct probe_totals *get_totals(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&totals, &zero);
}

SEC("uprobe")
int BPF_KPROBE(sum_enter, int a, int b)
{
	struct probe_totals *t = get_totals();

	if (t) {
		__sync_fetch_and_add(&t->enter, 1);
		__sync_fetch_and_add(&t->args, (__u64)(a + b));
	}
	send(0, a, b, 0);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(sum_exit, int ret)
{
	struct probe_totals *t = get_totals();

	if (t) {
		__sync_fetch_and_add(&t->exit, 1);
		__sync_fetch_and_add(&t->results, (__u64)ret);
	}
	send(1, 0, 0, ret);
	return 0;
}

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx)
{
	struct probe_totals *t = get_totals();

	if (t)
		__sync_fetch_and_add(&t->samples, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
