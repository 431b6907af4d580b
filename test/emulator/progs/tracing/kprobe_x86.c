// kprobe_regs.h for x86_64: bpf_tracing.h reads the uapi struct pt_regs (rdi, rsi, ...).
#define __TARGET_ARCH_x86
#include <asm/ptrace.h>
#include "kprobe_regs.h"
