// The scalar domain (src/verifier/scalar.ts) three ways: soundness against the emulator (every
// concrete result of an instruction on members of the abstract operands is a member of the
// abstract result; a jump's concrete outcome is never contradicted and its edge keeps the
// operands), the exact text the 6.18 kernel prints for every register state along hand-written
// and random instruction sequences (loaded through progLoad at log level 2), and the log format.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { bpf_prog_type, progLoad, VerifierError } from '../../src/loader/raw.js';
import { Vm } from '../../src/vm/index.js';
import {
  aluScalar, boundsSync, branchEdges, branchTaken, bswapScalar, forkScalar, formatScalar, negScalar,
  refineBranch, scalarConst, scalarConstValue, scalarEquals, scalarFromRange, scalarIsConst, scalarSanityCheck,
  scalarUnknown, scalarWithin, sextScalar, truncScalar, zext32, type Scalar,
} from '../../src/verifier/scalar.js';
import { haveRoot } from '../helpers/env.js';
import { encode, exit, lddw, mov64, type Insn } from '../vm/asm.js';

const M64 = (1n << 64n) - 1n;
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

const ADD = 0x00, SUB = 0x10, MUL = 0x20, DIV = 0x30, OR = 0x40, AND = 0x50, LSH = 0x60, RSH = 0x70;
const NEG = 0x80, MOD = 0x90, XOR = 0xa0, MOV = 0xb0, ARSH = 0xc0;
const JEQ = 0x10, JGT = 0x20, JGE = 0x30, JSET = 0x40, JNE = 0x50, JSGT = 0x60, JSGE = 0x70;
const JLT = 0xa0, JLE = 0xb0, JSLT = 0xc0, JSLE = 0xd0;
const ALU_OPS = [ADD, SUB, MUL, DIV, OR, AND, LSH, RSH, MOD, XOR, MOV, ARSH];
const JMP_OPS = [JEQ, JGT, JGE, JSET, JNE, JSGT, JSGE, JLT, JLE, JSLT, JSLE];

/** Whether the concrete u64 `v` is one of the values `s` allows (every component). */
function contains(s: Scalar, v: bigint): boolean {
  const lo = Number(v & 0xffff_ffffn);
  return (v & ~s.varOff.mask) === s.varOff.value && s.umin <= v && v <= s.umax && s.smin <= s64(v) && s64(v) <= s.smax &&
    s.u32min <= lo && lo <= s.u32max && s.s32min <= (lo | 0) && (lo | 0) <= s.s32max;
}

// ---- the emulator as the concrete executor ----

const vms = new Map<string, Vm>();
/** r0 after running `insns` with r1, r2 = args; programs are kept by key, so they compile once. */
function run(key: string, insns: () => Insn[], args: bigint[]): bigint {
  let vm = vms.get(key);
  if (!vm) vms.set(key, (vm = new Vm(encode(insns()))));
  return vm.run(args).r0;
}
const once = (insns: Insn[], args: bigint[]): bigint => new Vm(encode(insns)).run(args).r0;

// ---- abstract values with a known member ----

const SPECIAL = [0n, 1n, 2n, 7n, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0x8000n, 0xffffn, 0x7fff_ffffn, 0x8000_0000n, 0xffff_ffffn,
  0x1_0000_0000n, 0x7fff_ffff_ffff_ffffn, 0x8000_0000_0000_0000n, M64, M64 - 1n, 0xffff_ffff_8000_0000n, 0xffff_ffff_ffff_ff80n];
const word = fc.oneof(fc.constantFrom(...SPECIAL), fc.bigInt({ min: 0n, max: M64 }), fc.bigInt({ min: 0n, max: 0x3ffn }),
  fc.bigInt({ min: -0x400n, max: 0x400n }).map(u64), fc.bigInt({ min: 0n, max: 0xffff_ffffn }));
const distance = fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 16n }), fc.bigInt({ min: 0n, max: 0x1_0000n }),
  fc.bigInt({ min: 0n, max: 1n << 40n }), fc.bigInt({ min: 0n, max: M64 }));
const maskArb = fc.oneof(fc.constant(0n), fc.constant(M64), fc.bigInt({ min: 0n, max: 0xffn }), fc.bigInt({ min: 0n, max: M64 }),
  fc.bigInt({ min: 0n, max: 0xffff_ffffn }), fc.bigInt({ min: 0n, max: 0xffff_ffffn }).map((m) => m << 32n));

