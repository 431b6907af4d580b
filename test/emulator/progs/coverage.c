// For the coverage tests: an entry program that tail-calls a second one for short frames, both
// calling one sub-program, so that each function's entries and each branch follow from the frame
// lengths alone.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} jumps SEC(".maps");

static __noinline int classify(__u32 len)
{
	if (len > 100)
		return len / 3;
	return len * 5 + 1;
}

SEC("tc")
int short_frames(struct __sk_buff *skb)
{
	return classify(skb->len) + 10;
}

SEC("tc")
int all_frames(struct __sk_buff *skb)
{
	if (skb->len < 60)
		bpf_tail_call(skb, &jumps, 0);
	return classify(skb->len);
}

char LICENSE[] SEC("license") = "GPL";
