// Memory accesses through a register, region by region, with the kernel's rules and messages
// (check_mem_access, check_stack_*, check_packet_access, check_map_access, check_mem_region_access,
// check_ctx_access in kernel/bpf/verifier.c), for a privileged loader: uninitialised stack may be
// read, pointers may be stored anywhere, only stack accesses must be aligned.
import { bpf_prog_type as P } from '../uapi/index.js';
import { ctxAccess, invalidCtxAccessMessage, type CtxLoad } from './context.js';
import { reject, newId, type Env } from './env.js';
import {
  scalarConst, scalarUnknown, scalarIsConst, scalarConstValue, truncScalar, sextScalar, type Scalar,
} from './scalar.js';
import { formatTnum } from './tnum.js';
import {
  BPF_REG_SIZE, MAX_BPF_STACK, STACK_INVALID, STACK_MISC, STACK_SPILL, STACK_ZERO, copyReg, isPointer, markSlotRead,
  ptrReg, scalarReg, typeName, type Frame, type Reg,
} from './state.js';

export const BPF_MAX_VAR_OFF = 1n << 29n;

export type AccessKind = 'read' | 'write';

const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);

/** Program types that may read (and which may write) packet data directly (may_access_direct_pkt_data). */
const PKT_READ_ONLY = new Set<number>([
  P.BPF_PROG_TYPE_LWT_IN, P.BPF_PROG_TYPE_LWT_OUT, P.BPF_PROG_TYPE_LWT_SEG6LOCAL, P.BPF_PROG_TYPE_SK_REUSEPORT,
  P.BPF_PROG_TYPE_FLOW_DISSECTOR, P.BPF_PROG_TYPE_CGROUP_SKB,
]);
const PKT_READ_WRITE = new Set<number>([
  P.BPF_PROG_TYPE_SCHED_CLS, P.BPF_PROG_TYPE_SCHED_ACT, P.BPF_PROG_TYPE_XDP, P.BPF_PROG_TYPE_LWT_XMIT,
  P.BPF_PROG_TYPE_SK_SKB, P.BPF_PROG_TYPE_SK_MSG,
]);

export function mayAccessPacket(progType: number, kind: AccessKind): boolean {
  if (PKT_READ_WRITE.has(progType) || progType === P.BPF_PROG_TYPE_CGROUP_SOCKOPT) return true;
  return PKT_READ_ONLY.has(progType) && kind === 'read';
}

/** __check_mem_access's message for the region a register points into. */
function memMessage(reg: Reg, regno: number, off: number, size: number, memSize: number): string {
  switch (reg.t) {
    case 'map_value': return `invalid access to map value, value_size=${memSize} off=${off} size=${size}`;
    case 'pkt': case 'pkt_meta': case 'pkt_end':
      return `invalid access to packet, off=${off} size=${size}, R${regno}(id=${reg.id},off=${off},r=${memSize})`;
    case 'mem': return `invalid access to memory, mem_size=${memSize} off=${off} size=${size}`;
    default: return `invalid access to map key, key_size=${memSize} off=${off} size=${size}`;
  }
}

function memOk(off: bigint, size: number, memSize: number, zeroSizeAllowed: boolean): boolean {
  const sizeOk = size > 0 || (size === 0 && zeroSizeAllowed);
  return off >= 0n && sizeOk && off + BigInt(size) <= BigInt(memSize);
}

/** check_mem_region_access: the fixed and variable offset of `reg` plus `off`, `size` bytes, inside `memSize`. */
export function checkRegion(reg: Reg, regno: number, off: number, size: number, memSize: number, zeroSizeAllowed: boolean): void {
  const s = reg.s;
  const o = BigInt(off);
  if (s.smin < 0n && (s.smin === -(1n << 63n) || o + s.smin !== BigInt.asIntN(32, o + s.smin) || s.smin + o < 0n)) {
    reject(`R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`);
  }
  if (!memOk(s.smin + o, size, memSize, zeroSizeAllowed)) {
    reject(memMessage(reg, regno, Number(s.smin + o), size, memSize), `R${regno} min value is outside of the allowed memory range`);
  }
  if (s.umax >= BPF_MAX_VAR_OFF) reject(`R${regno} unbounded memory access, make sure to bounds check any such access`);
  if (!memOk(s.umax + o, size, memSize, zeroSizeAllowed)) {
    reject(memMessage(reg, regno, Number(s.umax + o), size, memSize), `R${regno} max value is outside of the allowed memory range`);
  }
}