const clampU = (v: bigint): bigint => (v < 0n ? 0n : v > M64 ? M64 : v);
const clampS = (v: bigint): bigint => (v < -(1n << 63n) ? -(1n << 63n) : v >= 1n << 63n ? (1n << 63n) - 1n : v);
const clamp32 = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/** A synced abstract value around x: some of a tnum, u64, s64, u32 and s32 range, each containing x. */
const abstractWith = fc.tuple(word, maskArb, fc.array(distance, { minLength: 10, maxLength: 10 }), fc.integer({ min: 0, max: 63 }))
  .map(([x, mask, d, which]) => {
    const lo = Number(x & 0xffff_ffffn);
    const n = (i: number): number => Number(d[i]! & 0xffff_ffffn);
    const raw: Scalar = {
      varOff: which & 1 ? { value: x & ~mask, mask } : { value: 0n, mask: M64 },
      umin: which & 2 ? clampU(x - d[0]!) : 0n, umax: which & 2 ? clampU(x + d[1]!) : M64,
      smin: which & 4 ? clampS(s64(x) - d[2]!) : -(1n << 63n), smax: which & 4 ? clampS(s64(x) + d[3]!) : (1n << 63n) - 1n,
      u32min: which & 8 ? clamp32(lo - n(4), 0, 0xffff_ffff) : 0, u32max: which & 8 ? clamp32(lo + n(5), 0, 0xffff_ffff) : 0xffff_ffff,
      s32min: which & 16 ? clamp32((lo | 0) - n(6), -0x8000_0000, 0x7fff_ffff) : -0x8000_0000,
      s32max: which & 16 ? clamp32((lo | 0) + n(7), -0x8000_0000, 0x7fff_ffff) : 0x7fff_ffff,
    };
    return { s: which & 32 ? scalarConst(x) : boundsSync(raw), x };
  });

