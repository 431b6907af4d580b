// Context accesses the kernel's verifier refuses, one program each, for checking that the emulator
// faults on the same accesses (and the kernel indeed refuses them).
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

__u64 sink;

SEC("raw_tp/write_ctx")
int write_ctx(__u64 *ctx)
{
	ctx[0] = 1;
	return 0;
}

SEC("raw_tp/misaligned")
int misaligned(void *ctx)
{
	sink = *(volatile __u32 *)(ctx + 2);
	return 0;
}

SEC("raw_tp/past_args")
int past_args(__u64 *ctx)
{
	sink = ((volatile __u64 *)ctx)[12];
	return 0;
}

SEC("tracepoint/net/netif_receive_skb")
int common_fields(void *ctx)
{
	sink = *(volatile __u32 *)(ctx + 4);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
