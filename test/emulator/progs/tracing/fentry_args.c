// fentry and fexit programs on the kernel's BPF test functions (net/bpf/test_run.c), reading their
// arguments (and fexit's return value) through BPF_PROG, and a tp_btf program reading a BTF pointer.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

__u64 entry[3];
__u64 exit_[3];

SEC("fentry/bpf_fentry_test3")
int BPF_PROG(enter3, char a, int b, __u64 c)
{
	entry[0] = a;
	entry[1] = b;
	entry[2] = c;
	return 0;
}

SEC("fexit/bpf_fentry_test2")
int BPF_PROG(leave2, int a, __u64 b, int ret)
{
	exit_[0] = a;
	exit_[1] = b;
	exit_[2] = ret;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