describe('soundness against the emulator', () => {
  it('the abstract values built for the tests contain their members', () => {
    fc.assert(fc.property(abstractWith, ({ s, x }) => {
      expect(contains(s, x)).toBe(true);
    }), { numRuns: 2000 });
  });

  const width = (alu64: boolean): number => (alu64 ? 64 : 32);

  it('ALU operations, 64 and 32-bit, register and immediate operands', () => {
    const imm = fc.oneof(fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }), fc.integer({ min: -8, max: 64 }),
      fc.constantFrom(0xff, 0xffff, 0x7fff_ffff, -0x8000_0000, -256));
    fc.assert(fc.property(abstractWith, abstractWith, fc.constantFrom(...ALU_OPS), fc.boolean(), fc.boolean(), imm,
      (d, s, op, alu64, useImm, k) => {
        const cls = alu64 ? 0x07 : 0x04;
        let result: bigint;
        let src: Scalar;
        if (useImm) {
          // The kernel rejects these immediates before tracking anything.
          if ((op === LSH || op === RSH || op === ARSH) && (k < 0 || k >= width(alu64))) return;
          if ((op === DIV || op === MOD) && k === 0) return;
          src = scalarConst(BigInt(k));
          result = once([{ code: cls | op, dst: 1, imm: k }, mov64(0, 1), exit], [d.x]);
        } else {
          src = s.s;
          result = run(`alu ${cls | op}`, () => [{ code: cls | op | 0x08, dst: 1, src: 2 }, mov64(0, 1), exit], [d.x, s.x]);
        }
        const fork = forkScalar(op, d.s, src);
        const dst = fork ? (contains(fork.zero, d.x) ? fork.zero : fork.minusOne) : d.s;
        expect(fork === undefined || contains(fork.zero, d.x) || contains(fork.minusOne, d.x)).toBe(true);
        expect(contains(aluScalar(op, alu64, dst, src), result)).toBe(true);
      }), { numRuns: 4000 });
  });

  it('neg, byte swaps, sign extensions, 32-bit moves and narrow loads', () => {
    const form = fc.integer({ min: 0, max: 18 });
    fc.assert(fc.property(abstractWith, form, ({ s, x }, f) => {
      let insn: Insn[];
      let got: Scalar;
      if (f < 2) {
        insn = [{ code: f ? 0x87 : 0x84, dst: 1 }, mov64(0, 1)];
        got = negScalar(s, f === 1);
      } else if (f < 11) {
        const [code, toLe, alu64] = ([[0xd7, true, true], [0xd4, true, false], [0xdc, false, false]] as const)[(f - 2) % 3]!;
        const bits = ([16, 32, 64] as const)[Math.floor((f - 2) / 3)]!;
        insn = [{ code, dst: 1, imm: bits }, mov64(0, 1)];
        got = bswapScalar(s, bits, toLe, alu64);
      } else if (f < 14) {
        const off = [8, 16, 32][f - 11]!;
        insn = [{ code: 0xbf, dst: 0, src: 1, off }];
        got = sextScalar(s, (off / 8) as 1 | 2 | 4, true);
      } else if (f < 16) {
        const off = [8, 16][f - 14]!;
        insn = [{ code: 0xbc, dst: 0, src: 1, off }];
        got = sextScalar(s, (off / 8) as 1 | 2, false);
      } else if (f === 16) {
        insn = [{ code: 0xbc, dst: 0, src: 1 }];
        got = zext32(s);
      } else {
        // Through the stack: a 64-bit store, then a narrow load, zero- or sign-extending.
        const size = f === 17 ? 1 : 2;
        const code = f === 17 ? 0x71 : 0x89;
        insn = [{ code: 0x7b, dst: 10, src: 1, off: -8 }, { code, dst: 0, src: 10, off: -8 }];
        got = f === 17 ? truncScalar(s, 1) : sextScalar(s, 2, true);
        expect(contains(truncScalar(s, size as 1 | 2), run(`load ${size}`, () => [insn[0]!, { code: size === 1 ? 0x71 : 0x69, dst: 0, src: 10, off: -8 }, exit], [x]))).toBe(true);
      }
      expect(contains(got, run(`unary ${f}`, () => [...insn, exit], [x]))).toBe(true);
    }), { numRuns: 3000 });
  });

  it('conditional jumps: branchTaken never contradicts the outcome, and its edge keeps the operands', () => {
    const imm = fc.oneof(fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }), fc.integer({ min: -300, max: 300 }));
    fc.assert(fc.property(abstractWith, abstractWith, fc.constantFrom(...JMP_OPS), fc.boolean(), fc.boolean(), imm,
      (a, b, op, jmp32, useImm, k) => {
        const cls = jmp32 ? 0x06 : 0x05;
        const tail: Insn[] = [{ code: 0xb7, dst: 0, imm: 0 }, exit, { code: 0xb7, dst: 0, imm: 1 }, exit];
        let taken: boolean;
        let bs: Scalar;
        let bx: bigint;
        if (useImm) {
          bs = scalarConst(BigInt(k));
          bx = u64(BigInt(k));
          taken = once([{ code: cls | op, dst: 1, off: 2, imm: k }, ...tail], [a.x]) === 1n;
        } else {
          bs = b.s;
          bx = b.x;
          taken = run(`jmp ${cls | op}`, () => [{ code: cls | op | 0x08, dst: 1, src: 2, off: 2 }, ...tail], [a.x, b.x]) === 1n;
        }
        const pred = branchTaken(op, jmp32, a.s, bs);
        expect(pred === -1 || (pred === 1) === taken).toBe(true);
        const edge = refineBranch(op, jmp32, a.s, bs, taken);
        expect(edge).toBeDefined();
        expect(contains(edge![0], a.x) && contains(edge![1], bx)).toBe(true);
        // The same register on both sides, refined in place.
        const self = run(`self ${cls | op}`, () => [{ code: cls | op | 0x08, dst: 1, src: 1, off: 2 }, ...tail], [a.x]) === 1n;
        const same = refineBranch(op, jmp32, a.s, a.s, self, true);
        expect(same !== undefined && contains(same[0], a.x)).toBe(true);
      }), { numRuns: 4000 });
  });

  it('state containment: scalarWithin holds for a state, its members and what covers it', () => {
    fc.assert(fc.property(abstractWith, ({ s, x }) => {
      expect(scalarWithin(s, s)).toBe(true);
      expect(scalarWithin(scalarUnknown(), s)).toBe(true);
      expect(scalarWithin(s, scalarConst(x))).toBe(true);
      expect(scalarWithin(s, scalarUnknown())).toBe(scalarEquals(s, scalarUnknown()));
    }), { numRuns: 1000 });
  });
});

