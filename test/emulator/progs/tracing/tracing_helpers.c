// A kprobe program calling the helpers tracing programs use, each result recorded in one ring
// buffer record so that a test can check them all from one run.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} out SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 64);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 4 * sizeof(__u64));
} stacks SEC(".maps");

struct record {
	__u64 pid_tgid;
	__u64 uid_gid;
	__u64 task;
	__u64 func_ip;
	__u64 cookie;
	__s64 read_kernel;
	__s64 read_user;
	__s64 read_user_as_kernel;
	__s64 read_str;
	__s64 read_str_short;
	__s64 read_bad;
	__s64 stackid;
	__s64 user_stackid;
	__s64 get_stack;
	char comm[16];
	__u8 kernel_bytes[8];
	__u8 user_bytes[8];
	__u8 zeroed[8];
	char str[16];
	char short_str[4];
	__u64 stack[3];
};

/* Puts struct record into the object's BTF, so that readers can decode the records. */
const struct record *unused_record __attribute__((unused));

/* r1 of the probed function: the address of a kernel buffer; r2: a user buffer; r3: a string. */
SEC("kprobe/some_function")
int helpers(struct pt_regs *ctx)
{
	struct record *r = bpf_ringbuf_reserve(&out, sizeof(*r), 0);
	if (!r)
		return 1;
	__u64 *regs = (__u64 *)ctx;
	const void *kbuf = (const void *)regs[14], *ubuf = (const void *)regs[13], *str = (const void *)regs[12];
	r->pid_tgid = bpf_get_current_pid_tgid();
	r->uid_gid = bpf_get_current_uid_gid();
	r->task = bpf_get_current_task();
	r->func_ip = bpf_get_func_ip(ctx);
	r->cookie = bpf_get_attach_cookie(ctx);
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	r->read_kernel = bpf_probe_read_kernel(r->kernel_bytes, 8, kbuf);
	r->read_user = bpf_probe_read_user(r->user_bytes, 8, ubuf);
	__builtin_memset(r->zeroed, 0xff, 8);
	r->read_user_as_kernel = bpf_probe_read_kernel(r->zeroed, 8, ubuf);
	r->read_str = bpf_probe_read_kernel_str(r->str, sizeof(r->str), str);
	r->read_str_short = bpf_probe_read_kernel_str(r->short_str, sizeof(r->short_str), str);
	r->read_bad = bpf_probe_read_kernel(r->stack, 8, (void *)0xffff888000001000ULL);
	r->stackid = bpf_get_stackid(ctx, &stacks, 1);
	r->user_stackid = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	r->get_stack = bpf_get_stack(ctx, r->stack, sizeof(r->stack), 0);
	bpf_ringbuf_submit(r, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
