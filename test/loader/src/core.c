#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct {
	int pid;
	int tgid;
	char comm[16];
} __attribute__((preserve_access_index));

struct task_struct___old {
	int pid;
	long not_in_kernel;
} __attribute__((preserve_access_index));

struct sk_buff___local {
	__u8 pkt_type:3;
	__u8 ignore_df:1;
} __attribute__((preserve_access_index));

struct no_such_type___x { int a; };
enum pid_type___local { PIDTYPE_PID___x = 0, PIDTYPE_SID = 3, PIDTYPE_NOT_THERE = 9 };

struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 8); __type(key, __u32); __type(value, __u64); } out SEC(".maps");

static __always_inline void put(__u32 k, __u64 v)
{
	bpf_map_update_elem(&out, &k, &v, 0);
}

SEC("kprobe/do_nanosleep")
int core_probe(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	struct task_struct___old *o = (void *)t;
	struct sk_buff___local *skb = (void *)(long)bpf_get_prandom_u32();
	char c = 0;

	put(0, BPF_CORE_READ(t, pid));
	put(1, BPF_CORE_READ(t, tgid));
	bpf_core_read(&c, 1, &t->comm[1]);
	put(2, c);
	put(3, bpf_core_field_exists(o->not_in_kernel) | bpf_core_type_size(struct task_struct) << 8 |
		(__u64)bpf_core_field_size(t->tgid) << 24 | (__u64)bpf_core_enum_value(enum pid_type___local, PIDTYPE_SID) << 40 |
		(__u64)bpf_core_field_offset(struct task_struct, tgid) << 48);
	put(4, bpf_core_type_exists(struct no_such_type___x) | bpf_core_type_exists(struct task_struct) << 1 |
		bpf_core_enum_value_exists(enum pid_type___local, PIDTYPE_NOT_THERE) << 2 |
		bpf_core_enum_value_exists(enum pid_type___local, PIDTYPE_SID) << 3 |
		bpf_core_type_matches(struct task_struct) << 4);
	put(5, bpf_core_type_id_kernel(struct task_struct));
	if (bpf_core_field_exists(o->not_in_kernel))
		put(6, BPF_CORE_READ(o, not_in_kernel));
	if (skb)
		put(7, BPF_CORE_READ_BITFIELD_PROBED(skb, pkt_type) | BPF_CORE_READ_BITFIELD_PROBED(skb, ignore_df) << 8);
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