describe('constructors, predicates and the log format', () => {
  it('constants, unknowns and ranges', () => {
    expect(scalarConstValue(scalarConst(-1n))).toBe(M64);
    expect(scalarIsConst(scalarUnknown())).toBe(false);
    expect(scalarEquals(scalarFromRange(0n, 255n), truncScalar(scalarUnknown(), 1))).toBe(true);
    expect(scalarEquals(scalarConst(5n), scalarConst(6n))).toBe(false);
  });

  it('prints constants as verbose_snum does and ranges as print_scalar_ranges', () => {
    expect(formatScalar(scalarConst(5n))).toBe('5');
    expect(formatScalar(scalarConst(-1n))).toBe('-1');
    expect(formatScalar(scalarConst(32767n))).toBe('32767');
    expect(formatScalar(scalarConst(32768n))).toBe('0x8000');
    expect(formatScalar(scalarConst(-32768n))).toBe('-32768');
    expect(formatScalar(scalarConst(-32769n))).toBe('0xffffffffffff7fff');
    expect(formatScalar(scalarUnknown())).toBe('scalar()');
    expect(formatScalar(scalarUnknown(), 'id=3')).toBe('scalar(id=3)');
    expect(formatScalar(scalarFromRange(0n, 255n))).toBe('scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))');
    expect(formatScalar(truncScalar(scalarUnknown(), 4))).toBe('scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))');
    expect(formatScalar(scalarFromRange(0n, 255n), 'id=1+5')).toBe('scalar(id=1+5,smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))');
    // 0x3f00 | unknown, as in the kernel's tnum_step commit message.
    const or = aluScalar(OR, true, scalarUnknown(), scalarConst(3584n));
    expect(formatScalar(or)).toBe('scalar(smin=0x8000000000000e00,umin=umin32=3584,smin32=0x80000e00,var_off=(0xe00; 0xfffffffffffff1ff))');
    expect(formatScalar(aluScalar(AND, true, or, scalarConst(3840n)))).toBe('scalar(smin=umin=smin32=umin32=3584,smax=umax=smax32=umax32=3840,var_off=(0xe00; 0x100))');
  });

  it('ALU details: div and mod are not tracked, NEG is, shifts need a constant below the width', () => {
    const byte = scalarFromRange(0n, 10n);
    expect(aluScalar(DIV, false, byte, scalarConst(3n))).toEqual(scalarUnknown());
    expect(aluScalar(MOD, true, byte, scalarConst(3n))).toEqual(scalarUnknown());
    // The kernel's log for r3 in [0, 10], var_off (0x0; 0xf), after r3 = -r3.
    expect(formatScalar(negScalar(scalarFromRange(0n, 10n), true))).toBe('scalar(smin=smin32=-10,smax=smax32=0)');
    expect(aluScalar(LSH, true, byte, scalarFromRange(0n, 3n))).toEqual(scalarUnknown());
    expect(aluScalar(LSH, true, byte, scalarConst(64n))).toEqual(scalarUnknown());
    expect(scalarConstValue(aluScalar(ADD, false, scalarConst(0xffff_ffffn), scalarConst(2n)))).toBe(1n);
    expect(aluScalar(MOV, false, scalarConst(-1n), scalarConst(0x1_2345_6789n))).toEqual(scalarConst(0x2345_6789n));
    expect(aluScalar(NEG, true, scalarConst(5n), scalarUnknown())).toEqual(scalarConst(-5n));
  });

  it('the sanity check repairs contradictory bounds as the kernel does', () => {
    const bad = { ...scalarFromRange(9n, 30n), umin: 31n };
    const check = scalarSanityCheck(bad, 'false_reg1')!;
    expect(check.message).toBe('verifier bug: REG INVARIANTS VIOLATION (false_reg1): range bounds violation u64=[0x1f, 0x1e] ' +
      's64=[0x9, 0x1e] u32=[0x9, 0x1e] s32=[0x9, 0x1e] var_off=(0x0, 0x1f)');
    expect(formatScalar(check.repaired)).toBe('scalar(var_off=(0x0; 0x1f))');
    expect(scalarSanityCheck(scalarFromRange(9n, 30n), 'alu')).toBeUndefined();
  });
});

// ---- the kernel as the oracle ----

/** One instruction of a test sequence, in a small language the test both assembles and simulates. */
type Step =
  | { k: 'ld'; dst: number; off: number }
  | { k: 'mov'; dst: number; v: bigint }
  | { k: 'alu'; op: number; alu64: boolean; dst: number; src?: number; imm?: number }
  | { k: 'neg'; alu64: boolean; dst: number }
  | { k: 'end'; code: number; bits: 16 | 32 | 64; dst: number }
  | { k: 'sx'; alu64: boolean; bits: 8 | 16 | 32; dst: number }
  | { k: 'zext'; dst: number }
  | { k: 'jmp'; op: number; jmp32: boolean; dst: number; src?: number; imm?: number; off?: number };

const ld = (dst: number, off = 12): Step => ({ k: 'ld', dst, off });
const mov = (dst: number, v: bigint): Step => ({ k: 'mov', dst, v });
const a64 = (op: number, dst: number, imm: number): Step => ({ k: 'alu', op, alu64: true, dst, imm });
const a32 = (op: number, dst: number, imm: number): Step => ({ k: 'alu', op, alu64: false, dst, imm });
const x64 = (op: number, dst: number, src: number): Step => ({ k: 'alu', op, alu64: true, dst, src });
const x32 = (op: number, dst: number, src: number): Step => ({ k: 'alu', op, alu64: false, dst, src });
const j64 = (op: number, dst: number, imm: number, off = 0): Step => ({ k: 'jmp', op, jmp32: false, dst, imm, off });
const j32 = (op: number, dst: number, imm: number): Step => ({ k: 'jmp', op, jmp32: true, dst, imm });
const jx = (op: number, jmp32: boolean, dst: number, src: number): Step => ({ k: 'jmp', op, jmp32, dst, src });

