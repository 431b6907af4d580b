// Which registers a function reads before writing them, walking the paths the kernel's verifier
// would walk: like it, the walk knows the value of registers set from constants and follows only
// the feasible edge of a conditional jump whose outcome those constants decide, so code behind a
// branch that cannot be taken (clang leaves such code after inlining) is not reported. What it
// does not know (loads, helper results, pointers) makes both edges feasible, as for the kernel
// when its bounds do not decide either.
import {
  branchDistance, BPF_ADD, BPF_ALU, BPF_ALU64, BPF_AND, BPF_ARSH, BPF_ATOMIC, BPF_CALL, BPF_CMPXCHG,
  BPF_END, BPF_EXIT, BPF_FETCH, BPF_IND, BPF_JA, BPF_JCOND, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT,
  BPF_JMP, BPF_JMP32, BPF_JNE, BPF_JSET, BPF_JSGE, BPF_JSGT, BPF_JSLE, BPF_JSLT, BPF_LD, BPF_LDX,
  BPF_LSH, BPF_MOV, BPF_MUL, BPF_NEG, BPF_OR, BPF_PSEUDO_CALL, BPF_PSEUDO_KFUNC_CALL, BPF_REG_FP,
  BPF_RSH, BPF_ST, BPF_STX, BPF_SUB, BPF_X, BPF_XOR, type Insn,
} from '../isa/index.js';

/** A register: undefined = never written, null = written with a value not known here, else the value (u64). */
type Reg = bigint | null | undefined;
type State = Reg[];

export interface UninitRead {
  insn: number;
  reg: number;
  /** Every explored path reaching the instruction leaves the register unwritten. */
  always: boolean;
}

export interface RegInitResult {
  reads: UninitRead[];
  /** Instructions some feasible path reaches. */
  reached: Set<number>;
  /** The walk gave up (too many distinct states): reads found so far stand, others may be missed. */
  incomplete: boolean;
}

const U64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const U32 = (v: bigint): bigint => BigInt.asUintN(32, v);
const S64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const S32 = (v: bigint): bigint => BigInt.asIntN(32, v);

/** At most this many states are explored per function; the kernel's own limit is a million insns. */
const MAX_STATES = 200_000;
/**
 * An instruction reached with this many distinct states (a loop counting with a constant) is
 * reached from then on with its values forgotten: one such state covers every later one.
 */
const STATES_PER_INSN = 64;

function alu(op: number, a: bigint, b: bigint, wide: boolean): bigint | null {
  const bits = wide ? 64n : 32n;
  const norm = wide ? U64 : U32;
  const sh = b & (bits - 1n);
  switch (op) {
    case BPF_ADD: return norm(a + b);
    case BPF_SUB: return norm(a - b);
    case BPF_MUL: return norm(a * b);
    case BPF_OR: return norm(a | b);
    case BPF_AND: return norm(a & b);
    case BPF_XOR: return norm(a ^ b);
    case BPF_LSH: return norm(a << sh);
    case BPF_RSH: return norm(a) >> sh;
    case BPF_ARSH: return norm((wide ? S64(a) : S32(a)) >> sh);
    default: return null;
  }
}

/** The outcome of a conditional jump on known operands. */
function decide(op: number, a: bigint, b: bigint, wide: boolean): boolean | undefined {
  const ua = wide ? U64(a) : U32(a);
  const ub = wide ? U64(b) : U32(b);
  const sa = wide ? S64(a) : S32(a);
  const sb = wide ? S64(b) : S32(b);
  switch (op) {
    case BPF_JEQ: return ua === ub;
    case BPF_JNE: return ua !== ub;
    case BPF_JGT: return ua > ub;
    case BPF_JGE: return ua >= ub;
    case BPF_JLT: return ua < ub;
    case BPF_JLE: return ua <= ub;
    case BPF_JSET: return (ua & ub) !== 0n;
    case BPF_JSGT: return sa > sb;
    case BPF_JSGE: return sa >= sb;
    case BPF_JSLT: return sa < sb;
    case BPF_JSLE: return sa <= sb;
    default: return undefined;
  }
}

