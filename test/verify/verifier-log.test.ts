// The verifier log's reason, read from real logs of this kernel: hand-made programs loaded with
// BPF_PROG_LOAD and corpus programs loaded with bpfts's loader. The expected reasons are the
// kernel's own format strings (kernel/bpf/verifier.c) filled in for each program.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rejectionKind, rejectionReason } from '../../src/loader/raw.js';
import { loadObject, progLoad, ProgramRejectedError, VerifierError, bpf_prog_type } from '../../src/loader/raw.js';
import { readObject } from '../../src/object/index.js';
import { corpusDir, haveCorpus, haveRoot } from '../helpers/env.js';
import { EXIT, ins, MOV_R0 } from './asm.js';

const root = haveRoot();
const corpus = haveCorpus();

function kernelLog(code: number[][], logLevel = 1): string {
  try {
    progLoad({ type: bpf_prog_type.BPF_PROG_TYPE_XDP, insns: Uint8Array.from(code.flat()), license: 'GPL', logLevel }).fd.close();
  } catch (e) {
    if (e instanceof VerifierError) return e.log;
    throw e;
  }
  throw new Error('the kernel accepted the program');
}

function corpusLog(object: string, program: string, type: string): string {
  const obj = readObject(readFileSync(join(corpusDir, 'ebpf-samples', object)));
  try {
    loadObject(obj, { programs: [program], type, bpffsRoot: `/sys/fs/bpf/bpfts-vlog-${process.pid}` }).close();
  } catch (e) {
    if (e instanceof ProgramRejectedError) return e.log;
    throw e;
  }
  throw new Error(`the kernel accepted ${object} ${program}`);
}

/**
 * A branch the verifier prunes ("from 13 to 14: safe" at log level 2: the kernel keeps a state only
 * after 2 jumps and 8 instructions, hence the padding) before it walks the path that fails.
 */
const PAD = Array.from({ length: 10 }, () => ins(0xb7, 3, 0, 0, 0));
const PRUNED_THEN_FAILS = [
  ins(0x61, 2, 1, 12, 0), MOV_R0(0), // 0: r2 = ctx->ingress_ifindex; 1: r0 = 0
  ins(0x15, 2, 0, 22, 0), // 2: if r2 == 0 goto 25
  ...PAD, ins(0x15, 2, 0, 0, 1), ...PAD, // 13: if r2 == 1 goto 14: both edges reach the same state
  EXIT, // 24
  ins(0xbf, 0, 9, 0, 0), EXIT, // 25: r0 = r9, never written
];

describe('rejectionReason on synthetic logs', () => {
  it('stops at the statistics, joins a two-line reason, and skips trace lines', () => {
    expect(rejectionReason('0: R1=ctx() R10=fp0\n0: (95) exit\nR0 !read_ok\nprocessed 1 insns (limit 1000000) max_states_per_insn 0\n')).toBe('R0 !read_ok');
    expect(rejectionReason('5: (61) r1 = *(u32 *)(r2 +0)\ninvalid access to packet, off=0 size=4, R2(id=0,off=0,r=0)\nR2 offset is outside of the packet\nprocessed 6 insns\n'))
      .toBe('invalid access to packet, off=0 size=4, R2(id=0,off=0,r=0); R2 offset is outside of the packet');
    expect(rejectionReason('unreachable insn 6\nprocessed 0 insns (limit 1000000)\n')).toBe('unreachable insn 6');
    expect(rejectionReason('')).toBeUndefined();
  });
});

describe.skipIf(!root)('rejectionReason on real verifier logs', () => {
  it('finds the reason after pruned branches ("from X to Y: safe"), at log levels 1 and 2', () => {
    const log = kernelLog(PRUNED_THEN_FAILS, 2);
    expect(log).toMatch(/^from 13 to 14: safe$/m);
    expect(rejectionReason(log)).toBe('R9 !read_ok');
    expect(rejectionReason(kernelLog(PRUNED_THEN_FAILS, 1))).toBe('R9 !read_ok');
  });

  it('says nothing for a log cut short inside the trace', () => {
    const log = kernelLog(PRUNED_THEN_FAILS, 2);
    expect(rejectionReason(log.slice(0, log.indexOf('from 13 to 14: safe') + 'from 13 to 14: safe'.length))).toBeUndefined();
    expect(rejectionReason(log.slice(0, log.indexOf('R9 !read_ok')))).toBeUndefined();
  });

  it('reads errors found before the walk (check_cfg)', () => {
    const reason = rejectionReason(kernelLog([MOV_R0(0), EXIT, MOV_R0(1), EXIT]));
    expect(reason).toBe('unreachable insn 2');
    expect(rejectionKind(reason!)).toBe('structural');
    expect(rejectionReason(kernelLog([MOV_R0(0), ins(0x05, 0, 0, 5, 0), EXIT]))).toBe('jump out of range from insn 1 to 7');
  });

  it.skipIf(!corpus)('reads corpus logs: a reason without its newline, a reason on two lines', () => {
    // tail_call_bad.c passes a hash map to bpf_tail_call; the kernel prints this message without "\n".
    const tail = rejectionReason(corpusLog('build/tail_call_bad.o', 'caller', 'xdp'));
    expect(tail).toBe('expected prog array map for tail call');
    expect(rejectionKind(tail!)).toBe('semantic');
    const packet = rejectionReason(corpusLog('build/correlated_branch.o', 'ConvergedBranch', 'xdp'));
    expect(packet).toMatch(/^invalid access to packet, off=12 size=2, R7\(.*\); R7 offset is outside of the packet$/);
    expect(rejectionKind(packet!)).toBe('semantic');
    const helper = rejectionReason(corpusLog('build/wronghelper.o', 'func', 'xdp'));
    expect(helper).toBe('program of this type cannot use helper bpf_sock_map_update#53');
    expect(rejectionKind(helper!)).toBe('structural');
  });
});
