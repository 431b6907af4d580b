// SPDX-License-Identifier: GPL-2.0
// C types for the BTF codec's tests: every shape the codec maps to JS (signed and unsigned
// integers of each width, _Bool, enums, bitfields, char text, nested arrays, anonymous unions),
// as hash map keys and values so that bpftool can dump the same bytes.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum color { RED = 0, GREEN = 1, BLUE = 7 };
enum wide { W_SMALL = 1, W_BIG = 0x100000000ULL };

/* No padding anywhere: every byte belongs to a member. */
struct packed_key {
	__u32 addr;
	__u16 port;
	__u8 proto;
	__s8 delta;
};

struct inner {
	__s16 x;
	__u8 tag[2];
};

struct value {
	__u64 big;
	__s32 neg;
	enum color color;
	char name[12];
	unsigned int low : 3, mid : 9, high : 20;
	__u8 flag;
	_Bool on;
	__u16 pad16;
	struct inner pts[2];
	union {
		__u32 word;
		__u8 bytes[4];
	};
	__s64 sneg;
	enum wide w;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct packed_key);
	__type(value, struct value);
} typed SEC(".maps");

SEC("tc")
int touch(struct __sk_buff *skb)
{
	struct packed_key k = {};
	return bpf_map_lookup_elem(&typed, &k) ? 1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
