/* bpf_spin_lock: a lock inside a map value, taken and released on the same path, one at a time,
 * with no calls in between and no direct access to the lock word. */
#include "common.h"

struct locked {
	struct bpf_spin_lock lock;
	__u32 count;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct locked);
} locks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} counts SEC(".maps");

static __always_inline struct locked *slot(__u32 k)
{
	return bpf_map_lookup_elem(&locks, &k);
}

/* kernel: loads */
SEC("tc")
int lock_unlock_good(struct __sk_buff *skb)
{
	struct locked *l = slot(0);

	if (!l)
		return TC_ACT_OK;
	bpf_spin_lock(&l->lock);
	l->count++;
	bpf_spin_unlock(&l->lock);
	return TC_ACT_OK;
}

/* Leaving with the lock held. */
/* kernel: bpf_spin_lock-ed region */
SEC("tc")
int lock_unlock_bad(struct __sk_buff *skb)
{
	struct locked *l = slot(0);

	if (!l)
		return TC_ACT_OK;
	bpf_spin_lock(&l->lock);
	l->count++;
	return TC_ACT_OK;
}

/* No helper calls while holding it. */
/* kernel: function calls are not allowed while holding a lock */
SEC("tc")
int lock_call_inside_bad(struct __sk_buff *skb)
{
	struct locked *l = slot(0);

	if (!l)
		return TC_ACT_OK;
	bpf_spin_lock(&l->lock);
	l->count = bpf_get_prandom_u32();
	bpf_spin_unlock(&l->lock);
	return TC_ACT_OK;
}

/* kernel: loads */
SEC("tc")
int lock_call_inside_good(struct __sk_buff *skb)
{
	struct locked *l = slot(0);
	__u32 r = bpf_get_prandom_u32();

	if (!l)
		return TC_ACT_OK;
	bpf_spin_lock(&l->lock);
	l->count = r;
	bpf_spin_unlock(&l->lock);
	return TC_ACT_OK;
}

/* One lock at a time: taking a second is a call made while holding the first. */
/* kernel: function calls are not allowed while holding a lock */
SEC("tc")
int lock_two_bad(struct __sk_buff *skb)
{
	struct locked *a = slot(0), *b = slot(1);

	if (!a || !b)
		return TC_ACT_OK;
	bpf_spin_lock(&a->lock);
	bpf_spin_lock(&b->lock);
	b->count = a->count;
	bpf_spin_unlock(&b->lock);
	bpf_spin_unlock(&a->lock);
	return TC_ACT_OK;
}

/* kernel: loads */
SEC("tc")
int lock_two_good(struct __sk_buff *skb)
{
	struct locked *a = slot(0), *b = slot(1);
	__u32 n;

	if (!a || !b)
		return TC_ACT_OK;
	bpf_spin_lock(&a->lock);
	n = a->count;
	bpf_spin_unlock(&a->lock);
	bpf_spin_lock(&b->lock);
	b->count = n;
	bpf_spin_unlock(&b->lock);
	return TC_ACT_OK;
}

/* Unlocking what was never locked. */
/* kernel: bpf_spin_unlock without taking a lock */
SEC("tc")
int lock_unlock_only_bad(struct __sk_buff *skb)
{
	struct locked *l = slot(0);

	if (!l)
		return TC_ACT_OK;
	l->count++;
	bpf_spin_unlock(&l->lock);
	return TC_ACT_OK;
}

/* kernel: loads */
SEC("tc")
int lock_unlock_only_good(struct __sk_buff *skb)
{
	struct locked *l = slot(0);

	if (!l)
		return TC_ACT_OK;
	l->count++;
	return TC_ACT_OK;
}

/* The lock word itself is not the program's to read. */
/* kernel: bpf_spin_lock */
SEC("tc")
int lock_direct_access_bad(struct __sk_buff *skb)
{
	struct locked *l = slot(0);

	if (!l)
		return TC_ACT_OK;
	return *(volatile __u32 *)&l->lock ? TC_ACT_SHOT : TC_ACT_OK;
}

/* kernel: loads */
SEC("tc")
int lock_direct_access_good(struct __sk_buff *skb)
{
	struct locked *l = slot(0);

	if (!l)
		return TC_ACT_OK;
	return *(volatile __u32 *)&l->count ? TC_ACT_SHOT : TC_ACT_OK;
}

/* The lock argument must point at the lock, not next to it. */
/* kernel: bpf_spin_lock */
SEC("tc")
int lock_wrong_offset_bad(struct __sk_buff *skb)
{
	struct locked *l = slot(0);

	if (!l)
		return TC_ACT_OK;
	bpf_spin_lock((void *)&l->count);
	bpf_spin_unlock((void *)&l->count);
	return TC_ACT_OK;
}

/* kernel: loads */
SEC("tc")
int lock_wrong_offset_good(struct __sk_buff *skb)
{
	struct locked *l = slot(0);

	if (!l)
		return TC_ACT_OK;
	bpf_spin_lock((void *)&l->lock);
	bpf_spin_unlock((void *)&l->lock);
	return TC_ACT_OK;
}

/* Tracing programs may not even use a map that holds a spin lock; atomics work everywhere. */
/* kernel: tracing progs cannot use bpf_spin_lock yet */
SEC("kprobe/do_nanosleep")
int lock_tracing_bad(void *ctx)
{
	struct locked *l = slot(0);

	if (!l)
		return 0;
	bpf_spin_lock(&l->lock);
	l->count++;
	bpf_spin_unlock(&l->lock);
	return 0;
}

/* kernel: loads */
SEC("kprobe/do_nanosleep")
int lock_tracing_good(void *ctx)
{
	__u32 k = 0, *n = bpf_map_lookup_elem(&counts, &k);

	if (!n)
		return 0;
	__sync_fetch_and_add(n, 1);
	return 0;
}
