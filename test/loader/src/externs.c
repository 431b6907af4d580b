/* Externs a loader resolves: __kconfig values from the kernel config and libbpf's LINUX_*
 * variables, typed and typeless __ksym variables, kfunc calls, and weak externs the kernel lacks. */
#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>

extern int LINUX_KERNEL_VERSION __kconfig;
extern bool LINUX_HAS_BPF_COOKIE __kconfig;
extern bool CONFIG_BPF_SYSCALL __kconfig;
extern enum libbpf_tristate CONFIG_BPF_LSM __kconfig;
extern char CONFIG_BPF_JIT __kconfig;
extern int CONFIG_HZ __kconfig;
extern char CONFIG_DEFAULT_HOSTNAME[12] __kconfig;
extern bool CONFIG_BPFTS_NO_SUCH_OPTION __kconfig __weak;

#ifdef TYPED_KSYM
/* A per-CPU kernel variable: needs the kernel's kallsyms to list data (CONFIG_KALLSYMS_ALL). */
extern const int bpf_prog_active __ksym;
#endif
extern const void tcp_connect __ksym;
extern const void bpfts_no_such_symbol __ksym __weak;

extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

__u64 out[12];

SEC("kprobe/do_nanosleep")
int externs(void *ctx)
{
	out[0] = LINUX_KERNEL_VERSION;
	out[1] = LINUX_HAS_BPF_COOKIE;
	out[2] = CONFIG_BPF_SYSCALL | CONFIG_BPF_LSM << 4 | CONFIG_BPF_JIT << 8;
	out[3] = CONFIG_HZ;
	out[4] = CONFIG_DEFAULT_HOSTNAME[1];
	out[5] = CONFIG_BPFTS_NO_SUCH_OPTION;
#ifdef TYPED_KSYM
	out[6] = *(const int *)bpf_this_cpu_ptr(&bpf_prog_active);
#endif
	out[7] = (__u64)&tcp_connect;
	out[8] = (__u64)&bpfts_no_such_symbol;
	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