function assemble(step: Step): Insn[] {
  switch (step.k) {
    case 'ld': return [{ code: 0x61, dst: step.dst, src: 1, off: step.off }];
    case 'mov': return lddw(step.dst, step.v);
    case 'alu': return [{ code: (step.alu64 ? 0x07 : 0x04) | step.op | (step.src === undefined ? 0 : 0x08), dst: step.dst, src: step.src ?? 0, imm: step.imm ?? 0 }];
    case 'neg': return [{ code: step.alu64 ? 0x87 : 0x84, dst: step.dst }];
    case 'end': return [{ code: step.code, dst: step.dst, imm: step.bits }];
    case 'sx': return [{ code: step.alu64 ? 0xbf : 0xbc, dst: step.dst, src: step.dst, off: step.bits }];
    case 'zext': return [{ code: 0xbc, dst: step.dst, src: step.dst }];
    case 'jmp': return [{ code: (step.jmp32 ? 0x06 : 0x05) | step.op | (step.src === undefined ? 0 : 0x08), dst: step.dst, src: step.src ?? 0, off: step.off ?? 0, imm: step.imm ?? 0 }];
  }
}

/** What the kernel's log must say: each instruction's printed registers, the states of pushed branches. */
interface Expected {
  after: Map<number, Map<number, string>>;
  pushed: Map<number, Map<number, string>>;
  violations: string[];
}

/** The domain's walk of a straight-line sequence (every jump is to the next instruction, or out). */
function simulate(steps: Step[]): { insns: Insn[]; expected: Expected } {
  const regs = new Map<number, Scalar>();
  const insns: Insn[] = [];
  const expected: Expected = { after: new Map(), pushed: new Map(), violations: [] };
  for (const step of steps) {
    const pc = insns.length;
    insns.push(...assemble(step));
    const after = new Map<number, string>();
    const note = (r: number): void => void after.set(r, formatScalar(regs.get(r)!));
    const reg = (r: number): Scalar => regs.get(r)!;
    switch (step.k) {
      case 'ld': regs.set(step.dst, truncScalar(scalarUnknown(), 4)); note(step.dst); break;
      case 'mov': regs.set(step.dst, scalarConst(step.v)); note(step.dst); break;
      case 'alu': {
        const src = step.src === undefined ? scalarConst(BigInt(step.imm!)) : reg(step.src);
        const fork = forkScalar(step.op, reg(step.dst), src);
        if (fork) expected.pushed.set(pc, new Map([[step.dst, formatScalar(fork.zero)]]));
        regs.set(step.dst, aluScalar(step.op, step.alu64, fork ? fork.minusOne : reg(step.dst), src));
        note(step.dst);
        break;
      }
      case 'neg': regs.set(step.dst, negScalar(reg(step.dst), step.alu64)); note(step.dst); break;
      case 'end': regs.set(step.dst, bswapScalar(reg(step.dst), step.bits, step.code !== 0xdc, step.code === 0xd7)); note(step.dst); break;
      case 'sx': regs.set(step.dst, sextScalar(reg(step.dst), (step.bits / 8) as 1 | 2 | 4, step.alu64)); note(step.dst); break;
      case 'zext': regs.set(step.dst, zext32(reg(step.dst))); note(step.dst); break;
      case 'jmp': {
        const b = step.src === undefined ? scalarConst(BigInt(step.imm!)) : reg(step.src);
        const e = branchEdges(step.op, step.jmp32, reg(step.dst), b, step.src === step.dst);
        expected.violations.push(...e.violations);
        if (e.taken === -1) {
          const pushed = new Map([[step.dst, formatScalar(e.jump![0])]]);
          if (step.src !== undefined) pushed.set(step.src, formatScalar(e.jump![1]));
          expected.pushed.set(pc, pushed);
        }
        // The walk goes on along the fall-through when there is one: the sequences never jump out.
        const next = e.fall ?? e.jump!;
        regs.set(step.dst, next[0]);
        if (step.src !== undefined) regs.set(step.src, next[1]);
        note(step.dst);
        if (step.src !== undefined) note(step.src);
        break;
      }
    }
    expected.after.set(pc, after);
  }
  insns.push({ code: 0xb7, dst: 0, imm: 0 }, exit);
  return { insns, expected };
}

/** `R2=scalar(...) R3=5` into registers and their text (ids and the precision mark dropped). */
function parseRegs(text: string): Map<number, string> {
  const out = new Map<number, string>();
  const re = /R(\d+)=/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    let j = re.lastIndex;
    let depth = 0;
    while (j < text.length && !(text[j] === ' ' && depth === 0)) {
      if (text[j] === '(') depth++;
      else if (text[j] === ')') depth--;
      j++;
    }
    const v = text.slice(re.lastIndex, j).replace(/^P/, '').replace(/id=\d+([+-]\d+)?,?/, '').replace(',)', ')');
    out.set(Number(m[1]), v);
    re.lastIndex = j;
  }
  return out;
}

