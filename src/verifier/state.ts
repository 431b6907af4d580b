// Register, stack and frame states of the offline verifier: the parts of the kernel's struct
// bpf_reg_state, bpf_func_state and bpf_verifier_state (include/linux/bpf_verifier.h) that decide
// verdicts, and their text as the kernel's log prints it.
import { scalarConst, scalarUnknown, scalarIsConst, scalarConstValue, formatScalar, type Scalar } from './scalar.js';

/** enum bpf_reg_type, by the names reg_type_str prints (the _or_null and ringbuf_/rdonly_ parts are flags). */
export type RegType =
  | 'not_init' | 'scalar' | 'ctx' | 'map_ptr' | 'map_value' | 'map_key' | 'fp' | 'pkt' | 'pkt_meta' | 'pkt_end'
  | 'mem' | 'sock' | 'sock_common' | 'tcp_sock' | 'xdp_sock' | 'flow_keys' | 'func' | 'buf' | 'ptr_'
  /**
   * A value bpfts does not model (a kfunc's result, a BTF pointer's field, an extern): any use is
   * allowed, so that what is not understood never becomes a false alarm.
   */
  | 'any';

/** A map as the verifier sees it: a definition of the object, or a global data section's array. */
export interface VMap {
  name: string;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  /** .rodata and .kconfig are frozen and BPF_F_RDONLY_PROG: the program cannot write them. */
  readOnly: boolean;
  inner?: VMap;
  /** Global data: the section's initial bytes, so loads of .rodata constants are known. */
  initial?: Uint8Array;
  /** Where the value's struct bpf_spin_lock is (from the map's BTF value type). */
  spinLockOff?: number;
}

/**
 * Precision (the kernel's mark_chain_precision, done forwards): a kept state records which of its
 * scalars some later path needed exactly (`prec`, by slotKey); each scalar of a path carries the
 * kept scalars it was computed from (`o`), so that a use that needs its exact value marks them.
 * Scalars never marked may differ between two states that are otherwise equal.
 */
export interface PrecNode {
  prec: Set<number>;
  /** For each of its scalars, the scalars of the earlier kept state it came from. */
  from: Map<number, readonly Tok[]>;
}
/**
 * Stack liveness (the kernel's REG_LIVE_READ on stack slots): a kept state records which of its
 * slots a later path read before overwriting them; only those can make two states differ. Each
 * frame's slot knows the latest kept state whose value it still holds.
 */
export interface SlotNode {
  slotRead: Set<number>;
  slotParent: Map<number, SlotNode | undefined>;
}
export const slotKey = (frame: number, slot: number): number => frame * 64 + slot;

/** A read of slot `slot` of frame number `fi`: every kept state whose value it sees learns it. */
export function markSlotRead(f: Frame, fi: number, slot: number): void {
  const key = slotKey(fi, slot);
  for (let n = f.liveOrigin[slot]; n && !n.slotRead.has(key); n = n.slotParent.get(key)) n.slotRead.add(key);
}

export interface Tok {
  node: PrecNode;
  key: number;
}
export const regKey = (frame: number, reg: number): number => frame * 128 + reg;
export const spillKey = (frame: number, slot: number): number => frame * 128 + 16 + slot;

export function markPrecise(toks: readonly Tok[] | undefined): void {
  if (!toks) return;
  const work = [...toks];
  while (work.length > 0) {
    const t = work.pop()!;
    if (t.node.prec.has(t.key)) continue;
    t.node.prec.add(t.key);
    const up = t.node.from.get(t.key);
    if (up) for (const u of up) work.push(u);
  }
}

/** The origins of a value computed from two others. */
export function joinOrigins(a: readonly Tok[] | undefined, b: readonly Tok[] | undefined): readonly Tok[] | undefined {
  if (!a || a.length === 0) return b;
  if (!b || b.length === 0 || a === b) return a;
  const out = [...a];
  for (const t of b) if (!out.some((x) => x.node === t.node && x.key === t.key)) out.push(t);
  return out;
}

