// SPDX-License-Identifier: GPL-2.0
/*
 * Emits a known number of records through a perf event array and a BPF ring buffer, for the
 * readers' tests: each getppid() of the process whose tgid is in trace_config emits `per_hit`
 * records of `size` bytes. A record starts with its sequence number, its length, the pid and the
 * CPU; word i after them is i * 0x9e3779b1, except the last, which is ~seq: a reader can tell a
 * complete record from a torn one. Outputs the kernel refuses (ring full) are counted in `counters`.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define MAX_RECORD 4096

struct trace_config {
	__u32 tgid;
	__u32 per_hit;
	__u32 size;
	/* Ring buffer only: every discard_every-th record is reserved and discarded instead. */
	__u32 discard_every;
};

struct event {
	__u32 seq;
	__u32 len;
	__u32 pid;
	__u32 cpu;
	__u32 words[(MAX_RECORD - 16) / 4];
};

enum { PERF_SENT, PERF_FAILED, RING_SENT, RING_FAILED, RING_DISCARDED, PERF_SEQ, RING_SEQ, NR_COUNTERS };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct trace_config);
} trace_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	/* One slot per CPU; fixed rather than left 0 so that the map is the same on every machine. */
	__uint(max_entries, 128);
} perf_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16384);
} ring_events SEC(".maps");

/* Adds one to a counter; returns its value before, or -1 when the map has no such slot. */
static __always_inline __s64 count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);

	if (!c)
		return -1;
	return __sync_fetch_and_add(c, 1);
}

/* The scratch record, its pattern written; NULL when the map has none. */
static __always_inline struct event *scratch_event(__u32 size)
{
	__u32 zero = 0;
	struct event *e = bpf_map_lookup_elem(&scratch, &zero);

	if (!e)
		return 0;
	for (__u32 i = 0; i < (MAX_RECORD - 16) / 4; i++) {
		if (i * 4 + 16 >= size)
			break;
		e->words[i] = i * 0x9e3779b1u;
	}
	e->len = size;
	e->pid = bpf_get_current_pid_tgid();
	e->cpu = bpf_get_smp_processor_id();
	return e;
}

/* Stamps record `seq` into the scratch record: its number first, its complement last. */
static __always_inline void stamp(struct event *e, __u32 seq, __u32 size)
{
	e->seq = seq;
	if (size > 16)
		*(__u32 *)((char *)e + ((size - 4) & (MAX_RECORD - 4))) = ~seq;
}

static __always_inline struct trace_config *config(void)
{
	__u32 zero = 0;
	struct trace_config *cfg = bpf_map_lookup_elem(&trace_config, &zero);

	if (!cfg || cfg->tgid != bpf_get_current_pid_tgid() >> 32)
		return 0;
	return cfg;
}

static __always_inline __u32 record_size(struct trace_config *cfg)
{
	__u32 size = cfg->size;

	if (size < 16)
		size = 16;
	if (size > MAX_RECORD)
		size = MAX_RECORD;
	return size;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int emit_perf(void *ctx)
{
	struct trace_config *cfg = config();

	if (!cfg)
		return 0;
	__u32 size = record_size(cfg);
	__u32 n = cfg->per_hit;
	struct event *e = scratch_event(size);

	if (!e)
		return 0;
	for (__u32 k = 0; k < 64 && k < n; k++) {
		__s64 seq = count(PERF_SEQ);

		if (seq < 0)
			return 0;
		stamp(e, seq, size);
		if (bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, e, size & (MAX_RECORD * 2 - 1)) == 0)
			count(PERF_SENT);
		else
			count(PERF_FAILED);
	}
	return 0;
}

/* libbpf's short form of the same section, so each program has a section of its own. */
SEC("tp/syscalls/sys_enter_getppid")
int emit_ringbuf(void *ctx)
{
	struct trace_config *cfg = config();

	if (!cfg)
		return 0;
	__u32 size = record_size(cfg);
	__u32 n = cfg->per_hit;
	struct event *e = scratch_event(size);

	if (!e)
		return 0;
	for (__u32 k = 0; k < 64 && k < n; k++) {
		__s64 seq = count(RING_SEQ);

		if (seq < 0)
			return 0;
		if (cfg->discard_every && seq % cfg->discard_every == 0) {
			struct event *r = bpf_ringbuf_reserve(&ring_events, 64, 0);

			if (!r) {
				count(RING_FAILED);
				continue;
			}
			r->seq = seq;
			r->len = 64;
			bpf_ringbuf_discard(r, 0);
			count(RING_DISCARDED);
			continue;
		}
		stamp(e, seq, size);
		if (bpf_ringbuf_output(&ring_events, e, size & (MAX_RECORD * 2 - 1), 0) == 0)
			count(RING_SENT);
		else
			count(RING_FAILED);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
