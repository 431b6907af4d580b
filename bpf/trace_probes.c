// SPDX-License-Identifier: GPL-2.0
/*
 * Probe programs for the attach tests: a uprobe and a uretprobe on `int h_sum(int a, int b)` of a
 * small C program the tests build, which add up the calls, their arguments and their results, and
 * a perf_event program counting the samples of a software event. The probes read x86_64 pt_regs
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