export interface Reg {
  t: RegType;
  /** Scalars: the kept scalars this value was computed from (see PrecNode). */
  o: readonly Tok[] | undefined;
  /** Scalars: the value. Pointers: the variable part of the offset (var_off and its bounds). */
  s: Scalar;
  /** Pointers: the fixed part of the offset. */
  off: number;
  /** Pointers that may be NULL, packet pointers and linked scalars share ids. */
  id: number;
  nullable: boolean;
  /** The acquired reference this pointer holds (ref_obj_id), 0 for none. */
  ref: number;
  /** Packet pointers: bytes known to be inside the packet from `off` on (r=), or AT_PKT_END / BEYOND_PKT_END. */
  range: number;
  map: VMap | undefined;
  /** mem: its size; func: the callee's first instruction; fp: the frame number. */
  aux: number;
  ringbuf: boolean;
  rdonly: boolean;
  /**
   * Scalars linked by id (BPF_ADD_CONST): this one is the linked value plus the constant `off`, so
   * a bound learnt for one moves to the others shifted by the difference (sync_linked_regs).
   */
  addConst: boolean;
}

export const AT_PKT_END = -1;
export const BEYOND_PKT_END = -2;

const UNKNOWN = scalarUnknown();
const ZERO = scalarConst(0n);

// Every register is built with the same fields in the same order: copies are the walk's most
// frequent allocation, and one object shape keeps them cheap.
function reg(t: RegType, s: Scalar): Reg {
  return { t, o: undefined, s, off: 0, id: 0, nullable: false, ref: 0, range: 0, map: undefined, aux: 0, ringbuf: false, rdonly: false, addConst: false };
}

export function notInit(): Reg {
  return reg('not_init', UNKNOWN);
}

export function scalarReg(s: Scalar = UNKNOWN): Reg {
  return reg('scalar', s);
}

export function ptrReg(t: RegType, extra?: Partial<Reg>): Reg {
  const r = reg(t, ZERO);
  return extra ? Object.assign(r, extra) : r;
}

export function copyReg(r: Reg): Reg {
  return { t: r.t, o: r.o, s: r.s, off: r.off, id: r.id, nullable: r.nullable, ref: r.ref, range: r.range, map: r.map, aux: r.aux, ringbuf: r.ringbuf, rdonly: r.rdonly, addConst: r.addConst };
}

export const isPointer = (r: Reg): boolean => r.t !== 'scalar' && r.t !== 'not_init';
export const isPktPointer = (r: Reg): boolean => r.t === 'pkt' || r.t === 'pkt_meta';

/** The stack slot byte types (enum bpf_stack_slot_type). */
export const STACK_INVALID = 0;
export const STACK_SPILL = 1;
export const STACK_MISC = 2;
export const STACK_ZERO = 3;

export const MAX_BPF_STACK = 512;
export const BPF_REG_SIZE = 8;
const SLOTS = MAX_BPF_STACK / BPF_REG_SIZE;

export interface Frame {
  regs: Reg[];
  /** Byte types, index = -(offset from r10) - 1: byte fp-1 is 0, fp-512 is 511. */
  stype: Uint8Array;
  /** Spilled registers by slot: slot k covers fp-8(k+1) .. fp-8k-1. */
  spilled: (Reg | undefined)[];
  /** Deepest byte the frame has touched (allocated_stack). */
  allocated: number;
  /** By slot: the latest kept state whose value of the slot it still holds (see SlotNode). */
  liveOrigin: (SlotNode | undefined)[];
  /** The call instruction that made this frame, -1 for the entry frame. */
  callsite: number;
  /** First instruction of the function this frame runs. */
  subprog: number;
  /** A bpf_loop/for_each callback frame: its exit returns to the helper, not to the call. */
  callback?: { helper: number; retMin: number; retMax: number };
}

export interface RefState {
  id: number;
  insn: number;
}

export interface VState {
  frames: Frame[];
  refs: RefState[];
  /** bpf_spin_lock held: the lock's map value id, 0 for none. */
  lock: number;
  /** Instruction the state is at. */
  insn: number;
}

export function newFrame(callsite: number, subprog: number): Frame {
  const regs: Reg[] = [];
  for (let r = 0; r < 11; r++) regs.push(notInit());
  return { regs, stype: new Uint8Array(MAX_BPF_STACK), spilled: new Array(SLOTS).fill(undefined), allocated: 0, liveOrigin: new Array(SLOTS).fill(undefined), callsite, subprog };
}

