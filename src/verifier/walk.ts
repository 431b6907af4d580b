// The walk (do_check in kernel/bpf/verifier.c): every path of the program, depth first with the
// fall-through edge first as the kernel takes it, each instruction checked against the state the
// path reaches it with. States are kept at jump targets and after calls; a path whose state is
// covered by a kept state that was walked to the end without error is pruned (is_state_visited).
import {
  BPF_ADD, BPF_ALU, BPF_ALU64, BPF_AND, BPF_ARSH, BPF_ATOMIC, BPF_CALL, BPF_CMPXCHG, BPF_DIV, BPF_END,
  BPF_EXIT, BPF_FETCH, BPF_JA, BPF_JCOND, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT, BPF_JMP, BPF_JMP32,
  BPF_JNE, BPF_LD, BPF_LDX, BPF_LSH, BPF_MEMSX, BPF_MOD, BPF_MOV, BPF_MUL, BPF_NEG, BPF_OR, BPF_RSH, BPF_ST,
  BPF_STX, BPF_SUB, BPF_X, BPF_XCHG, BPF_XOR, BPF_PSEUDO_CALL, BPF_LOAD_ACQ, BPF_STORE_REL, BPF_TO_BE,
  MAX_CALL_FRAMES, branchDistance, formatInsn,
} from '../isa/index.js';
import {
  checkMapValue, checkPacket, checkRegion, coerceLoaded, ctxLoadStore, mayAccessPacket, stackRead, stackWrite,
  BPF_MAX_VAR_OFF,
} from './access.js';
import { checkHelperCall, notNullType } from './calls.js';
import { Reject, frame, newId, regs, reject, type Env } from './env.js';
import type { LinkedInsn, LinkedProgram } from './program.js';
import {
  aluScalar, branchEdges, branchTaken, bswapScalar, negScalar, scalarConst, scalarConstValue, scalarEquals,
  scalarIsConst, scalarUnknown, scalarWithin, sextScalar, truncScalar, zext32, type Scalar,
} from './scalar.js';
import {
  AT_PKT_END, BEYOND_PKT_END, BPF_REG_SIZE, STACK_INVALID, STACK_SPILL, STACK_ZERO, allRegs, cloneState,
  copyReg, formatState, isPktPointer, isPointer, joinOrigins, markPrecise, newFrame, notInit, ptrReg, regKey, scalarReg,
  markSlotRead, slotKey, spillKey, typeName, type Frame, type PrecNode, type Reg, type RegType, type SlotNode,
  type VMap, type VState,
} from './state.js';
import { computeLiveness } from './liveness.js';
import { formatTnum } from './tnum.js';
import { returnRange } from './return-code.js';
import { BPF_FUNC_spin_lock, BPF_FUNC_spin_unlock, bpf_prog_type as P } from '../uapi/index.js';

/** may_access_skb: the program types whose context is an skb that legacy packet loads read. */
const LD_ABS_TYPES = new Set<number>([P.BPF_PROG_TYPE_SOCKET_FILTER, P.BPF_PROG_TYPE_SCHED_CLS, P.BPF_PROG_TYPE_SCHED_ACT]);
/** check_atomic: regions an atomic operation may not touch. */
const NO_ATOMICS: ReadonlySet<RegType> = new Set(['ctx', 'pkt', 'pkt_meta', 'flow_keys', 'sock', 'sock_common', 'tcp_sock', 'xdp_sock']);
/** reg_not_null: pointer types that are never NULL unless marked so, which decides a comparison with 0. */
const NEVER_NULL: ReadonlySet<RegType> = new Set(['map_value', 'map_key', 'sock', 'tcp_sock', 'sock_common', 'mem']);
/** sizeof(struct bpf_flow_keys) (include/uapi/linux/bpf.h). */
const BPF_FLOW_KEYS_SIZE = 56;

/** BPF_COMPLEXITY_LIMIT_INSNS. */
export const COMPLEXITY_LIMIT = 1_000_000;
/** Kept states per instruction; the oldest finished ones make room (the kernel evicts by misses). */
const MAX_KEPT = 32;

const ALU_NAMES: Record<number, string> = {
  [BPF_ADD]: '+=', [BPF_SUB]: '-=', [BPF_MUL]: '*=', [BPF_DIV]: '/=', [BPF_OR]: '|=', [BPF_AND]: '&=',
  [BPF_LSH]: '<<=', [BPF_RSH]: '>>=', [BPF_NEG]: 'neg', [BPF_MOD]: '%=', [BPF_XOR]: '^=', [BPF_MOV]: '=',
  [BPF_ARSH]: 's>>=', [BPF_END]: 'endian',
};

const SIZES = [4, 2, 1, 8];
const sizeOf = (opcode: number): number => SIZES[(opcode & 0x18) >> 3]!;
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);

/** A kept state and how many paths below it are still being walked (the kernel's `branches`). */
interface Kept extends PrecNode, SlotNode {
  state: VState;
  hits: number;
  misses: number;
  branches: number;
  parent: Kept | undefined;
}

interface Pending {
  state: VState;
  kept: Kept | undefined;
}

export interface WalkOptions {
  progType: number;
  expectedAttachType: number;
  /** The entry state: r1 and the other argument registers (a global function's arguments). */
  entryArgs?: (env: Env) => Reg[];
  maps(key: object): VMap;
  limit?: number;
  log?: boolean;
  helperCheck?: (id: number) => string | undefined;
  /** A global function's parameters, for the checks of a call (btf_check_subprog_call). */
  globalParams?: (start: number) => readonly { kind: string }[];
}

export interface WalkError {
  message: string;
  insn: number;
  /** The state the failing instruction was reached with, as the log prints it. */
  state: string;
}

export interface WalkResult {
  error?: WalkError;
  processed: number;
  log?: string[];
  /** Global functions that were called: each is verified on its own. */
  globalsCalled: Set<number>;
}