/** The log-level-2 trace: each instruction's first printed state, and each pushed state's first print. */
function readTrace(log: string): { after: Map<number, Map<number, string>>; pushed: Map<number, Map<number, string>> } {
  const after = new Map<number, Map<number, string>>();
  const pushed = new Map<number, Map<number, string>>();
  let open = -1;
  for (const line of log.split('\n')) {
    let m = /^from (\d+) to \d+: (.*)$/.exec(line);
    if (m) {
      open = -1;
      // Only the first is the main path's push; a pruned one ("safe") prints nothing to compare.
      if (!pushed.has(Number(m[1]))) pushed.set(Number(m[1]), m[2] === 'safe' ? new Map() : parseRegs(m[2]!));
      continue;
    }
    m = /^(\d+): \([0-9a-f]{2}\) (.*)$/.exec(line);
    if (m) {
      const pc = Number(m[1]);
      if (after.has(pc)) {
        open = -1;
        continue;
      }
      const semi = m[2]!.indexOf(' ; ');
      after.set(pc, semi >= 0 ? parseRegs(m[2]!.slice(semi + 3)) : new Map());
      open = semi >= 0 ? -1 : pc;
      continue;
    }
    m = /^(\d+): (R\d+=.*)$/.exec(line);
    if (m && Number(m[1]) === open) {
      after.set(open, parseRegs(m[2]!));
      open = -1;
    }
  }
  return { after, pushed };
}

function kernelLog(insns: Insn[]): string {
  try {
    const loaded = progLoad({ type: bpf_prog_type.BPF_PROG_TYPE_XDP, insns: encode(insns), license: 'GPL', logLevel: 2, logSize: 1 << 22 });
    loaded.fd.close();
    return loaded.log!;
  } catch (e) {
    if (e instanceof VerifierError) return e.log;
    throw e;
  }
}

/** Every difference between the domain's states and the kernel's for one sequence ("" when none). */
function compare(steps: Step[]): string {
  const { insns, expected } = simulate(steps);
  const log = kernelLog(insns);
  const trace = readTrace(log);
  const diffs: string[] = [];
  let compared = 0;
  for (const [which, want, got] of [['after', expected.after, trace.after], ['pushed', expected.pushed, trace.pushed]] as const) {
    for (const [pc, regs] of want) {
      const k = got.get(pc);
      for (const [r, text] of regs) {
        if (k?.get(r) === undefined) continue;
        compared++;
        if (k.get(r) !== text) diffs.push(`${which} insn ${pc} R${r}: kernel ${k.get(r)}, ours ${text}`);
      }
    }
  }
  const kernelViolations = log.split('\n').filter((l) => l.startsWith('verifier bug: '));
  for (const v of expected.violations) if (!kernelViolations.includes(v)) diffs.push(`no "${v}" in the log`);
  if (compared === 0) diffs.push('nothing compared');
  return diffs.length ? `${diffs.join('\n')}\nthe kernel's trace:\n${log.split('\n').filter((l) => /^(\d+: |from |verifier bug)/.test(l)).join('\n')}` : '';
}