export function cloneFrame(f: Frame): Frame {
  const regs = new Array<Reg>(f.regs.length);
  for (let i = 0; i < regs.length; i++) regs[i] = copyReg(f.regs[i]!);
  const spilled = new Array<Reg | undefined>(f.spilled.length);
  for (let i = 0; i < spilled.length; i++) {
    const sp = f.spilled[i];
    spilled[i] = sp ? copyReg(sp) : undefined;
  }
  return {
    regs, stype: new Uint8Array(f.stype), spilled, liveOrigin: f.liveOrigin.slice(),
    allocated: f.allocated, callsite: f.callsite, subprog: f.subprog,
    ...(f.callback ? { callback: f.callback } : {}),
  };
}

export function cloneState(s: VState): VState {
  return { frames: s.frames.map(cloneFrame), refs: s.refs.map((r) => ({ ...r })), lock: s.lock, insn: s.insn };
}

/** Every register of the state, spilled ones included (for marking by id). */
export function* allRegs(s: VState): Generator<Reg> {
  for (const f of s.frames) {
    for (const r of f.regs) yield r;
    for (const r of f.spilled) if (r) yield r;
  }
}

/** reg_type_str: the type's name with its flags, as the kernel prints it. */
export function typeName(r: Reg): string {
  if (r.t === 'not_init') return 'not_init';
  const prefix = (r.ringbuf ? 'ringbuf_' : '') + (r.rdonly ? 'rdonly_' : '');
  return `${prefix}${r.t}${r.nullable ? '_or_null' : ''}`;
}

function varOffText(r: Reg): string {
  if (scalarIsConst(r.s)) return '';
  const text = formatScalar(r.s);
  const inner = text.startsWith('scalar(') ? text.slice(7, -1) : text;
  return inner ? `,${inner}` : '';
}

/** One register as print_verifier_state writes it after `Rn=`. */
export function formatReg(r: Reg): string {
  switch (r.t) {
    case 'not_init': return '?';
    case 'scalar': return r.id ? formatScalar(r.s).replace(/^scalar\(/, `scalar(id=${r.id},`).replace(/,\)$/, ')') : formatScalar(r.s);
    case 'fp': return r.off === 0 && scalarIsConst(r.s) ? 'fp0' : scalarIsConst(r.s) ? `fp${r.off + Number(BigInt.asIntN(64, scalarConstValue(r.s)!))}` : `fp(off=${r.off}${varOffText(r)})`;
    default: {
      const parts: string[] = [];
      if (r.id) parts.push(`id=${r.id}`);
      if (r.ref) parts.push(`ref_obj_id=${r.ref}`);
      if (r.map) parts.push(`map=${r.map.name}`, `ks=${r.map.keySize}`, `vs=${r.map.valueSize}`);
      if (r.off) parts.push(`off=${r.off}`);
      if (r.t === 'pkt' || r.t === 'pkt_meta') parts.push(`r=${r.range}`);
      if (r.t === 'mem') parts.push(`sz=${r.aux}`);
      return `${typeName(r)}(${parts.join(',')}${varOffText(r)})`;
    }
  }
}

const STYPE_CHAR = ['?', 'r', 'm', '0'];

/** The frame's registers and stack as one log line (print_verifier_state). */
export function formatFrame(f: Frame, frameNo: number): string {
  const out: string[] = [];
  f.regs.forEach((r, i) => {
    if (r.t !== 'not_init') out.push(`R${i}=${i === 10 ? `fp0` : formatReg(r)}`);
  });
  for (let k = 0; k * BPF_REG_SIZE < f.allocated; k++) {
    const bytes = f.stype.subarray(k * BPF_REG_SIZE, k * BPF_REG_SIZE + BPF_REG_SIZE);
    if (bytes.every((b) => b === STACK_INVALID)) continue;
    const spill = f.spilled[k];
    const off = -(k + 1) * BPF_REG_SIZE;
    if (spill && bytes.every((b) => b === STACK_SPILL)) out.push(`fp${off}=${formatReg(spill)}`);
    else out.push(`fp${off}=${[...bytes].reverse().map((b) => STYPE_CHAR[b]).join('')}`);
  }
  return (frameNo > 0 ? `frame${frameNo}: ` : '') + out.join(' ');
}

export function formatState(s: VState): string {
  return s.frames.map((f, i) => formatFrame(f, i)).join(' ');
}