export function walk(prog: LinkedProgram, start: number, options: WalkOptions): WalkResult {
  const live = computeLiveness(prog);
  const pruneAt = prunePoints(prog);
  const kept = new Map<number, Kept[]>();
  const globalsCalled = new Set<number>();
  const f0 = newFrame(-1, start);
  const env: Env = {
    prog, progType: options.progType, expectedAttachType: options.expectedAttachType,
    cur: { frames: [f0], refs: [], lock: 0, insn: start }, idGen: 0, mapOf: options.maps,
    ...(options.log ? { log: [] as string[] } : {}),
  };
  f0.regs[10] = ptrReg('fp', { aux: 0 });
  if (options.entryArgs) options.entryArgs(env).forEach((r, i) => (f0.regs[i + 1] = r));
  else f0.regs[1] = ptrReg('ctx');

  const limit = options.limit ?? COMPLEXITY_LIMIT;
  const stack: Pending[] = [];
  let curKept: Kept | undefined;
  let processed = 0;
  let jmps = 0;
  let prevJmps = 0;
  let prevInsns = 0;

  const finishPath = (): void => {
    for (let k = curKept; k; k = k.parent) {
      k.branches--;
      if (k.branches > 0) break;
    }
  };
  const push = (state: VState): void => {
    if (curKept) curKept.branches++;
    stack.push({ state, kept: curKept });
  };
  const popNext = (): boolean => {
    const next = stack.pop();
    if (!next) return false;
    env.cur = next.state;
    curKept = next.kept;
    return true;
  };

  const ctx: StepContext = {
    env, globalsCalled, push, ...(options.helperCheck ? { helperCheck: options.helperCheck } : {}),
    ...(options.globalParams ? { globalParams: options.globalParams } : {}),
    jumped: () => {
      jmps++;
    },
  };

  const result = (error?: WalkError): WalkResult => ({
    ...(error ? { error } : {}), processed, ...(env.log ? { log: env.log } : {}), globalsCalled,
  });

  for (;;) {
    const idx = env.cur.insn;
    if (++processed > limit) {
      return result({ message: `BPF program is too large. Processed ${processed} insn`, insn: idx, state: formatState(env.cur) });
    }
    if (pruneAt[idx]) {
      let list = kept.get(idx);
      if (!list) {
        list = [];
        kept.set(idx, list);
      }
      let pruned: Kept | undefined;
      let looping = false;
      let inLoop = false;
      let evict = false;
      for (const k of list) {
        if (k.branches > 0) {
          inLoop = true;
          if (statesEqual(k, env.cur, live, true)) looping = true;
        } else if (statesEqual(k, env.cur, live, false)) {
          pruned = k;
          k.hits++;
          break;
        }
        // The kernel's eviction rule: a state that keeps missing makes every later look-up slower.
        if (++k.misses > k.hits * 3 + 3) evict = true;
      }
      if (evict) {
        const keep = list.filter((k) => k.misses <= k.hits * 3 + 3);
        list.length = 0;
        list.push(...keep);
      }
      if (looping) {
        return result({ message: `infinite loop detected at insn ${idx}`, insn: idx, state: formatState(env.cur) });
      }
      if (pruned) {
        propagatePrecision(pruned, env.cur);
        env.log?.push(`${idx}: safe`);
        finishPath();
        if (!popNext()) break;
        continue;
      }
      const add = inLoop ? jmps - prevJmps >= 20 || processed - prevInsns >= 100 : jmps - prevJmps >= 2 && processed - prevInsns >= 8;
      if (add || list.length === 0) {
        prevJmps = jmps;
        prevInsns = processed;
        const k: Kept = { state: cloneState(env.cur), branches: 1, parent: curKept, prec: new Set(), from: new Map(), slotRead: new Set(), slotParent: new Map(), hits: 0, misses: 0 };
        takeOrigins(env.cur, k);
        curKept = k;
        list.push(k);
        if (list.length > MAX_KEPT) list.shift();
      }
    }
    const insn = prog.insns[idx];
    if (!insn) {
      return result({ message: `invalid insn idx ${idx} insn_cnt ${prog.slotCount}`, insn: idx, state: formatState(env.cur) });
    }
    const before = env.log ? formatState(env.cur) : '';
    let ended: boolean;
    try {
      ended = step(ctx, insn);
    } catch (e) {
      if (!(e instanceof Reject)) throw e;
      return result({ message: e.message, insn: idx, state: before || formatState(env.cur) });
    }
    if (env.log) env.log.push(`${idx}: ${formatInsn(insn)}`, `${idx}: ${formatState(env.cur)}`);
    if (ended) {
      finishPath();
      if (!popNext()) break;
    }
  }
  return result();
}

/** Jump targets, both edges of conditional jumps and the instruction after a call (mark_prune_point). */
function prunePoints(p: LinkedProgram): Uint8Array {
  const marks = new Uint8Array(p.slotCount + 1);
  for (const i of p.insns) {
    if (!i) continue;
    const op = i.opcode & 0xf0;
    if (i.cls !== BPF_JMP && i.cls !== BPF_JMP32) continue;
    if (op === BPF_EXIT && i.cls === BPF_JMP) continue;
    if (op === BPF_CALL && i.cls === BPF_JMP) {
      marks[i.index + 1] = 1;
      continue;
    }
    const d = branchDistance(i);
    if (d === undefined) continue;
    const to = i.index + 1 + d;
    if (to >= 0 && to < p.slotCount) marks[to] = 1;
    if (op !== BPF_JA) marks[i.index + 1] = 1;
  }
  return marks;
}

interface StepContext {
  env: Env;
  globalParams?: (start: number) => readonly { kind: string }[];
  helperCheck?: (id: number) => string | undefined;
  globalsCalled: Set<number>;
  push(state: VState): void;
  jumped(): void;
}

function checkRead(r: Reg, regno: number): void {
  if (r.t === 'not_init') reject(`R${regno} !read_ok`);
}

function checkWritable(regno: number): void {
  if (regno === 10) reject('frame pointer is read only');
}

