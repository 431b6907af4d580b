// SPDX-License-Identifier: GPL-2.0
/* Maps of maps and a prog array, all filled by static initialisers, driven by the packet's bytes. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct inner_array {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
};

struct inner_hash {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
};

struct inner_array arr_a SEC(".maps"), arr_b SEC(".maps");
struct inner_hash hash_a SEC(".maps"), hash_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner_array);
} outer_arr SEC(".maps") = {
	.values = { [0] = &arr_a, [2] = &arr_b },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner_hash);
} outer_hash SEC(".maps") = {
	.values = { [1] = &hash_a, [3] = &hash_b },
};

int tail_one(struct __sk_buff *skb);
int tail_three(struct __sk_buff *skb);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int (void *));
} jumps SEC(".maps") = {
	.values = { [1] = (void *)&tail_one, [3] = (void *)&tail_three },
};

/* Byte i of the packet, or 0 when the packet is shorter. */
static __always_inline __u32 byte_at(struct __sk_buff *skb, __u32 i)
{
	__u8 b = 0;

	bpf_skb_load_bytes(skb, i, &b, 1);
	return b;
}

/*
 * Bytes 14-18: outer array index, inner array index, outer hash key, inner hash key, a value.
 * The result says what was found and what the inner hash operations returned.
 */
SEC("tc")
int lookup_inner(struct __sk_buff *skb)
{
	__u32 o = byte_at(skb, 14) & 7, i = byte_at(skb, 15) & 7;
	__u32 h = byte_at(skb, 16) & 7, k = byte_at(skb, 17) & 15;
	__u32 v = byte_at(skb, 18);
	int ret = 0;
	void *inner;

	inner = bpf_map_lookup_elem(&outer_arr, &o);
	if (inner) {
		__u64 *count = bpf_map_lookup_elem(inner, &i);

		ret |= 1;
		if (count) {
			__sync_fetch_and_add(count, v + 1);
			ret |= 2;
		}
	}
	inner = bpf_map_lookup_elem(&outer_hash, &h);
	if (inner) {
		__u32 *val = bpf_map_lookup_elem(inner, &k);

		ret |= 4;
		if (!val) {
			ret |= (bpf_map_update_elem(inner, &k, &v, BPF_NOEXIST) & 0xff) << 16;
		} else if (v & 1) {
			ret |= 8 | (bpf_map_delete_elem(inner, &k) & 0xff) << 8;
		} else {
			*val += v;
			ret |= 16;
		}
	}
	return ret;
}

SEC("tc")
int tail_one(struct __sk_buff *skb)
{
	return 100 + byte_at(skb, 20);
}

SEC("tc")
int tail_three(struct __sk_buff *skb)
{
	return 300;
}

SEC("tc")
int tail_caller(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jumps, byte_at(skb, 19) & 3);
	return 7;
}

char _license[] SEC("license") = "GPL";
