// kprobe_regs.h for arm64: bpf_tracing.h reads struct user_pt_regs, declared here as
// arch/arm64/include/uapi/asm/ptrace.h has it (the build machine's headers may be x86's).
#define __TARGET_ARCH_arm64
#include <linux/types.h>
struct user_pt_regs {
	__u64 regs[31];
	__u64 sp;
	__u64 pc;
	__u64 pstate;
};
#include "kprobe_regs.h"