/** Walks one instruction; true when the path ends there. */
function step(c: StepContext, insn: LinkedInsn): boolean {
  const { env } = c;
  const rs = regs(env);
  switch (insn.cls) {
    case BPF_ALU:
    case BPF_ALU64:
      alu(env, insn, rs);
      env.cur.insn = insn.index + 1;
      return false;
    case BPF_LDX:
      load(env, insn, rs);
      env.cur.insn = insn.index + 1;
      return false;
    case BPF_ST:
    case BPF_STX:
      if (insn.cls === BPF_STX && (insn.opcode & 0xe0) === BPF_ATOMIC && insn.imm !== BPF_LOAD_ACQ && insn.imm !== BPF_STORE_REL) atomic(env, insn, rs);
      else if (insn.cls === BPF_STX && (insn.opcode & 0xe0) === BPF_ATOMIC && insn.imm === BPF_LOAD_ACQ) load(env, { ...insn, dst: insn.dst, src: insn.src }, rs, true);
      else store(env, insn, rs);
      env.cur.insn = insn.index + 1;
      return false;
    case BPF_LD:
      ld(env, insn, rs);
      env.cur.insn = insn.index + insn.slots;
      return false;
    case BPF_JMP:
    case BPF_JMP32:
      return jump(c, insn, rs);
    default:
      reject(`unknown insn class ${insn.cls}`);
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// ALU

function immScalar(insn: LinkedInsn, alu64: boolean): Scalar {
  return alu64 ? scalarConst(BigInt(insn.imm)) : scalarConst(BigInt(insn.imm >>> 0));
}

function alu(env: Env, insn: LinkedInsn, rs: Reg[]): void {
  const op = insn.opcode & 0xf0;
  const alu64 = insn.cls === BPF_ALU64;
  const x = (insn.opcode & BPF_X) !== 0;
  const dstNo = insn.dst;
  if (op === BPF_END || op === BPF_NEG) {
    checkRead(rs[dstNo]!, dstNo);
    checkWritable(dstNo);
    const d = rs[dstNo]!;
    if (d.t !== 'scalar') {
      rs[dstNo] = scalarReg();
      return;
    }
    const out = op === BPF_NEG ? scalarReg(negScalar(d.s, alu64)) : scalarReg(bswapScalar(d.s, insn.imm as 16 | 32 | 64, !alu64 && (insn.opcode & BPF_TO_BE) === 0, alu64));
    if (d.o) out.o = d.o;
    rs[dstNo] = out;
    return;
  }
  if (op === BPF_MOV) {
    checkWritable(dstNo);
    if (!x) {
      rs[dstNo] = scalarReg(immScalar(insn, alu64));
      return;
    }
    const src = rs[insn.src]!;
    checkRead(src, insn.src);
    if (alu64) {
      if (insn.off === 0) {
        if (src.t === 'scalar' && !src.id && !scalarIsConst(src.s)) src.id = newId(env);
        rs[dstNo] = copyReg(src);
        return;
      }
      if (isPointer(src)) {
        if (src.t === 'any') {
          rs[dstNo] = scalarReg();
          return;
        }
        reject(`R${insn.src} sign-extension part of pointer`);
      }
      rs[dstNo] = withOrigins(scalarReg(sextScalar(src.s, (insn.off / 8) as 1 | 2 | 4, true)), src);
      return;
    }
    if (isPointer(src)) {
      rs[dstNo] = scalarReg(truncScalar(scalarUnknown(), 4));
      return;
    }
    if (insn.off === 0) {
      const upperZero = src.s.umax <= 0xffffffffn;
      const out = withOrigins(scalarReg(zext32(src.s)), src);
      if (upperZero && src.id) {
        out.id = src.id;
        out.addConst = src.addConst;
        out.off = src.off;
      } else if (upperZero && !scalarIsConst(src.s)) {
        src.id = newId(env);
        out.id = src.id;
      }
      rs[dstNo] = out;
    } else {
      rs[dstNo] = withOrigins(scalarReg(zext32(sextScalar(src.s, (insn.off / 8) as 1 | 2, false))), src);
    }
    return;
  }
  // Binary operations.
  let src: Reg;
  if (x) {
    src = rs[insn.src]!;
    checkRead(src, insn.src);
  } else {
    src = scalarReg(immScalar(insn, alu64));
  }
  const dst = rs[dstNo]!;
  checkRead(dst, dstNo);
  checkWritable(dstNo);
  if (!x && (op === BPF_LSH || op === BPF_RSH || op === BPF_ARSH)) {
    const bits = alu64 ? 64 : 32;
    if (insn.imm < 0 || insn.imm >= bits) reject(`invalid shift ${insn.imm}`);
  }
  if ((op === BPF_DIV || op === BPF_MOD) && !x && insn.imm === 0) reject('div by zero');
  if (dst.t === 'any' || src.t === 'any') {
    rs[dstNo] = ptrReg('any');
    return;
  }
  if (isPointer(dst) && isPointer(src)) {
    if (op === BPF_SUB) {
      rs[dstNo] = scalarReg();
      return;
    }
    reject(`R${dstNo} pointer ${ALU_NAMES[op]} pointer prohibited`);
  }
  if (isPointer(dst) || isPointer(src)) {
    rs[dstNo] = pointerArith(env, insn, dst, src, isPointer(dst) ? dst : src, isPointer(dst) ? src : dst, alu64);
    return;
  }
  const out = scalarReg(aluScalar(op, alu64, dst.s, src.s));
  const o = joinOrigins(dst.o, src.o);
  if (o) out.o = o;
  // A linked scalar moved by a constant stays linked, with the constant noted (BPF_ADD_CONST).
  if (alu64 && op === BPF_ADD && dst.id && scalarIsConst(src.s)) {
    const val = BigInt.asUintN(64, scalarConstValue(src.s)!);
    if (!dst.addConst && val <= 0x7fffffffn) {
      out.id = dst.id;
      out.addConst = true;
      out.off = Number(val);
    }
  }
  rs[dstNo] = out;
}

function withOrigins(r: Reg, from: Reg): Reg {
  if (from.o) r.o = from.o;
  return r;
}

/** adjust_ptr_min_max_vals: pointer plus or minus a scalar, privileged. */
function pointerArith(env: Env, insn: LinkedInsn, dst: Reg, _src: Reg, ptr: Reg, offReg: Reg, alu64: boolean): Reg {
  const op = insn.opcode & 0xf0;
  const dstNo = insn.dst;
  if (!alu64) {
    if (op === BPF_SUB) return scalarReg();
    reject(`R${dstNo} 32-bit pointer arithmetic prohibited`);
  }
  if (ptr.nullable) reject(`R${dstNo} pointer arithmetic on ${typeName(ptr)} prohibited, null-check it first`);
  markPrecise(offReg.o);
  const known = scalarIsConst(offReg.s);
  const val = known ? s64(scalarConstValue(offReg.s)!) : 0n;
  switch (ptr.t) {
    case 'ctx': case 'map_value': case 'map_key': case 'fp': case 'pkt_meta': case 'pkt': case 'ptr_': case 'mem': case 'buf': case 'func':
      break;
    case 'flow_keys':
      if (known) break;
      reject(`R${dstNo} pointer arithmetic on ${typeName(ptr)} prohibited`);
      break;
    case 'map_ptr':
      if (known && val === 0n && op === BPF_ADD) break;
      reject(`R${dstNo} pointer arithmetic on ${typeName(ptr)} prohibited`);
      break;
    default:
      reject(`R${dstNo} pointer arithmetic on ${typeName(ptr)} prohibited`);
  }
  const what = typeName(ptr);
  if (known && (val >= BPF_MAX_VAR_OFF || val <= -BPF_MAX_VAR_OFF)) reject(`math between ${what} pointer and ${val} is not allowed`);
  if (!known && offReg.s.smin === -(1n << 63n)) reject(`math between ${what} pointer and register with unbounded min value is not allowed`);
  if (!known && (offReg.s.smin >= BPF_MAX_VAR_OFF || offReg.s.smin <= -BPF_MAX_VAR_OFF)) reject(`value ${offReg.s.smin} makes ${what} pointer be out of bounds`);
  const out = copyReg(ptr);
  out.o = undefined;
  switch (op) {
    case BPF_ADD:
      if (known && ptr.off + Number(val) === ((ptr.off + Number(val)) | 0)) {
        out.off = ptr.off + Number(val);
      } else {
        out.s = aluScalar(BPF_ADD, true, ptr.s, offReg.s);
        if (isPktPointer(ptr)) {
          out.id = newId(env);
          out.range = 0;
        }
      }
      break;
    case BPF_SUB:
      if (dst === offReg) reject(`R${dstNo} tried to subtract pointer from scalar`);
      if (ptr.t === 'fp') reject(`R${dstNo} subtraction from stack pointer prohibited`);
      if (known && ptr.off - Number(val) === ((ptr.off - Number(val)) | 0)) {
        out.off = ptr.off - Number(val);
      } else {
        out.s = aluScalar(BPF_SUB, true, ptr.s, offReg.s);
        if (isPktPointer(ptr)) {
          out.id = newId(env);
          out.range = 0;
        }
      }
      break;
    case BPF_AND: case BPF_OR: case BPF_XOR:
      reject(`R${dstNo} bitwise operator ${ALU_NAMES[op]} on pointer prohibited`);
      break;
    default:
      reject(`R${dstNo} pointer arithmetic with ${ALU_NAMES[op]} operator prohibited`);
  }
  if (out.off >= Number(BPF_MAX_VAR_OFF) || out.off <= -Number(BPF_MAX_VAR_OFF)) reject(`${what} pointer offset ${out.off} is not allowed`);
  if (out.s.smin <= -BPF_MAX_VAR_OFF || out.s.smin >= BPF_MAX_VAR_OFF) reject(`value ${out.s.smin} makes ${what} pointer be out of bounds`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Memory

/** check_mem_access for a read into `dst`, or a write of `value`. */
function memAccess(env: Env, regno: number, off: number, size: number, kind: 'read' | 'write', value: Reg | undefined, isImm: boolean, signed = false): Reg | undefined {
  const reg = regs(env)[regno]!;
  const at = off + reg.off;
  if (reg.nullable) reject(`R${regno} invalid mem access '${typeName(reg)}'`);
  switch (reg.t) {
    case 'not_init':
      reject(`R${regno} !read_ok`);
      break;
    case 'any':
      return kind === 'read' ? ptrReg('any') : undefined;
    case 'ctx': {
      const r = ctxLoadStore(env, reg, regno, off, size, kind);
      return r ? coerceLoaded(r, size, signed) : undefined;
    }
    case 'fp': {
      if (!isAligned(reg, off, size)) reject(`misaligned stack access off ${tnumText(reg)}+${reg.off}+${off} size ${size}`);
      if (kind === 'write') {
        stackWrite(env, reg, regno, at, size, value!, isImm);
        return undefined;
      }
      return coerceLoaded(stackRead(env, reg, regno, at, size), size, signed);
    }
    case 'map_value': {
      checkMapValue(reg, regno, at, size, kind, false);
      const lock = reg.map!.spinLockOff;
      if (lock !== undefined && spansLock(reg, at, size, lock)) reject('bpf_spin_lock cannot be accessed directly by load/store');
      if (kind === 'write') return undefined;
      const map = reg.map!;
      if (map.readOnly && map.initial && scalarIsConst(reg.s)) {
        const o = at + Number(scalarConstValue(reg.s)!);
        if (o >= 0 && o + size <= map.initial.length) {
          let v = 0n;
          for (let b = size - 1; b >= 0; b--) v = (v << 8n) | BigInt(map.initial[o + b]!);
          return coerceLoaded(scalarReg(scalarConst(v)), size, signed);
        }
      }
      return coerceLoaded(scalarReg(), size, signed);
    }
    case 'map_key':
      if (kind === 'write') reject(`write to change key R${regno} not allowed`);
      checkRegion(reg, regno, at, size, reg.map!.keySize, false);
      return coerceLoaded(scalarReg(), size, signed);
    case 'mem':
      if (reg.nullable) reject(`R${regno} invalid mem access '${typeName(reg)}'`);
      if (kind === 'write' && reg.rdonly) reject(`R${regno} cannot write into ${typeName(reg)}`);
      checkRegion(reg, regno, at, size, reg.aux, false);
      return kind === 'read' ? coerceLoaded(scalarReg(), size, signed) : undefined;
    case 'pkt': case 'pkt_meta': {
      if (kind === 'write' && !mayAccessPacket(env.progType, 'write')) reject('cannot write into packet');
      checkPacket(reg, regno, at, size, false);
      return kind === 'read' ? coerceLoaded(scalarReg(), size, signed) : undefined;
    }
    case 'flow_keys':
      if (at < 0 || at + size > BPF_FLOW_KEYS_SIZE) reject(`invalid access to flow keys off=${at} size=${size}`);
      return kind === 'read' ? coerceLoaded(scalarReg(), size, signed) : undefined;
    case 'sock': case 'sock_common': case 'tcp_sock': case 'xdp_sock':
      if (reg.nullable) reject(`R${regno} invalid mem access '${typeName(reg)}'`);
      if (kind === 'write') reject(`R${regno} cannot write into ${typeName(reg)}`);
      return coerceLoaded(scalarReg(), size, signed);
    case 'map_ptr':
      if (kind === 'write') reject(`R${regno} cannot write into ${typeName(reg)}`);
      return scalarReg();
    case 'ptr_': case 'buf':
      return kind === 'read' ? ptrReg('any') : undefined;
    default:
  }
  reject(`R${regno} invalid mem access '${typeName(reg)}'`);
  return undefined;
}

/** Whether an access of `size` bytes at `at` (plus the variable offset) may touch the 4-byte lock. */
function spansLock(reg: Reg, at: number, size: number, lock: number): boolean {
  const lo = reg.s.umin + BigInt(at);
  const hi = reg.s.umax + BigInt(at + size);
  return lo < BigInt(lock + 4) && hi > BigInt(lock);
}

function tnumText(reg: Reg): string {
  return formatTnum(reg.s.varOff);
}

/** check_ptr_alignment's word for the region, in "misaligned %saccess". */
const ALIGN_DESC: Partial<Record<string, string>> = { map_value: 'value ', ctx: 'context ', fp: 'stack ', flow_keys: 'flow keys ', sock: 'sock ', sock_common: 'sock_common ', tcp_sock: 'tcp_sock ', xdp_sock: 'xdp_sock ' };

function isAligned(reg: Reg, off: number, size: number): boolean {
  const v = reg.s.varOff;
  const base = BigInt.asUintN(64, v.value + BigInt(reg.off + off));
  const mask = BigInt(size - 1);
  return ((base | v.mask) & mask) === 0n;
}

function load(env: Env, insn: LinkedInsn, rs: Reg[], acquire = false): void {
  const size = sizeOf(insn.opcode);
  const signed = !acquire && (insn.opcode & 0xe0) === BPF_MEMSX;
  checkRead(rs[insn.src]!, insn.src);
  checkWritable(insn.dst);
  const r = memAccess(env, insn.src, insn.off, size, 'read', undefined, false, signed)!;
  rs[insn.dst] = r;
}

function store(env: Env, insn: LinkedInsn, rs: Reg[]): void {
  const size = sizeOf(insn.opcode);
  let value: Reg;
  const isImm = insn.cls === BPF_ST;
  if (isImm) value = scalarReg(scalarConst(BigInt(insn.imm)));
  else {
    value = rs[insn.src]!;
    checkRead(value, insn.src);
  }
  checkRead(rs[insn.dst]!, insn.dst);
  memAccess(env, insn.dst, insn.off, size, 'write', value, isImm);
}

function atomic(env: Env, insn: LinkedInsn, rs: Reg[]): void {
  const size = sizeOf(insn.opcode);
  if (size !== 4 && size !== 8) reject('invalid atomic operand size');
  checkRead(rs[insn.src]!, insn.src);
  checkRead(rs[insn.dst]!, insn.dst);
  if (insn.imm === BPF_CMPXCHG) checkRead(rs[0]!, 0);
  const dst = rs[insn.dst]!;
  if (NO_ATOMICS.has(dst.t)) {
    reject(`BPF_ATOMIC stores into R${insn.dst} ${typeName(dst)} is not allowed`);
  }
  if (dst.t !== 'any' && !isAligned(dst, insn.off, size)) reject(`misaligned ${ALIGN_DESC[dst.t] ?? ''}access off ${tnumText(dst)}+${dst.off}+${insn.off} size ${size}`);
  const fetch = (insn.imm & BPF_FETCH) !== 0 || insn.imm === BPF_XCHG || insn.imm === BPF_CMPXCHG;
  const loaded = memAccess(env, insn.dst, insn.off, size, 'read', undefined, false);
  memAccess(env, insn.dst, insn.off, size, 'write', scalarReg(), false);
  if (fetch) {
    const target = insn.imm === BPF_CMPXCHG ? 0 : insn.src;
    rs[target] = loaded && loaded.t === 'scalar' ? coerceLoaded(scalarReg(), size, false) : loaded ?? scalarReg();
  }
}

function ld(env: Env, insn: LinkedInsn, rs: Reg[]): void {
  checkWritable(insn.dst);
  if (insn.slots === 2) {
    const t = insn.ld;
    if (!t) {
      rs[insn.dst] = scalarReg(scalarConst(insn.imm64 ?? 0n));
      return;
    }
    switch (t.kind) {
      case 'map':
        rs[insn.dst] = ptrReg('map_ptr', { map: env.mapOf(t.map) });
        return;
      case 'map-value':
        rs[insn.dst] = ptrReg('map_value', { map: env.mapOf(t.data), off: t.off });
        return;
      case 'func':
        rs[insn.dst] = ptrReg('func', { aux: t.target });
        return;
      default:
        rs[insn.dst] = ptrReg('any');
        return;
    }
  }
  // Legacy BPF_LD_ABS / BPF_LD_IND (check_ld_abs).
  if (!LD_ABS_TYPES.has(env.progType)) reject('BPF_LD_[ABS|IND] instructions not allowed for this program type');
  if (env.cur.refs.length > 0) reject('BPF_LD_[ABS|IND] cannot be mixed with socket references');
  const r6 = rs[6]!;
  checkRead(r6, 6);
  if ((insn.opcode & 0xe0) === 0x40) checkRead(rs[insn.src]!, insn.src);
  if (r6.t !== 'ctx') reject('at the time of BPF_LD_ABS|IND R6 != pointer to skb');
  for (let r = 1; r <= 5; r++) rs[r] = notInit();
  rs[0] = coerceLoaded(scalarReg(), sizeOf(insn.opcode), false);
}

// ---------------------------------------------------------------------------------------------
// Jumps, calls, exit

function jump(c: StepContext, insn: LinkedInsn, rs: Reg[]): boolean {
  const { env } = c;
  const op = insn.opcode & 0xf0;
  if (insn.cls === BPF_JMP && op === BPF_CALL) {
    call(c, insn);
    return false;
  }
  if (insn.cls === BPF_JMP && op === BPF_EXIT) return exit(c);
  c.jumped();
  const dist = branchDistance(insn) ?? 0;
  const target = insn.index + 1 + dist;
  if (op === BPF_JA) {
    env.cur.insn = target;
    return false;
  }
  if (op === BPF_JCOND) {
    const other = cloneState(env.cur);
    other.insn = target;
    c.push(other);
    env.cur.insn = insn.index + 1;
    return false;
  }
  const jmp32 = insn.cls === BPF_JMP32;
  const x = (insn.opcode & BPF_X) !== 0;
  const dst = rs[insn.dst]!;
  checkRead(dst, insn.dst);
  let src: Reg;
  if (x) {
    src = rs[insn.src]!;
    checkRead(src, insn.src);
  } else {
    src = scalarReg(scalarConst(jmp32 ? BigInt(insn.imm >>> 0) : BigInt(insn.imm)));
  }
  const pred = isBranchTaken(dst, src, op, jmp32);
  if (pred >= 0) {
    if (dst.t === 'scalar') markPrecise(dst.o);
    if (src.t === 'scalar') markPrecise(src.o);
  }
  if (pred === 1) {
    env.cur.insn = target;
    return false;
  }
  if (pred === 0) {
    env.cur.insn = insn.index + 1;
    return false;
  }
  const other = cloneState(env.cur);
  other.insn = target;
  env.cur.insn = insn.index + 1;
  const thisRegs = rs;
  const otherRegs = other.frames[other.frames.length - 1]!.regs;
  let otherDead = false;
  let thisDead = false;
  if (dst.t === 'scalar' && src.t === 'scalar') {
    const edges = branchEdges(op, jmp32, dst.s, src.s, x && insn.src === insn.dst);
    if (!edges.jump) otherDead = true;
    else applyRefinement(other, otherRegs, insn, x, edges.jump);
    if (!edges.fall) thisDead = true;
    else applyRefinement(env.cur, thisRegs, insn, x, edges.fall);
  }
  if (!jmp32 && !x && insn.imm === 0 && (op === BPF_JEQ || op === BPF_JNE) && dst.nullable) {
    markPtrOrNull(env.cur, dst, op === BPF_JNE);
    markPtrOrNull(other, otherRegs[insn.dst]!, op === BPF_JEQ);
  } else if (x && !jmp32) {
    matchPktPointers(op, insn, env.cur, other, thisRegs, otherRegs);
  }
  if (otherDead && thisDead) return true;
  if (thisDead) {
    env.cur = other;
    return false;
  }
  if (!otherDead) c.push(other);
  return false;
}

function applyRefinement(state: VState, rs: Reg[], insn: LinkedInsn, x: boolean, [a, b]: readonly [Scalar, Scalar]): void {
  const dst = rs[insn.dst]!;
  setLinked(state, dst, a);
  if (x) setLinked(state, rs[insn.src]!, b);
}

/**
 * Refined bounds for a scalar go to every register linked to it by id (sync_linked_regs), shifted
 * by the difference of their constants where one was moved by a constant.
 */
function setLinked(state: VState, reg: Reg, s: Scalar): void {
  reg.s = s;
  if (!reg.id || reg.t !== 'scalar') return;
  const id = reg.id;
  for (const r of allRegs(state)) {
    if (r === reg || r.t !== 'scalar' || r.id !== id) continue;
    if ((!r.addConst && !reg.addConst) || r.off === reg.off) r.s = s;
    else r.s = aluScalar(BPF_ADD, true, s, scalarConst(BigInt(r.off - reg.off)));
  }
}

function isBranchTaken(a: Reg, b: Reg, op: number, jmp32: boolean): 1 | 0 | -1 {
  if (a.t === 'scalar' && b.t === 'scalar') return branchTaken(op, jmp32, a.s, b.s);
  if (jmp32) return -1;
  const nonNull = (r: Reg): boolean => !r.nullable && NEVER_NULL.has(r.t);
  const zero = (r: Reg): boolean => r.t === 'scalar' && scalarConstValue(r.s) === 0n;
  if ((nonNull(a) && zero(b)) || (nonNull(b) && zero(a))) {
    if (op === BPF_JEQ) return 0;
    if (op === BPF_JNE) return 1;
  }
  return pktBranchTaken(a, b, op);
}

/** is_pkt_ptr_branch_taken: a pointer known to be at or beyond the packet end decides some comparisons. */
function pktBranchTaken(a: Reg, b: Reg, op: number): 1 | 0 | -1 {
  let pkt: Reg;
  let flipped: number;
  if (b.t === 'pkt_end' && a.t === 'pkt') {
    pkt = a;
    flipped = op;
  } else if (a.t === 'pkt_end' && b.t === 'pkt') {
    pkt = b;
    flipped = ({ [BPF_JGT]: BPF_JLT, [BPF_JLT]: BPF_JGT, [BPF_JGE]: BPF_JLE, [BPF_JLE]: BPF_JGE } as Record<number, number>)[op] ?? op;
  } else return -1;
  if (pkt.range >= 0) return -1;
  switch (flipped) {
    case BPF_JGT: case BPF_JLE:
      if (pkt.range === BEYOND_PKT_END) return flipped === BPF_JGT ? 1 : 0;
      break;
    case BPF_JGE: case BPF_JLT:
      if (pkt.range === AT_PKT_END || pkt.range === BEYOND_PKT_END) return flipped === BPF_JGE ? 1 : 0;
      break;
    default:
  }
  return -1;
}

/** mark_ptr_or_null_regs: one NULL check decides every copy of the pointer. */
function markPtrOrNull(state: VState, reg: Reg, isNull: boolean): void {
  const id = reg.id;
  if (!id) return;
  if (isNull && reg.ref && reg.ref === id) state.refs = state.refs.filter((r) => r.id !== id);
  for (const r of allRegs(state)) {
    if (!r.nullable || r.id !== id) continue;
    if (isNull) Object.assign(r, scalarReg(scalarConst(0n)));
    else {
      notNullType(r);
      r.id = 0;
    }
  }
}

/** find_good_pkt_pointers: every packet pointer with `reg`'s id gets the range a comparison proved. */
function goodPktPointers(state: VState, reg: Reg, rightOpen: boolean): void {
  if (reg.off < 0 || (reg.off === 0 && rightOpen)) return;
  if (reg.s.umax > 0xffffn || reg.s.umax + BigInt(reg.off) > 0xffffn) return;
  const range = reg.off - (rightOpen ? 1 : 0);
  const { id, t } = reg;
  for (const r of allRegs(state)) if (r.t === t && r.id === id && r.range < range) r.range = range;
}

/** mark_pkt_end: on this edge the pointer is at (or beyond) the packet end. */
function markPktEnd(reg: Reg, beyond: boolean): void {
  if (reg.t === 'pkt') reg.range = beyond ? BEYOND_PKT_END : AT_PKT_END;
}

const isInitPkt = (r: Reg, t: string): boolean => r.t === t && r.off === 0 && scalarIsConst(r.s) && scalarConstValue(r.s) === 0n;

/** try_match_pkt_pointers: the eight orientations of a packet pointer compared with the packet end. */
function matchPktPointers(op: number, insn: LinkedInsn, thisState: VState, other: VState, thisRegs: Reg[], otherRegs: Reg[]): void {
  const d = thisRegs[insn.dst]!;
  const s = thisRegs[insn.src]!;
  const dstPkt = (d.t === 'pkt' && s.t === 'pkt_end') || (d.t === 'pkt_meta' && isInitPkt(s, 'pkt'));
  const srcPkt = (d.t === 'pkt_end' && s.t === 'pkt') || (isInitPkt(d, 'pkt') && s.t === 'pkt_meta');
  if (!dstPkt && !srcPkt) return;
  const thisD = thisRegs[insn.dst]!;
  const otherD = otherRegs[insn.dst]!;
  const thisS = thisRegs[insn.src]!;
  const otherS = otherRegs[insn.src]!;
  switch (op) {
    case BPF_JGT:
      if (dstPkt) {
        goodPktPointers(thisState, thisD, false);
        markPktEnd(otherD, true);
      } else {
        goodPktPointers(other, otherS, true);
        markPktEnd(thisS, false);
      }
      break;
    case BPF_JLT:
      if (dstPkt) {
        goodPktPointers(other, otherD, true);
        markPktEnd(thisD, false);
      } else {
        goodPktPointers(thisState, thisS, false);
        markPktEnd(otherS, true);
      }
      break;
    case BPF_JGE:
      if (dstPkt) {
        goodPktPointers(thisState, thisD, true);
        markPktEnd(otherD, false);
      } else {
        goodPktPointers(other, otherS, false);
        markPktEnd(thisS, true);
      }
      break;
    case BPF_JLE:
      if (dstPkt) {
        goodPktPointers(other, otherD, false);
        markPktEnd(thisD, true);
      } else {
        goodPktPointers(thisState, thisS, true);
        markPktEnd(otherS, false);
      }
      break;
    default:
  }
}

function call(c: StepContext, insn: LinkedInsn): void {
  const { env } = c;
  const rs = regs(env);
  if (insn.kfunc !== undefined) {
    for (let r = 1; r <= 5; r++) rs[r] = notInit();
    rs[0] = ptrReg('any');
    env.cur.insn = insn.index + 1;
    return;
  }
  if (insn.src === BPF_PSEUDO_CALL && insn.callTarget !== undefined) {
    const target = insn.callTarget;
    const fn = env.prog.functionAt(target);
    if (fn.global && fn.start === target) {
      (c.globalParams?.(target) ?? []).forEach((p, i) => {
        const r = rs[i + 1]!;
        if (r.t === 'not_init') reject(`R${i + 1} !read_ok`);
        if (p.kind === 'ctx' && r.t !== 'ctx' && r.t !== 'any') {
          reject(`arg#${i} expects pointer to ctx`, `Caller passes invalid args into func#${env.prog.subprogStarts.indexOf(target)} ('${fn.program.name}')`);
        }
      });
      c.globalsCalled.add(target);
      for (let r = 1; r <= 5; r++) rs[r] = notInit();
      rs[0] = scalarReg();
      env.cur.insn = insn.index + 1;
      return;
    }
    if (env.cur.frames.length >= MAX_CALL_FRAMES) reject(`the call stack of ${env.cur.frames.length + 1} frames is too deep`);
    const callee = newFrame(insn.index, target);
    for (let r = 1; r <= 5; r++) callee.regs[r] = copyReg(rs[r]!);
    callee.regs[10] = ptrReg('fp', { aux: env.cur.frames.length });
    for (let r = 0; r <= 5; r++) rs[r] = notInit();
    env.cur.frames.push(callee);
    env.cur.insn = target;
    return;
  }
  const refused = c.helperCheck?.(insn.imm);
  if (refused) reject(refused);
  if (env.cur.lock && insn.imm !== BPF_FUNC_spin_unlock) reject('function calls are not allowed while holding a lock');
  checkHelperCall(env, insn.imm, insn.index, (setup, entry) => {
    // The path goes on after the call as if the callback ran no time; the callback is walked from
    // a copy of the state at the call, and returns to the instruction after it.
    const saved = env.cur;
    env.cur = cloneState(saved);
    env.cur.frames[env.cur.frames.length - 1]!.regs[0] = scalarReg();
    setup();
    env.cur.insn = entry;
    c.push(env.cur);
    env.cur = saved;
  });
  lockHelpers(env, insn.imm);
  env.cur.insn = insn.index + 1;
}

function lockHelpers(env: Env, id: number): void {
  if (id === BPF_FUNC_spin_lock) {
    if (env.cur.lock) reject('Locking two bpf_spin_locks are not allowed');
    env.cur.lock = 1;
  } else if (id === BPF_FUNC_spin_unlock) {
    if (!env.cur.lock) reject('bpf_spin_unlock without taking a lock');
    env.cur.lock = 0;
  }
}

function exit(c: StepContext): boolean {
  const { env } = c;
  const f = frame(env);
  const r0 = f.regs[0]!;
  if (f.callback) {
    checkRead(r0, 0);
    if (r0.t !== 'scalar') reject(`At callback return the register R0 is not a known value (${typeName(r0)})`);
    if (r0.s.smin < BigInt(f.callback.retMin) || r0.s.smax > BigInt(f.callback.retMax)) {
      reject(invalidScalar('At callback return', r0.s, f.callback.retMin, f.callback.retMax));
    }
    env.cur.frames.pop();
    const caller = frame(env);
    caller.regs[0] = scalarReg();
    for (let r = 1; r <= 5; r++) caller.regs[r] = notInit();
    env.cur.insn = f.callsite + 1;
    return false;
  }
  if (env.cur.frames.length > 1) {
    if (r0.t === 'fp' && r0.aux === env.cur.frames.length - 1) reject('cannot return stack pointer to the caller');
    env.cur.frames.pop();
    const caller = frame(env);
    caller.regs[0] = copyReg(r0);
    for (let r = 1; r <= 5; r++) caller.regs[r] = notInit();
    env.cur.insn = f.callsite + 1;
    return false;
  }
  if (env.cur.lock) reject('BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region');
  const entryFn = env.prog.functionAt(f.subprog);
  if (entryFn.global && f.subprog !== 0) {
    checkRead(r0, 0);
    if (r0.t !== 'scalar' && r0.t !== 'any') reject(`At subprogram exit the register R0 is not a scalar value (${typeName(r0)})`);
  } else {
    checkRead(r0, 0);
  }
  if (env.cur.refs.length > 0) {
    const ref = env.cur.refs[0]!;
    reject(`Unreleased reference id=${ref.id} alloc_insn=${ref.insn}`, 'BPF_EXIT instruction in main prog would lead to reference leak');
  }
  if (!(entryFn.global && f.subprog !== 0)) {
    const range = returnRange(env.progType, env.expectedAttachType);
    if (range && r0.t !== 'any') {
      markPrecise(r0.o);
      if (r0.t !== 'scalar') reject(`At program exit the register R0 is not a known value (${typeName(r0)})`);
      if (r0.s.smin < BigInt(range[0]) || r0.s.smax > BigInt(range[1])) reject(invalidScalar('At program exit', r0.s, range[0], range[1]));
    }
  }
  return true;
}

function invalidScalar(where: string, s: Scalar, min: number, max: number): string {
  let text = `${where} the register R0 has`;
  let unknown = true;
  if (s.smin > -(1n << 63n)) {
    text += ` smin=${s.smin}`;
    unknown = false;
  }
  if (s.smax < (1n << 63n) - 1n) {
    text += ` smax=${s.smax}`;
    unknown = false;
  }
  if (unknown) text += ' unknown scalar value';
  return `${text} should have been in [${min}, ${max}]`;
}

// ---------------------------------------------------------------------------------------------
// State pruning

type IdMap = Map<number, number>;

function checkIds(old: number, cur: number, map: IdMap, rev: IdMap): boolean {
  if (!old && !cur) return true;
  if (!old || !cur) return false;
  const m = map.get(old);
  if (m !== undefined) return m === cur;
  if (rev.has(cur)) return false;
  map.set(old, cur);
  rev.set(cur, old);
  return true;
}

function regSafe(old: Reg, cur: Reg, exact: boolean, ids: IdMap, rev: IdMap, precise: boolean): boolean {
  if (old.t === 'not_init') return !exact || cur.t === 'not_init';
  if (old.t !== cur.t) return false;
  if (old.t === 'any') return true;
  if (old.t === 'scalar') {
    if (exact) return scalarEquals(old.s, cur.s) && checkIds(old.id, cur.id, ids, rev);
    if (!precise) return true;
    if (old.addConst !== cur.addConst || (old.addConst && old.off !== cur.off)) return false;
    if (!scalarWithin(old.s, cur.s)) return false;
    return !old.id || checkIds(old.id, cur.id, ids, rev);
  }
  if (old.nullable !== cur.nullable || old.off !== cur.off || old.map !== cur.map || old.aux !== cur.aux || old.ringbuf !== cur.ringbuf || old.rdonly !== cur.rdonly) return false;
  if (exact ? !scalarEquals(old.s, cur.s) : !scalarWithin(old.s, cur.s)) return false;
  if (old.t === 'pkt' || old.t === 'pkt_meta') {
    if (old.range < 0 || cur.range < 0 ? old.range !== cur.range : old.range > cur.range) return false;
  }
  if (!checkIds(old.id, cur.id, ids, rev)) return false;
  return checkIds(old.ref, cur.ref, ids, rev);
}

function stackSafe(k: Kept, fi: number, old: Frame, cur: Frame, exact: boolean, ids: IdMap, rev: IdMap): boolean {
  const os = old.stype;
  const cs = cur.stype;
  for (let slot = 0; slot * BPF_REG_SIZE < old.allocated; slot++) {
    if (!exact && !k.slotRead.has(slotKey(fi, slot))) continue;
    const base = slot * BPF_REG_SIZE;
    const inCur = base < cur.allocated;
    let spill = false;
    for (let j = 0; j < BPF_REG_SIZE; j++) {
      const ot = os[base + j]!;
      const ct = inCur ? cs[base + j]! : STACK_INVALID;
      if (exact) {
        if (ot !== ct) return false;
      } else if (ot === STACK_ZERO) {
        if (ct === STACK_ZERO) continue;
        const sp = cur.spilled[slot];
        if (ct === STACK_SPILL && sp && sp.t === 'scalar' && scalarConstValue(sp.s) === 0n) continue;
        return false;
      }
      if (ot === STACK_SPILL) spill = true;
    }
    if (!spill || os[base + BPF_REG_SIZE - 1] !== STACK_SPILL) continue;
    const o = old.spilled[slot];
    if (!o) continue;
    const precise = k.prec.has(spillKey(fi, slot));
    if (!exact && o.t === 'scalar' && !precise) continue;
    const c = cur.spilled[slot];
    if (!c || !inCur || cs[base + BPF_REG_SIZE - 1] !== STACK_SPILL) return false;
    if (!regSafe(o, c, exact, ids, rev, precise)) return false;
  }
  if (exact) {
    for (let b = old.allocated; b < cur.allocated; b++) if (cur.stype[b] !== STACK_INVALID) return false;
  }
  return true;
}

function statesEqual(k: Kept, cur: VState, live: Uint16Array, exact: boolean): boolean {
  const old = k.state;
  if (old.frames.length !== cur.frames.length || old.lock !== cur.lock || old.refs.length !== cur.refs.length) return false;
  const ids: IdMap = new Map();
  const rev: IdMap = new Map();
  const n = old.frames.length;
  for (let fi = 0; fi < n; fi++) {
    const of = old.frames[fi]!;
    const cf = cur.frames[fi]!;
    if (of.callsite !== cf.callsite || of.subprog !== cf.subprog || !!of.callback !== !!cf.callback) return false;
    // The innermost frame runs on at the state's instruction; callers resume after their call, with r0-r5 written by it.
    const mask = fi === n - 1 ? live[old.insn]! : (live[cur.frames[fi + 1]!.callsite + 1]! & ~0x3f) | 0;
    for (let r = 0; r < 10; r++) {
      if (!exact && (mask & (1 << r)) === 0) continue;
      if (!regSafe(of.regs[r]!, cf.regs[r]!, exact, ids, rev, k.prec.has(regKey(fi, r)))) return false;
    }
    if (!stackSafe(k, fi, of, cf, exact, ids, rev)) return false;
  }
  for (let i = 0; i < old.refs.length; i++) if (!checkIds(old.refs[i]!.id, cur.refs[i]!.id, ids, rev)) return false;
  return true;
}

/** A new kept state: each scalar of the path now comes from the kept state's own copy. */
function takeOrigins(cur: VState, k: Kept): void {
  cur.frames.forEach((f, fi) => {
    for (let slot = 0; slot * BPF_REG_SIZE < f.allocated; slot++) {
      k.slotParent.set(slotKey(fi, slot), f.liveOrigin[slot]);
      f.liveOrigin[slot] = k;
    }
    f.regs.forEach((r, ri) => {
      if (r.t !== 'scalar') return;
      const key = regKey(fi, ri);
      if (r.o) k.from.set(key, r.o);
      r.o = [{ node: k, key }];
    });
    f.spilled.forEach((r, slot) => {
      if (!r || r.t !== 'scalar') return;
      const key = spillKey(fi, slot);
      if (r.o) k.from.set(key, r.o);
      r.o = [{ node: k, key }];
    });
  });
}

/** propagate_precision: a path pruned against `old` goes on as old did, so it needs old's precise scalars too. */
function propagatePrecision(old: Kept, cur: VState): void {
  for (const key of old.slotRead) {
    const f = cur.frames[Math.floor(key / 64)];
    if (f) markSlotRead(f, Math.floor(key / 64), key % 64);
  }
  for (const key of old.prec) {
    const fi = Math.floor(key / 128);
    const rest = key % 128;
    const f = cur.frames[fi];
    if (!f) continue;
    const r = rest < 16 ? f.regs[rest] : f.spilled[rest - 16];
    if (r) markPrecise(r.o);
  }
}

