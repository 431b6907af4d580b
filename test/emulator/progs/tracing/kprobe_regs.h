// A kprobe program that records what libbpf's PT_REGS_* macros read from struct pt_regs, included
// by one source file per architecture (__TARGET_ARCH_*), so the emulator's register names can be
// checked against bpf_tracing.h.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

__u64 seen[9];

SEC("kprobe/do_sys_openat2")
int regs(struct pt_regs *ctx)
{
	seen[0] = PT_REGS_PARM1(ctx);
	seen[1] = PT_REGS_PARM2(ctx);
	seen[2] = PT_REGS_PARM3(ctx);
	seen[3] = PT_REGS_PARM4(ctx);
	seen[4] = PT_REGS_PARM5(ctx);
	seen[5] = PT_REGS_RC(ctx);
	seen[6] = PT_REGS_SP(ctx);
	seen[7] = PT_REGS_FP(ctx);
	seen[8] = PT_REGS_IP(ctx);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
