/* One BTF-attached program; the section comes from -DSEC_NAME so each kind is its own object
 * (bpftool prog loadall loads all programs of an object or none). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 hits;

SEC(SEC_NAME)
int prog(void *ctx)
{
	__sync_fetch_and_add(&hits, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