const SEQUENCES: [string, Step[]][] = [
  ['byte, add, sub, lsh', [ld(2), a64(AND, 2, 0xff), a64(LSH, 2, 2), a64(ADD, 2, 3), a64(SUB, 2, 7), x64(ADD, 2, 2)]],
  ['mul by a constant and by a range', [ld(2), a64(AND, 2, 0xff), a64(MUL, 2, 3), ld(3), a64(AND, 3, 0xf), x64(MUL, 2, 3), a64(MUL, 3, -3)]],
  ['or, and, xor', [ld(2), a64(OR, 2, 0x100), a64(AND, 2, 0x1ff), a64(XOR, 2, 0x55), ld(3), x64(XOR, 3, 2), x64(OR, 3, 2)]],
  ['rsh, arsh 64', [ld(2), a64(LSH, 2, 32), a64(ARSH, 2, 40), a64(RSH, 2, 3), ld(3), a64(SUB, 3, 1000), a64(ARSH, 3, 4)]],
  ['32-bit ALU zero-extends', [mov(2, 0xffff_ffff_0000_0005n), a32(ADD, 2, 3), ld(3), a32(SUB, 3, 1), a32(MUL, 3, 2), a32(AND, 3, 0xff0)]],
  ['32-bit shifts', [ld(2), a32(LSH, 2, 28), a32(ARSH, 2, 4), a32(RSH, 2, 1), ld(3), a32(ARSH, 3, 31)]],
  ['neg', [ld(2), a64(AND, 2, 0xf), { k: 'neg', alu64: true, dst: 2 }, { k: 'neg', alu64: false, dst: 2 }, ld(3), a32(XOR, 3, 1), { k: 'neg', alu64: false, dst: 3 }]],
  ['byte swaps', [ld(2), a64(AND, 2, 0x3f00), { k: 'end', code: 0xd7, bits: 16, dst: 2 }, { k: 'end', code: 0xdc, bits: 32, dst: 2 },
    { k: 'end', code: 0xd4, bits: 16, dst: 2 }, ld(3), { k: 'end', code: 0xd7, bits: 64, dst: 3 }, { k: 'end', code: 0xd4, bits: 64, dst: 3 }]],
  ['movsx', [ld(2), { k: 'sx', alu64: true, bits: 8, dst: 2 }, ld(3), a64(AND, 3, 0xff), a64(SUB, 3, 128), { k: 'sx', alu64: true, bits: 16, dst: 3 },
    { k: 'sx', alu64: false, bits: 8, dst: 3 }, ld(4), a64(AND, 4, -256), { k: 'sx', alu64: true, bits: 32, dst: 4 }, ld(5), a64(OR, 5, 0x80), a64(AND, 5, 0xff), { k: 'sx', alu64: true, bits: 8, dst: 5 }]],
  ['div and mod', [ld(2), a64(AND, 2, 0xff), a64(DIV, 2, 3), ld(3), a32(MOD, 3, 7)]],
  ['shifts by a register', [ld(2), ld(3), a64(AND, 3, 7), x64(LSH, 2, 3), ld(4), x32(RSH, 4, 3), mov(5, 3n), ld(2), x64(ARSH, 2, 5)]],
  ['unsigned 64-bit jumps, both edges', [ld(2), j64(JGT, 2, 10), ld(3), j64(JLE, 3, 3), j64(JGE, 3, 1), j64(JLT, 3, 3)]],
  ['signed 64-bit jumps on a negative range', [ld(2), a64(AND, 2, 0xff), a64(SUB, 2, 100), j64(JSGT, 2, 5), j64(JSLT, 2, -50), j64(JSGE, 2, -60), j64(JSLE, 2, -55)]],
  ['32-bit jumps', [mov(2, 0x1_0000_0000n), ld(3), x64(ADD, 2, 3), j32(JGT, 2, 0x100), j32(JSLT, 2, 0), j32(JSGE, 2, 0x10), j32(JLE, 2, 0x80)]],
  ['jeq and jne', [ld(2), a64(AND, 2, 0xf), j64(JEQ, 2, 3), j64(JNE, 2, 0), j64(JNE, 2, 15), ld(3), a64(AND, 3, 2), a64(OR, 3, 1), j64(JEQ, 3, 2)]],
  ['jset', [ld(2), a64(AND, 2, 0xff), j64(JSET, 2, 8), j64(JSET, 2, 0x30), ld(3), j32(JSET, 3, 1), j64(JSET, 3, 0x100)]],
  // The fall-through of `if r & 8` forgets the ranges before narrowing the tnum: [3, 10] becomes [0, 7].
  ['jset forgets the ranges', [ld(2), j64(JGT, 2, 10), j64(JLT, 2, 3), j64(JSET, 2, 8), ld(3), a64(AND, 3, 0x1f), j32(JSET, 3, 2)]],
  ['a register against itself', [ld(2), jx(JGT, false, 2, 2), ld(3), a64(AND, 3, 0xff), jx(JSLE, true, 3, 3), jx(JNE, false, 3, 3), jx(JSET, false, 3, 3)]],
  ['32-bit moves', [mov(2, 0xffff_ffff_8000_0001n), { k: 'zext', dst: 2 }, ld(3), a64(SUB, 3, 5), { k: 'zext', dst: 3 }]],
  ['register against register', [ld(2), ld(3), a64(AND, 3, 0xff), jx(JLT, false, 2, 3), jx(JSGE, true, 2, 3), ld(4), a64(SUB, 4, 20), jx(JSGT, false, 4, 3), jx(JEQ, false, 4, 3)]],
  ['a range and a tnum sharing one value', [ld(2), a64(AND, 2, 0x11), j64(JGT, 2, 16), j64(JLT, 2, 2), ld(3), a64(OR, 3, 3584), a64(AND, 3, 3840), j64(JEQ, 3, 0xe00)]],
  ['the <<32 s>>32 idiom and cross-sign ranges', [ld(2), a64(AND, 2, 0xff), a64(SUB, 2, 128), a64(LSH, 2, 32), a64(ARSH, 2, 32), j64(JLT, 2, 10), ld(3), a64(LSH, 3, 32), a64(ARSH, 3, 32), j64(JGT, 3, 5)]],
  ['x s>> 63 forks before and/or', [ld(2), a64(LSH, 2, 32), a64(ARSH, 2, 63), a64(AND, 2, 7), ld(3), a32(ARSH, 3, 31), a32(OR, 3, 5), ld(4), a32(ARSH, 4, 31), a64(AND, 4, 0x70)]],
  ['mul with negative operands', [ld(2), a64(AND, 2, 0xf), a64(SUB, 2, 8), a64(MUL, 2, -3), ld(3), a32(AND, 3, 7), a32(SUB, 3, 4), x32(MUL, 3, 3)]],
  ['add and sub that wrap at both ends', [ld(2), a64(AND, 2, 0xff), a64(SUB, 2, 0x10), a64(ADD, 2, 0x20), ld(3), a32(SUB, 3, 1), a32(ADD, 3, 2), mov(4, M64), x64(ADD, 4, 2)]],
  ['an edge refined to nothing: the invariant violation', [ld(2), ld(3), a64(LSH, 2, 32), x64(OR, 2, 3), a64(AND, 2, -128), j32(JSGT, 2, 30), j32(JSLE, 2, 8), a64(ADD, 2, 0)]],
  ['constants fold', [mov(2, 40n), a64(ADD, 2, 2), a32(SUB, 2, 50), a64(MUL, 2, 3), a64(ARSH, 2, 1), mov(3, 0x8000_0000n), a32(LSH, 3, 1), j64(JEQ, 2, 0)]],
];

