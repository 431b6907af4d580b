// SPDX-License-Identifier: GPL-2.0
/*
 * An old-style object, as built against the samples/bpf headers of the
 * 4.x era: its map is described by a 28-byte struct bpf_map_def in the
 * "maps" section rather than by BTF in ".maps", and the socket filter reads
 * the packet with LD_ABS. libbpf 1.0+ refuses the legacy map section, which
 * is exactly what this object is for.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

/* The samples/bpf layout; libbpf 1.x no longer ships any struct bpf_map_def. */
struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
	unsigned int inner_map_idx;
	unsigned int numa_node;
};

_Static_assert(sizeof(struct bpf_map_def) == 28, "legacy map definitions are 28 bytes");

struct bpf_map_def SEC("maps") proto_bytes = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 256,
};

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");

SEC("socket")
int count_proto_bytes(struct __sk_buff *skb)
{
	__u32 proto = load_byte(skb, ETH_HLEN + offsetof(struct iphdr, protocol));
	__u64 *bytes;

	if (skb->pkt_type != PACKET_OUTGOING)
		return skb->len;
	bytes = bpf_map_lookup_elem(&proto_bytes, &proto);
	if (bytes)
		__sync_fetch_and_add(bytes, skb->len);
	return skb->len;
}

char LICENSE[] SEC("license") = "GPL";
