// SPDX-License-Identifier: GPL-2.0
/* Programs the emulator must stop with a fault or a clear refusal. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 frozen = 1;

extern int bpf_fictional_kfunc(struct __sk_buff *skb) __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} jump SEC(".maps");

SEC("tc")
int store_rodata(struct __sk_buff *skb)
{
	*(volatile __u32 *)&frozen = skb->len;
	return TC_ACT_OK;
}

SEC("tc")
int unchecked_read(struct __sk_buff *skb)
{
	__u8 *data = (void *)(long)skb->data;

	return data[skb->len + 3];
}

SEC("tc")
int write_len(struct __sk_buff *skb)
{
	skb->len = 1;
	return TC_ACT_OK;
}

SEC("tc")
int call_kfunc(struct __sk_buff *skb)
{
	if (skb->len > 1000)
		return bpf_fictional_kfunc(skb);
	return TC_ACT_OK;
}

SEC("tc")
int tail_target(struct __sk_buff *skb)
{
	return 40 + skb->cb[0];
}

SEC("tc")
int tail_caller(struct __sk_buff *skb)
{
	skb->cb[0] = 2;
	bpf_tail_call(skb, &jump, skb->len & 3);
	return 7;
}

char LICENSE[] SEC("license") = "GPL";
