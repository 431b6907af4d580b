// The ABI tracing programs see: struct pt_regs of x86_64 and arm64 with the registers libbpf's
// bpf_tracing.h reads for PT_REGS_PARMn / PT_REGS_RC / SP / FP / IP, and the limits of the
// tracing contexts.

/** include/linux/bpf.h: most arguments a raw tracepoint or an fentry/fexit program sees. */
export const MAX_BPF_FUNC_ARGS = 12;
/** include/linux/trace_events.h: largest tracepoint record (8192 since Linux 6.8). */
export const PERF_MAX_TRACE_SIZE = 8192;
/** include/linux/bpf.h: the most iterations bpf_loop() runs. */
export const BPF_MAX_LOOPS = 8 * 1024 * 1024;
/** include/linux/sched.h: task->comm's size, NUL included. */
export const TASK_COMM_LEN = 16;

export type PtRegsArch = 'x86_64' | 'arm64';

export interface PtRegsLayout {
  readonly arch: PtRegsArch;
  /** sizeof(struct pt_regs): the kprobe context's bounds (kprobe_prog_is_valid_access). */
  readonly size: number;
  /** Byte offset of every 8-byte register slot, by the kernel's member name. */
  readonly regs: Readonly<Record<string, number>>;
  /** The registers PT_REGS_PARM1.. name, in order. */
  readonly parm: readonly string[];
  readonly rc: string;
  readonly sp: string;
  readonly fp: string;
  readonly ip: string;
  /** sizeof(bpf_user_pt_regs_t): the regs part of struct bpf_perf_event_data. */
  readonly userRegsSize: number;
}

const slots = (names: readonly string[]): Record<string, number> => Object.fromEntries(names.map((n, i) => [n, i * 8]));

/** arch/x86/include/asm/ptrace.h struct pt_regs: 21 unsigned longs. */
export const PT_REGS_X86_64: PtRegsLayout = {
  arch: 'x86_64',
  size: 168,
  regs: slots(['r15', 'r14', 'r13', 'r12', 'bp', 'bx', 'r11', 'r10', 'r9', 'r8', 'ax', 'cx', 'dx', 'si', 'di', 'orig_ax', 'ip', 'cs', 'flags', 'sp', 'ss']),
  parm: ['di', 'si', 'dx', 'cx', 'r8', 'r9'],
  rc: 'ax',
  sp: 'sp',
  fp: 'bp',
  ip: 'ip',
  userRegsSize: 168,
};

/**
 * arch/arm64/include/asm/ptrace.h struct pt_regs: struct user_pt_regs (regs[31], sp, pc, pstate),
 * then orig_x0, syscallno and the kernel's own fields up to exit_rcu (336 bytes in Linux 5.x and
 * 6.x). BPF perf_event programs see only the user_pt_regs part.
 */
export const PT_REGS_ARM64: PtRegsLayout = {
  arch: 'arm64',
  size: 336,
  regs: { ...slots([...Array.from({ length: 31 }, (_, i) => `x${i}`), 'sp', 'pc', 'pstate', 'orig_x0']), syscallno: 280 },
  parm: ['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7'],
  rc: 'x0',
  sp: 'sp',
  fp: 'x29',
  ip: 'pc',
  userRegsSize: 272,
};

export const PT_REGS_LAYOUTS: Readonly<Record<PtRegsArch, PtRegsLayout>> = { x86_64: PT_REGS_X86_64, arm64: PT_REGS_ARM64 };

/** include/uapi/linux/bpf_perf_event.h struct bpf_perf_event_data: regs, then these u64s. */
export const bpfPerfEventData = (layout: PtRegsLayout) => ({ sample_period: layout.userRegsSize, addr: layout.userRegsSize + 8, size: layout.userRegsSize + 16 });