export function checkPacket(reg: Reg, regno: number, off: number, size: number, zeroSizeAllowed: boolean): void {
  if (reg.s.smin < 0n) reject(`R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`);
  if (reg.range < 0 || !memOk(BigInt(off), size, reg.range, zeroSizeAllowed)) {
    reject(memMessage(reg, regno, off, size, Math.max(reg.range, 0)), `R${regno} offset is outside of the packet`);
  }
}

export function checkMapValue(reg: Reg, regno: number, off: number, size: number, kind: AccessKind, zeroSizeAllowed: boolean): void {
  const map = reg.map!;
  if (kind === 'write' && map.readOnly) {
    reject(`write into map forbidden, value_size=${map.valueSize} off=${off} size=${size}`);
  }
  checkRegion(reg, regno, off, size, map.valueSize, zeroSizeAllowed);
}

// ---------------------------------------------------------------------------------------------
// Stack

/** The byte index of stack address `addr` (negative, r10-relative) in Frame.stype. */
const byteOf = (addr: number): number => -addr - 1;

function grow(f: Frame, bytes: number): void {
  const rounded = Math.ceil(bytes / BPF_REG_SIZE) * BPF_REG_SIZE;
  if (rounded > f.allocated) f.allocated = rounded;
}

/** check_stack_access_within_bounds (helpers' accesses count as reads or writes too). Returns [min_off, max_off) of what may be touched. */
export function stackBounds(env: Env, reg: Reg, regno: number, off: number, size: number, kind: AccessKind): [number, number] {
  const extra = kind === 'read' ? ' read from' : ' write to';
  let minOff: bigint;
  let maxOff: bigint;
  const o = BigInt(off);
  if (scalarIsConst(reg.s)) {
    minOff = s64(scalarConstValue(reg.s)!) + o;
    maxOff = minOff + BigInt(size);
  } else {
    if (reg.s.smax >= BPF_MAX_VAR_OFF || reg.s.smin <= -BPF_MAX_VAR_OFF) reject(`invalid unbounded variable-offset${extra} stack R${regno}`);
    minOff = reg.s.smin + o;
    maxOff = reg.s.smax + o + BigInt(size);
  }
  if (minOff < -BigInt(MAX_BPF_STACK) || minOff > -1n || maxOff > 0n || size < 0) {
    if (scalarIsConst(reg.s)) reject(`invalid${extra} stack R${regno} off=${Number(minOff)} size=${size}`);
    reject(`invalid variable-offset${extra} stack R${regno} var_off=${formatTnum(reg.s.varOff)} off=${off} size=${size}`);
  }
  const f = env.cur.frames[reg.aux]!;
  grow(f, Number(-minOff));
  return [Number(minOff), Number(maxOff)];
}

function scrubSpill(f: Frame, slot: number): void {
  if (f.stype[slot * BPF_REG_SIZE + BPF_REG_SIZE - 1] !== STACK_SPILL && !f.spilled[slot]) return;
  for (let j = 0; j < BPF_REG_SIZE; j++) {
    const b = slot * BPF_REG_SIZE + j;
    if (f.stype[b] === STACK_SPILL) f.stype[b] = STACK_MISC;
  }
  f.spilled[slot] = undefined;
}

/** The frame number of the frame a stack pointer points into. */
const frameNo = (reg: Reg): number => reg.aux;

/** Every slot [lo, hi) (r10-relative) touches is read: the kept states that hold them learn it. */
function readSlots(f: Frame, fi: number, lo: number, hi: number): void {
  for (let slot = Math.floor(byteOf(hi - 1) / BPF_REG_SIZE); slot <= Math.floor(byteOf(lo) / BPF_REG_SIZE); slot++) {
    if (slot >= 0 && slot < MAX_BPF_STACK / BPF_REG_SIZE) markSlotRead(f, fi, slot);
  }
}