/** Whether exploring `seen` already covers `next`: same written registers, and every value `seen` knows is `next`'s too. */
function covers(seen: State, next: State): boolean {
  for (let r = 0; r < next.length; r++) {
    const a = seen[r];
    const b = next[r];
    if ((a === undefined) !== (b === undefined)) return false;
    if (a !== null && a !== undefined && a !== b) return false;
  }
  return true;
}

export interface RegInitOptions {
  /** An entry program gets only r1 (the context) and r10; a sub-program also gets its arguments r2-r5. */
  entry: boolean;
  /** Whether the helper with this id returns nothing (RET_VOID), leaving r0 unwritten. */
  voidHelper: (id: number) => boolean;
  /** Follow constants (the default); without, every conditional jump goes both ways. */
  constants?: boolean;
}

/** Registers `i` reads (bit r = rR). */
function readsOf(i: Insn): number {
  const bit = (r: number): number => 1 << r;
  const op = i.opcode & 0xf0;
  const x = (i.opcode & BPF_X) !== 0;
  switch (i.cls) {
    case BPF_ALU: case BPF_ALU64:
      if (op === BPF_MOV) return x ? bit(i.src) : 0;
      if (op === BPF_NEG || op === BPF_END) return bit(i.dst);
      return bit(i.dst) | (x ? bit(i.src) : 0);
    case BPF_LDX: return bit(i.src);
    case BPF_ST: return bit(i.dst);
    case BPF_STX:
      if ((i.opcode & 0xe0) === BPF_ATOMIC && i.imm === BPF_CMPXCHG) return bit(i.dst) | bit(i.src) | bit(0);
      return bit(i.dst) | bit(i.src);
    case BPF_LD:
      if (i.slots === 2) return 0;
      // Legacy packet loads read the context from r6.
      return bit(6) | ((i.opcode & 0xe0) === BPF_IND ? bit(i.src) : 0);
    case BPF_JMP: case BPF_JMP32:
      if (op === BPF_JA || op === BPF_JCOND || op === BPF_CALL) return 0;
      if (op === BPF_EXIT) return bit(0);
      return bit(i.dst) | (x ? bit(i.src) : 0);
    default: return 0;
  }
}

/** The state after `i` (registers it writes), given the state before it. */
function step(i: Insn, s: State, o: RegInitOptions): void {
  const op = i.opcode & 0xf0;
  const x = (i.opcode & BPF_X) !== 0;
  const clobber = (r0: Reg): void => {
    for (let r = 1; r <= 5; r++) s[r] = undefined;
    s[0] = r0;
  };
  switch (i.cls) {
    case BPF_ALU: case BPF_ALU64: {
      const wide = i.cls === BPF_ALU64;
      const norm = wide ? U64 : U32;
      const operand: Reg = x ? s[i.src] : U64(BigInt(i.imm));
      if (op === BPF_MOV) {
        // off != 0 is a sign-extending move or an address-space cast: the value is not followed.
        s[i.dst] = i.off === 0 && operand !== null && operand !== undefined && i.src !== BPF_REG_FP ? norm(operand) : null;
      } else if (op === BPF_NEG) {
        const v = s[i.dst];
        s[i.dst] = v !== null && v !== undefined ? norm(-v) : null;
      } else {
        const a = s[i.dst];
        s[i.dst] = i.off === 0 && a !== null && a !== undefined && operand !== null && operand !== undefined ? alu(op, a, operand, wide) : null;
      }
      return;
    }
    case BPF_LDX:
      s[i.dst] = null;
      return;
    case BPF_STX:
      if ((i.opcode & 0xe0) === BPF_ATOMIC) {
        if (i.imm === BPF_CMPXCHG) s[0] = null;
        else if ((i.imm & BPF_FETCH) !== 0) s[i.src] = null;
      }
      return;
    case BPF_LD:
      if (i.slots === 2) s[i.dst] = i.src === 0 && i.imm64 !== undefined ? i.imm64 : null;
      else clobber(null);
      return;
    case BPF_JMP:
      if (op === BPF_CALL) {
        const helper = i.src !== BPF_PSEUDO_CALL && i.src !== BPF_PSEUDO_KFUNC_CALL;
        clobber(helper && o.voidHelper(i.imm) ? undefined : null);
      }
      return;
    default:
  }
}

