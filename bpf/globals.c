// SPDX-License-Identifier: GPL-2.0
/*
 * Exercises global data and bpf-to-bpf calls: a read-only knob in .rodata,
 * initialised state in .data, zeroed counters in .bss, a non-inlined static
 * subprogram in .text, and a bounded loop the verifier must walk.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#define HEADER_BYTES 16

/* Set by the loader before load; frozen afterwards. */
const volatile __u32 min_len = 14;

/* Initialised, so it lands in .data. */
__u32 checksum_seed = 0x5eed;

/* Zero-initialised, so these land in .bss. */
__u64 packets_seen;
__u64 short_packets;
__u32 last_checksum;

/* Folds the first n bytes of buf into a 32-bit sum; kept out of line on purpose. */
static __noinline __u32 fold_bytes(const __u8 *buf, __u32 n, __u32 seed)
{
	__u32 sum = seed;
	__u32 i;

#pragma clang loop unroll(disable)
	for (i = 0; i < HEADER_BYTES && i < n; i++)
		sum = (sum << 5) + sum + buf[i];
	return sum;
}

SEC("tc")
int globals(struct __sk_buff *skb)
{
	__u8 buf[HEADER_BYTES] = {};
	__u32 n = skb->len < HEADER_BYTES ? skb->len : HEADER_BYTES;

	__sync_fetch_and_add(&packets_seen, 1);
	if (skb->len < min_len) {
		__sync_fetch_and_add(&short_packets, 1);
		return TC_ACT_OK;
	}
	if (bpf_skb_load_bytes(skb, 0, buf, HEADER_BYTES))
		return TC_ACT_OK;
	last_checksum = fold_bytes(buf, n, checksum_seed);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
