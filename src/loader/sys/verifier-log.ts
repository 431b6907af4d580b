// Reading the kernel verifier's log: why it rejected a program, and whether that reason is one
// verify checks statically (structural) or depends on values, pointers and bounds (semantic).
// Message wordings are those of kernel/bpf/verifier.c as of Linux 6.x.

/**
 * Log lines that are not the verdict: per-instruction trace (`12: (85) call ...`), register
 * states (`12: R1=ctx() ...`), branch bookkeeping (`from 19 to 22: safe`), source annotations
 * (`; x = y @ file.c:3`), and the statistics the verifier prints after the verdict.
 */
const NOT_A_REASON = [
  /^\d+: /,
  /^from \d+ to \d+: /,
  /^;/,
  /^processed \d+ insns/,
  /^verification time /,
  /^stack depth /,
  /^func#\d+ @\d+/,
  /^mark_precise: /,
  /^(last_idx|regs=|parent (didn't have|already had)) /,
  /^Validating /,
  /^caller:|^callee:/,
  /^returning from callee:|^to caller at /,
  /^Func#\d+ /,
  /^R\d+(_w)?=\S+( R\d+(_w)?=\S+)*$/,
];

/**
 * The verifier's reason for rejecting a program, from its log: the first message after the last
 * traced instruction, before the statistics. A reason can take two lines (`invalid access to
 * packet, off=12 size=2, ...` then `R7 offset is outside of the packet`): the first is the verdict,
 * the second its explanation, and both are returned joined by "; ". Some messages lack their
 * newline, so the statistics can follow on the same line. Undefined when the log has no reason
 * (an empty log, or one the kernel cut short).
 */
export function rejectionReason(log: string): string | undefined {
  const lines = log.split('\n').map((l) => l.replace(/processed \d+ insns \(limit.*$/, '').trim()).filter((l) => l.length > 0);
  // Where the verdict is: after the last traced instruction or state line, before the statistics.
  let end = lines.length;
  while (end > 0 && /^(processed \d+ insns|verification time |stack depth |func#\d+ @\d+)/.test(lines[end - 1]!)) end--;
  let start = end;
  while (start > 0 && !NOT_A_REASON.slice(0, 3).some((re) => re.test(lines[start - 1]!))) start--;
  const tail = lines.slice(start, end).filter((l) => !NOT_A_REASON.some((re) => re.test(l)));
  if (tail.length > 0) return tail.slice(0, 2).join('; ');
  // A log cut short ends inside the trace: no reason. Without any trace (an error found before the
  // walk, such as check_cfg's), the reason is the last meaningful line.
  if (lines.some((l) => /^\d+: /.test(l))) return undefined;
  const meaningful = lines.slice(0, end).filter((l) => !NOT_A_REASON.some((re) => re.test(l)));
  return meaningful.pop();
}

export type RejectionKind = 'structural' | 'semantic';

/**
 * Rejections that verify claims to find statically: the CFG checks (check_cfg, check_subprogs),
 * opcode and ld_imm64 decoding, helper ids and protos per program type, GPL-only helpers,
 * r10-relative stack bounds, r10 writes, reads of registers never written, division by a zero
 * immediate. Everything else needs value tracking.
 */
const STRUCTURAL: readonly RegExp[] = [
  /^jump out of range from insn \d+ to -?\d+/,
  /^jump into the middle of ldimm64 insn/,
  /^unreachable insn \d+/,
  /^invalid BPF_LD_IMM insn/,
  /^invalid bpf_ld_imm64 insn/,
  /^unknown opcode [0-9a-f]+/,
  /^R\d+ !read_ok/,
  /^invalid (write to|read from) stack R10 off=/,
  /^combined stack size of \d+ calls is \d+/,
  /^last insn is not an exit or jmp/,
  /^div by zero/,
  /^frame pointer is read only/,
  /^invalid func /,
  /^unknown func /,
  /^program of this type cannot use helper /,
  /^cannot call GPL-restricted function/,
  /^call to invalid destination/,
  /^BPF_(ALU|JMP|LDX|STX|ST|LD|CALL|EXIT|JA)\S* uses reserved fields/,
];

/** Whether the kernel's reason (from rejectionReason) is one verify checks statically. */
export function rejectionKind(reason: string): RejectionKind {
  return STRUCTURAL.some((re) => re.test(reason)) ? 'structural' : 'semantic';
}
