// Raw tracepoint programs that compute on their u64 arguments without dereferencing them, so that
// BPF_PROG_TEST_RUN (which takes the arguments as ctx_in) and the emulator can run the same inputs.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} results SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

static void put(__u32 slot, __u64 v)
{
	bpf_map_update_elem(&results, &slot, &v, BPF_ANY);
}

SEC("raw_tp/mix")
int mix(__u64 *ctx)
{
	__u64 a = ctx[0], b = ctx[1], c = ctx[2];
	__s64 s = (__s64)b;
	__u64 r = a * 0x9e3779b97f4a7c15ULL ^ (b >> 7) ^ (c << 13);
	if (s < 0)
		r += (__u64)(-s) / (c | 1);
	else
		r -= b % ((a & 0xffff) | 1);
	put(0, r);
	put(1, (__u32)a + (__u32)b);
	return (__u32)(r >> 17);
}

/* Narrow loads: the kernel allows 1, 2 and 4-byte reads of an argument at aligned offsets. */
SEC("raw_tp/narrow")
int narrow(void *ctx)
{
	__u8 lo = *(__u8 *)ctx;
	__u16 half = *(__u16 *)(ctx + 10);
	__u32 word = *(__u32 *)(ctx + 4);
	put(2, ((__u64)word << 24) | ((__u64)half << 8) | lo);
	return lo + half + word;
}

struct loop_ctx {
	__u64 seed;
	__u64 acc;
	__u32 stop;
};

static long step(__u32 i, void *data)
{
	struct loop_ctx *l = data;
	l->acc = l->acc * 31 + (l->seed ^ i);
	return i == l->stop;
}

SEC("raw_tp/looped")
int looped(__u64 *ctx)
{
	struct loop_ctx l = { .seed = ctx[1], .acc = 7, .stop = (__u32)ctx[2] & 0x3f };
	long n = bpf_loop((__u32)ctx[0] & 0x7f, step, &l, 0);
	put(3, l.acc);
	return n;
}

/* Hash maps are walked in bucket order, which the kernel's random hash seed decides: sum, never stop. */
static long add_up(void *map, __u32 *key, __u64 *value, void *data)
{
	*(__u64 *)data += *key * 1000 + *value;
	return 0;
}

struct walk {
	__u32 stop;
	__u64 seen;
};

/* Arrays are walked in index order: stop at a given index. */
static long until(void *map, __u32 *key, __u64 *value, void *data)
{
	struct walk *w = data;
	w->seen = w->seen * 7 + *value;
	return *key == w->stop;
}

SEC("raw_tp/counted")
int counted(__u64 *ctx)
{
	__u64 sum = 0;
	for (int i = 0; i < 3; i++) {
		__u32 key = (ctx[i] >> (i * 4)) & 0xf;
		__u64 one = 1, *v = bpf_map_lookup_elem(&counts, &key);
		if (v)
			__sync_fetch_and_add(v, 1);
		else
			bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
	}
	long n = bpf_for_each_map_elem(&counts, add_up, &sum, 0);
	put(1, sum);
	struct walk w = { .stop = ctx[0] & 3 };
	long m = bpf_for_each_map_elem(&results, until, &w, 0);
	put(3, w.seen);
	return n * 16 + m;
}

char LICENSE[] SEC("license") = "GPL";