/** Marks [lo, hi) (r10-relative) as written with data the walk does not track. */
export function stackClobber(f: Frame, lo: number, hi: number, zero = false): void {
  for (let a = lo; a < hi; a++) {
    const slot = Math.floor(byteOf(a) / BPF_REG_SIZE);
    scrubSpill(f, slot);
    f.stype[byteOf(a)] = zero ? STACK_ZERO : STACK_MISC;
  }
}

const valueWidth = (s: Scalar): number => {
  const u = s.umax;
  let bits = 0;
  for (let v = u; v > 0n; v >>= 1n) bits++;
  return bits;
};

/** check_stack_write_fixed_off / _var_off. `value` is the stored register (a copy), or a constant for BPF_ST. */
export function stackWrite(env: Env, reg: Reg, regno: number, off: number, size: number, value: Reg, isImm: boolean): void {
  const [lo, hi] = stackBounds(env, reg, regno, off, size, 'write');
  const f = env.cur.frames[reg.aux]!;
  if (!scalarIsConst(reg.s)) {
    const zero = value.t === 'scalar' && scalarConstValue(value.s) === 0n;
    readSlots(f, frameNo(reg), lo, hi);
    stackClobber(f, lo, hi, zero);
    return;
  }
  const slot = Math.floor(byteOf(lo) / BPF_REG_SIZE);
  const aligned = lo % BPF_REG_SIZE === 0;
  // Only a whole slot written hides what it held; a partial write keeps the rest, as a read would.
  if (aligned && size === BPF_REG_SIZE) f.liveOrigin[slot] = undefined;
  else readSlots(f, frameNo(reg), lo, hi);
  if (value.t === 'scalar' && aligned && !isImm) {
    const spill = copyReg(value);
    if (valueWidth(value.s) > size * 8) spill.id = 0;
    saveSpill(f, slot, spill, size);
    return;
  }
  if (value.t === 'scalar' && aligned && isImm) {
    saveSpill(f, slot, value, size);
    return;
  }
  if (isPointer(value)) {
    if (size !== BPF_REG_SIZE) reject('invalid size of register spill');
    saveSpill(f, slot, copyReg(value), size);
    return;
  }
  const zero = value.t === 'scalar' && scalarConstValue(value.s) === 0n;
  scrubSpill(f, slot);
  for (let a = lo; a < hi; a++) f.stype[byteOf(a)] = zero ? STACK_ZERO : STACK_MISC;
}

function saveSpill(f: Frame, slot: number, value: Reg, size: number): void {
  scrubSpill(f, slot);
  f.spilled[slot] = value;
  const base = slot * BPF_REG_SIZE;
  // The spill's bytes sit at the slot's lowest addresses; the rest keep zero, or become misc.
  for (let j = BPF_REG_SIZE - 1; j >= 0; j--) {
    const b = base + j;
    if (j >= BPF_REG_SIZE - size) f.stype[b] = STACK_SPILL;
    else if (f.stype[b] !== STACK_ZERO && f.stype[b] !== STACK_INVALID) f.stype[b] = STACK_MISC;
  }
}

/** check_stack_read_fixed_off / _var_off: the register a load from the stack produces. */
export function stackRead(env: Env, reg: Reg, regno: number, off: number, size: number): Reg {
  const [lo, hi] = stackBounds(env, reg, regno, off, size, 'read');
  const f = env.cur.frames[reg.aux]!;
  readSlots(f, frameNo(reg), lo, hi);
  if (!scalarIsConst(reg.s)) {
    let zeros = 0;
    for (let a = lo; a < hi; a++) if (f.stype[byteOf(a)] === STACK_ZERO) zeros++;
    return zeros === hi - lo ? scalarReg(scalarConst(0n)) : scalarReg(scalarUnknown());
  }
  const slot = Math.floor(byteOf(lo) / BPF_REG_SIZE);
  const base = slot * BPF_REG_SIZE;
  const spill = f.spilled[slot];
  if (spill && f.stype[base + BPF_REG_SIZE - 1] === STACK_SPILL) {
    let spillSize = 1;
    for (let j = BPF_REG_SIZE - 1; j > 0 && f.stype[base + j - 1] === STACK_SPILL; j--) spillSize++;
    if (size !== BPF_REG_SIZE || spillSize !== BPF_REG_SIZE) {
      if (spill.t !== 'scalar') reject('invalid size of register fill');
      if (size <= spillSize && lo % BPF_REG_SIZE === 0) {
        const r = copyReg(spill);
        if (valueWidth(spill.s) > size * 8) r.id = 0;
        return r;
      }
      let spillCnt = 0;
      let zeroCnt = 0;
      for (let a = lo; a < hi; a++) {
        const t = f.stype[byteOf(a)];
        if (t === STACK_SPILL) spillCnt++;
        else if (t === STACK_ZERO) zeroCnt++;
      }
      if ((spillCnt === size && scalarConstValue(spill.s) === 0n) || zeroCnt === size) return scalarReg(scalarConst(0n));
      return scalarReg(scalarUnknown());
    }
    return copyReg(spill);
  }
  let zeros = 0;
  for (let a = lo; a < hi; a++) if (f.stype[byteOf(a)] === STACK_ZERO) zeros++;
  return zeros === size ? scalarReg(scalarConst(0n)) : scalarReg(scalarUnknown());
}