describe('exact states against the kernel (root)', () => {
  let root = false;
  beforeAll(() => {
    root = haveRoot();
  });

  for (const [name, steps] of SEQUENCES) {
    it(name, (ctx) => {
      if (!root) return ctx.skip();
      expect(compare(steps)).toBe('');
    });
  }

  // A deterministic generator of straight-line programs over r2..r5, every jump to the next instruction.
  function randomSteps(seed: number): Step[] {
    let x = seed;
    const rnd = (n: number): number => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return (x >>> 8) % n;
    };
    const pick = <T>(a: readonly T[]): T => a[rnd(a.length)]!;
    const IMM = [0, 1, 2, 3, 7, 8, 15, 16, 31, 32, 63, 100, 127, 128, 255, 256, 0xff00, 0xffff, 0x7fff_ffff, -1, -2, -5, -100, -128, -0x8000_0000, 0xf0, 0x3f00, 0xe00];
    const imm = (): number => (rnd(3) ? pick(IMM) : (rnd(0x7fff_ffff) - 0x3fff_ffff) | 0);
    const regs = [2, 3, 4, 5];
    const steps: Step[] = regs.map((r) => (rnd(3) ? ld(r, rnd(2) ? 12 : 16) : mov(r, u64(BigInt(imm()) << BigInt(rnd(40))))));
    for (let n = 6 + rnd(14); n > 0; n--) {
      const dst = pick(regs);
      const t = rnd(20);
      if (t < 9) {
        const op = pick(ALU_OPS.filter((o) => o !== MOV));
        const alu64 = rnd(2) === 1;
        if (rnd(2)) steps.push({ k: 'alu', op, alu64, dst, src: pick(regs) });
        else {
          let k = imm();
          if (op === LSH || op === RSH || op === ARSH) k = rnd(alu64 ? 64 : 32);
          if ((op === DIV || op === MOD) && k === 0) k = 3;
          steps.push({ k: 'alu', op, alu64, dst, imm: k });
        }
      } else if (t < 10) steps.push({ k: 'neg', alu64: rnd(2) === 1, dst });
      else if (t < 11) steps.push({ k: 'end', code: pick([0xd4, 0xdc, 0xd7]), bits: pick([16, 32, 64] as const), dst });
      else if (t < 12) {
        const alu64 = rnd(2) === 1;
        steps.push({ k: 'sx', alu64, bits: alu64 ? pick([8, 16, 32] as const) : pick([8, 16] as const), dst });
      } else {
        const op = pick(JMP_OPS);
        const jmp32 = rnd(2) === 1;
        if (rnd(2)) steps.push({ k: 'jmp', op, jmp32, dst, src: regs[(regs.indexOf(dst) + 1 + rnd(3)) % 4]! });
        else steps.push({ k: 'jmp', op, jmp32, dst, imm: imm() });
      }
    }
    return steps;
  }

  it('random programs: every printed scalar agrees', (ctx) => {
    if (!root) return ctx.skip();
    const failures: string[] = [];
    for (let seed = 1; seed <= 150; seed++) {
      const diff = compare(randomSteps(seed));
      if (diff) failures.push(`seed ${seed}:\n${diff}`);
    }
    expect(failures.slice(0, 3).join('\n')).toBe('');
  });
});