/** Explores the function from its first instruction; `insns` are its decoded instructions. */
export function uninitReads(insns: readonly Insn[], o: RegInitOptions): RegInitResult {
  const bySlot = new Map(insns.map((i) => [i.index, i]));
  const start: State = new Array<Reg>(11).fill(undefined);
  start[1] = null;
  start[BPF_REG_FP] = null;
  if (!o.entry) for (let r = 2; r <= 5; r++) start[r] = null;
  const seen = new Map<number, State[]>();
  // The first unwritten register each instruction reads, and the registers any arrival had written.
  const reads = new Map<number, number>();
  const written = new Map<number, number>();
  const reached = new Set<number>();
  const work: [number, State][] = [[0, start]];
  let states = 0;
  while (work.length > 0) {
    if (++states > MAX_STATES) return { reads: collect(), reached, incomplete: true };
    const [at, state] = work.pop()!;
    const i = bySlot.get(at);
    if (!i) continue;
    const prior = seen.get(at);
    if (o.constants === false || (prior && prior.length >= STATES_PER_INSN)) {
      for (let r = 0; r <= 10; r++) if (state[r] !== undefined) state[r] = null;
    }
    if (prior?.some((p) => covers(p, state))) continue;
    if (prior) prior.push(state);
    else seen.set(at, [state]);
    reached.add(at);
    let mask = 0;
    for (let r = 0; r <= 10; r++) if (state[r] !== undefined) mask |= 1 << r;
    written.set(at, (written.get(at) ?? 0) | mask);
    const missing = readsOf(i) & ~mask;
    const s = state.slice();
    if (missing !== 0) {
      const reg = Math.log2(missing & -missing);
      if (!reads.has(at)) reads.set(at, reg);
      // Carry on as if written: the kernel stops at the first error, later reads are its own findings.
      for (let r = 0; r <= 10; r++) if ((missing & (1 << r)) !== 0) s[r] = null;
    }
    const op = i.opcode & 0xf0;
    const next = at + i.slots;
    const isJmp = i.cls === BPF_JMP || i.cls === BPF_JMP32;
    if (isJmp && op === BPF_EXIT && i.cls === BPF_JMP) continue;
    if (isJmp && op !== BPF_CALL && op !== BPF_EXIT) {
      const dist = branchDistance(i);
      if (dist === undefined) continue;
      const to = at + 1 + dist;
      if (op === BPF_JA || op === BPF_JCOND) {
        if (op === BPF_JCOND) work.push([next, s]);
        work.push([to, s]);
        continue;
      }
      const wide = i.cls === BPF_JMP;
      const a = s[i.dst];
      const b: Reg = (i.opcode & BPF_X) !== 0 ? s[i.src] : U64(BigInt(i.imm));
      const known = a !== null && a !== undefined && b !== null && b !== undefined;
      const taken = known ? decide(op, a, b, wide) : undefined;
      if (taken !== false) {
        const t = s.slice();
        // Equal to a constant on the taken edge of ==, the fall-through of !=: the kernel knows it too.
        if (wide && op === BPF_JEQ && (i.opcode & BPF_X) === 0) t[i.dst] = U64(BigInt(i.imm));
        work.push([to, t]);
      }
      if (taken !== true) {
        const f = s.slice();
        if (wide && op === BPF_JNE && (i.opcode & BPF_X) === 0) f[i.dst] = U64(BigInt(i.imm));
        work.push([next, f]);
      }
      continue;
    }
    step(i, s, o);
    work.push([next, s]);
  }
  return { reads: collect(), reached, incomplete: false };

  function collect(): UninitRead[] {
    return [...reads].map(([insn, reg]) => ({ insn, reg, always: ((written.get(insn) ?? 0) & (1 << reg)) === 0 }))
      .sort((a, b) => a.insn - b.insn);
  }
}