/**
 * check_helper_mem_access on a stack pointer (check_stack_range_initialized), privileged: every
 * byte may be read; a helper that writes (`write`) leaves the bytes as data the walk does not track.
 */
export function stackHelperAccess(env: Env, reg: Reg, regno: number, off: number, size: number, write: boolean, zeroSizeAllowed: boolean): void {
  if (size === 0 && zeroSizeAllowed) return;
  const [lo, hi] = stackBounds(env, reg, regno, off, size, write ? 'write' : 'read');
  const f = env.cur.frames[reg.aux]!;
  // A helper may write only part of what it is given: what it leaves counts as read.
  readSlots(f, frameNo(reg), lo, hi);
  if (write) stackClobber(f, lo, hi);
}

// ---------------------------------------------------------------------------------------------
// Context

/** __check_ptr_off_reg: ctx (and other fixed-layout) pointers must not have been moved. */
export function checkPtrOffReg(reg: Reg, regno: number, fixedOffOk: boolean): void {
  if (reg.off < 0) reject(`negative offset ${typeName(reg)} ptr R${regno} off=${reg.off} disallowed`);
  if (!fixedOffOk && reg.off) reject(`dereference of modified ${typeName(reg)} ptr R${regno} off=${reg.off} disallowed`);
  if (!scalarIsConst(reg.s) || scalarConstValue(reg.s) !== 0n) {
    reject(`variable ${typeName(reg)} access var_off=${formatTnum(reg.s.varOff)} disallowed`);
  }
}

function ctxResult(env: Env, load: CtxLoad): Reg {
  switch (load.kind) {
    case 'pkt': case 'pkt_meta': case 'pkt_end': case 'flow_keys':
      return ptrReg(load.kind);
    case 'sock_common_or_null': return ptrReg('sock_common', { nullable: true, id: newId(env) });
    case 'sock_or_null': return ptrReg('sock', { nullable: true, id: newId(env) });
    case 'sock': return ptrReg('sock');
    case 'scalar': return scalarReg();
    default: return ptrReg('any');
  }
}

export function ctxLoadStore(env: Env, reg: Reg, regno: number, off: number, size: number, kind: AccessKind): Reg | undefined {
  checkPtrOffReg(reg, regno, false);
  const res = ctxAccess(env.progType, env.expectedAttachType, off, size, kind === 'write');
  if (res.ok === 'btf-args') return kind === 'read' ? ptrReg('any') : undefined;
  if (res.ok === false) reject(invalidCtxAccessMessage(off, size));
  if (res.ok !== true || kind === 'write') return undefined;
  return ctxResult(env, res.load);
}

/** What a load of `size` bytes leaves in a scalar destination (the end of check_mem_access). */
export function coerceLoaded(r: Reg, size: number, signed: boolean): Reg {
  if (r.t !== 'scalar' || size >= BPF_REG_SIZE) return r;
  const out = copyReg(r);
  out.s = signed ? sextScalar(r.s, size as 1 | 2 | 4, true) : truncScalar(r.s, size as 1 | 2 | 4);
  if (!signed && out.id && valueWidth(r.s) > size * 8) out.id = 0;
  return out;
}

