// The bounds of a SCALAR_VALUE register as the Linux 6.18 verifier tracks them (kernel/bpf/verifier.c):
// a tnum plus signed and unsigned ranges in 64 and 32 bits, the transfer functions of
// adjust_scalar_min_max_vals and check_alu_op's moves, the load coercions, the conditional-jump
// logic of is_scalar_branch_taken and reg_set_min_max, and print_scalar_ranges.
//
// Each function mirrors its kernel counterpart step for step, including where the kernel is
// imprecise, because predicting the kernel's verdicts means reaching its states, not better ones.
// The kernel is 6.18 as its stable series runs it, with fixes and refinements from later releases
// (test/verifier/scalar.test.ts compares every state with its log): BPF_NEG and BPF_END (tnum only)
// are tracked, tnum_mul takes unions, a tnum and a range sharing one value make a constant
// (tnum_step), bounds deduction runs three rounds with the 32- and 64-bit cross-sign cases, JEQ/JNE
// test tnum_overlap, and and/or on a [-1, 0] value fork the walk (maybe_fork_scalars). Division is
// not tracked, and no edge is found dead by refining it: one refined to nothing is walked anyway,
// its contradictory ranges reset by reg_bounds_sanity_check.
//
// The 64-bit bounds are bigints (smin/smax signed, umin/umax in [0, 2^64)); the 32-bit ones are
// numbers (s32 as int32, u32 as uint32). Scalars handed out are never modified: each operation
// copies its input into a fresh working state and returns that.
import {
  BPF_ADD, BPF_AND, BPF_ARSH, BPF_DIV, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT, BPF_JNE,
  BPF_JSET, BPF_JSGE, BPF_JSGT, BPF_JSLE, BPF_JSLT, BPF_LSH, BPF_MOD, BPF_MOV, BPF_MUL, BPF_NEG, BPF_OR,
  BPF_RSH, BPF_SUB, BPF_X, BPF_XOR,
} from '../isa/opcodes.js';
import {
  hex, tnumAdd, tnumAnd, tnumArshift, tnumBswap, tnumCast, tnumConst, tnumConstSubreg,
  tnumIn, tnumIntersect, tnumIsConst, tnumIsUnknown, tnumLshift, tnumMul, tnumNeg, tnumOr, tnumOverlap,
  tnumRange, tnumRshift, tnumStep, tnumSub, tnumSubreg, tnumSubregIsConst, tnumWithSubreg, tnumXor,
  TNUM_UNKNOWN, U64_MAX, type Tnum,
} from './tnum.js';

export interface Scalar {
  readonly varOff: Tnum;
  readonly smin: bigint;
  readonly smax: bigint;
  readonly umin: bigint;
  readonly umax: bigint;
  readonly s32min: number;
  readonly s32max: number;
  readonly u32min: number;
  readonly u32max: number;
}

const S64_MIN = -(1n << 63n);
const S64_MAX = (1n << 63n) - 1n;
const S32_MIN = -0x8000_0000;
const S32_MAX = 0x7fff_ffff;
const U32_MAX = 0xffff_ffff;
const M32 = 0xffff_ffffn;
const NOT_M32 = ~M32;
const SIGN64 = 1n << 63n;
const S32_MIN_N = BigInt(S32_MIN);
const S32_MAX_N = BigInt(S32_MAX);

/** The working copy every operation mutates (the kernel's struct bpf_reg_state, bounds only). */
class Reg implements Scalar {
  varOff: Tnum;
  smin: bigint;
  smax: bigint;
  umin: bigint;
  umax: bigint;
  s32min: number;
  s32max: number;
  u32min: number;
  u32max: number;
  constructor(s: Scalar) {
    this.varOff = s.varOff;
    this.smin = s.smin;
    this.smax = s.smax;
    this.umin = s.umin;
    this.umax = s.umax;
    this.s32min = s.s32min;
    this.s32max = s.s32max;
    this.u32min = s.u32min;
    this.u32max = s.u32max;
  }
}

const s64 = (u: bigint): bigint => BigInt.asIntN(64, u);
const u64 = (s: bigint): bigint => s & U64_MAX;
const lo32u = (x: bigint): number => Number(x & M32);
const lo32s = (x: bigint): number => Number(x & M32) | 0;
const bmax = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const bmin = (a: bigint, b: bigint): bigint => (a < b ? a : b);

// ---- constructors (___mark_reg_known, __mark_reg_unknown and friends) ----

function markKnown(r: Reg, imm: bigint): void {
  r.varOff = tnumConst(imm);
  r.smin = r.smax = s64(imm);
  r.umin = r.umax = imm;
  r.s32min = r.s32max = lo32s(imm);
  r.u32min = r.u32max = lo32u(imm);
}

function mark32Known(r: Reg, imm: number): void {
  r.varOff = tnumConstSubreg(r.varOff, imm);
  r.s32min = r.s32max = imm | 0;
  r.u32min = r.u32max = imm >>> 0;
}

function mark64Unbounded(r: Reg): void {
  r.smin = S64_MIN;
  r.smax = S64_MAX;
  r.umin = 0n;
  r.umax = U64_MAX;
}

function mark32Unbounded(r: Reg): void {
  r.s32min = S32_MIN;
  r.s32max = S32_MAX;
  r.u32min = 0;
  r.u32max = U32_MAX;
}

const UNKNOWN: Scalar = Object.freeze({
  varOff: TNUM_UNKNOWN, smin: S64_MIN, smax: S64_MAX, umin: 0n, umax: U64_MAX,
  s32min: S32_MIN, s32max: S32_MAX, u32min: 0, u32max: U32_MAX,
});

/** __mark_reg_unknown's bounds: nothing known. */
export function scalarUnknown(): Scalar {
  return UNKNOWN;
}

/** The constant `v` (taken modulo 2^64, so negative numbers are their two's complement). */
export function scalarConst(v: bigint): Scalar {
  const r = new Reg(UNKNOWN);
  markKnown(r, u64(v));
  return r;
}

/** A value known only to be within the unsigned range [umin, umax], with everything reg_bounds_sync derives from that. */
export function scalarFromRange(umin: bigint, umax: bigint): Scalar {
  const r = new Reg(UNKNOWN);
  r.umin = u64(umin);
  r.umax = u64(umax);
  sync(r);
  return r;
}

export function scalarIsConst(s: Scalar): boolean {
  return s.varOff.mask === 0n;
}

export function scalarConstValue(s: Scalar): bigint | undefined {
  return s.varOff.mask === 0n ? s.varOff.value : undefined;
}

export function scalarSubregIsConst(s: Scalar): boolean {
  return tnumSubregIsConst(s.varOff);
}

// ---- reg_bounds_sync ----

function update32(r: Reg): void {
  const v = lo32u(r.varOff.value);
  const m = lo32u(r.varOff.mask);
  r.s32min = Math.max(r.s32min, v | (m & 0x8000_0000));
  r.s32max = Math.min(r.s32max, (v | (m & S32_MAX)) | 0);
  r.u32min = Math.max(r.u32min, v);
  r.u32max = Math.min(r.u32max, (v | m) >>> 0);
}

function update64(r: Reg): void {
  const { value, mask } = r.varOff;
  r.smin = bmax(r.smin, s64(value | (mask & SIGN64)));
  r.smax = bmin(r.smax, s64(value | (mask & S64_MAX)));
  r.umin = bmax(r.umin, value);
  const tmax = value | mask;
  r.umax = bmin(r.umax, tmax);
  // When the u64 range and the tnum share a single value, the register is that constant.
  if (mask === 0n && r.umin === value && r.umax === value) return;
  let next: bigint;
  let uminIn: boolean;
  if ((mask & (mask + 1n)) === 0n) {
    // Unknown low bits only: the members are every number in [value, tmax], so tnum_step is +1.
    uminIn = r.umin <= tmax;
    next = r.umin >= tmax ? tmax : r.umin + 1n;
  } else {
    uminIn = (r.umin & ~mask) === value;
    next = tnumStep(r.varOff, r.umin);
  }
  if (uminIn && next > r.umax) markKnown(r, r.umin);
  else if (!uminIn && next === tmax) markKnown(r, tmax);
  else if (!uminIn && next <= r.umax && tnumStep(r.varOff, next) > r.umax) markKnown(r, next);
}

function updateBounds(r: Reg): void {
  update32(r);
  update64(r);
}

function deduce32(r: Reg): void {
  // The words of the four 64-bit bounds (the signed ones as their bit patterns), split once.
  const uminP = r.umin;
  const umaxP = r.umax;
  const sminP = r.smin & U64_MAX;
  const smaxP = r.smax & U64_MAX;
  const uminHi = Number(uminP >> 32n);
  const umaxHi = Number(umaxP >> 32n);
  const sminHi = Number(sminP >> 32n);
  const smaxHi = Number(smaxP >> 32n);
  const uminLo = Number(uminP & M32);
  const umaxLo = Number(umaxP & M32);
  const sminLo = Number(sminP & M32);
  const smaxLo = Number(smaxP & M32);
  // Where the upper words of a 64-bit range agree, its low words form a 32-bit range.
  if (uminHi === umaxHi) {
    r.u32min = Math.max(r.u32min, uminLo);
    r.u32max = Math.min(r.u32max, umaxLo);
    if ((uminLo | 0) <= (umaxLo | 0)) {
      r.s32min = Math.max(r.s32min, uminLo | 0);
      r.s32max = Math.min(r.s32max, umaxLo | 0);
    }
  }
  if (sminHi === smaxHi) {
    if (sminLo <= smaxLo) {
      r.u32min = Math.max(r.u32min, sminLo);
      r.u32max = Math.min(r.u32max, smaxLo);
    }
    if ((sminLo | 0) <= (smaxLo | 0)) {
      r.s32min = Math.max(r.s32min, sminLo | 0);
      r.s32max = Math.min(r.s32max, smaxLo | 0);
    }
  }
  // Upper words that are two consecutive numbers, with the low words going from negative to
  // positive, still give an s32 range.
  if (((uminHi + 1) >>> 0) === umaxHi && (uminLo | 0) < 0 && (umaxLo | 0) >= 0) {
    r.s32min = Math.max(r.s32min, uminLo | 0);
    r.s32max = Math.min(r.s32max, umaxLo | 0);
  }
  if (((sminHi + 1) >>> 0) === smaxHi && (sminLo | 0) < 0 && (smaxLo | 0) >= 0) {
    r.s32min = Math.max(r.s32min, sminLo | 0);
    r.s32max = Math.min(r.s32max, smaxLo | 0);
  }
  if ((r.u32min | 0) <= (r.u32max | 0)) {
    r.s32min = Math.max(r.s32min, r.u32min | 0);
    r.s32max = Math.min(r.s32max, r.u32max | 0);
  }
  if (r.s32min >>> 0 <= r.s32max >>> 0) {
    r.u32min = Math.max(r.u32min, r.s32min >>> 0);
    r.u32max = Math.min(r.u32max, r.s32max >>> 0);
  } else if (r.u32max < r.s32min >>> 0) {
    // The s32 range wraps and the u32 range meets only its non-negative end.
    r.s32min = r.u32min | 0;
    r.u32max = Math.min(r.u32max, r.s32max >>> 0);
  } else if (r.s32max >>> 0 < r.u32min) {
    // ... or only its negative end.
    r.s32max = r.u32max | 0;
    r.u32min = Math.max(r.u32min, r.s32min >>> 0);
  }
}

function deduce64(r: Reg): void {
  if (s64(r.umin) <= s64(r.umax)) {
    r.smin = bmax(r.smin, s64(r.umin));
    r.smax = bmin(r.smax, s64(r.umax));
  }
  if (u64(r.smin) <= u64(r.smax)) {
    r.umin = bmax(r.umin, u64(r.smin));
    r.umax = bmin(r.umax, u64(r.smax));
  } else if (r.umax < u64(r.smin)) {
    r.smin = s64(r.umin);
    r.umax = bmin(r.umax, u64(r.smax));
  } else if (u64(r.smax) < r.umin) {
    r.smax = s64(r.umax);
    r.umin = bmax(r.umin, u64(r.smin));
  }
}

function deduceMixed(r: Reg): void {
  // A u32 bound at its extreme cannot tighten the 64-bit bound on its side.
  if (r.u32min !== 0) {
    const lo = BigInt(r.u32min);
    r.umin = bmax(r.umin, (r.umin & NOT_M32) | lo);
    r.smin = bmax(r.smin, (r.smin & NOT_M32) | lo);
  }
  if (r.u32max !== U32_MAX) {
    const hi = BigInt(r.u32max);
    r.umax = bmin(r.umax, (r.umax & NOT_M32) | hi);
    r.smax = bmin(r.smax, (r.smax & NOT_M32) | hi);
  }
  // After a sign-extending load: a non-negative low word within [S32_MIN, S32_MAX] means the
  // upper word cannot be all ones.
  if (r.s32min >= 0 && r.smin >= S32_MIN_N && r.smax <= S32_MAX_N) {
    r.smin = r.umin = BigInt(r.s32min);
    r.smax = r.umax = BigInt(r.s32max);
    r.varOff = tnumIntersect(r.varOff, tnumRange(r.smin, r.smax));
  }
}

/** One __reg_deduce_bounds round; whether it changed anything (a round that does not, no later one will). */
function deduce(r: Reg): boolean {
  const { varOff, smin, smax, umin, umax, s32min, s32max, u32min, u32max } = r;
  deduce32(r);
  deduce64(r);
  deduceMixed(r);
  return r.varOff !== varOff || r.smin !== smin || r.smax !== smax || r.umin !== umin || r.umax !== umax ||
    r.s32min !== s32min || r.s32max !== s32max || r.u32min !== u32min || r.u32max !== u32max;
}

function boundOffset(r: Reg): void {
  const var64 = tnumIntersect(r.varOff, tnumRange(r.umin, r.umax));
  // The low word's intersection with tnum_range(u32min, u32max), in 32-bit numbers.
  const bits = 32 - Math.clz32((r.u32min ^ r.u32max) >>> 0);
  const delta = bits === 32 ? U32_MAX : 2 ** bits - 1;
  const v = (Number(var64.value & M32) | (r.u32min & ~delta)) >>> 0;
  const mu = (Number(var64.mask & M32) & delta) >>> 0;
  r.varOff = { value: (var64.value & NOT_M32) | BigInt((v & ~mu) >>> 0), mask: (var64.mask & NOT_M32) | BigInt(mu) };
}

function sync(r: Reg): void {
  updateBounds(r);
  // Three rounds, as 6.18: each can feed the next between the 32- and 64-bit ranges.
  if (deduce(r) && deduce(r)) deduce(r);
  boundOffset(r);
  updateBounds(r);
}

/** reg_bounds_sync: what the tnum and each range imply for the others. */
export function boundsSync(s: Scalar): Scalar {
  const r = new Reg(s);
  sync(r);
  return r;
}

// ---- 32/64-bit views and coercions ----

/** __reg_assign_32_into_64 after keeping the low word of the tnum. */
function zextInPlace(r: Reg): void {
  r.varOff = tnumSubreg(r.varOff);
  r.umin = BigInt(r.u32min);
  r.umax = BigInt(r.u32max);
  if (r.s32min >= 0 && r.s32max >= 0) {
    r.smin = BigInt(r.s32min);
    r.smax = BigInt(r.s32max);
  } else {
    r.smin = 0n;
    r.smax = BigInt(U32_MAX);
  }
}

/** A 32-bit move (`w1 = w2`): zext_32_to_64 and reg_bounds_sync. */
export function zext32(s: Scalar): Scalar {
  const r = new Reg(s);
  zextInPlace(r);
  sync(r);
  return r;
}

function coerce(r: Reg, size: number): void {
  r.varOff = tnumCast(r.varOff, size);
  const mask = (1n << BigInt(size * 8)) - 1n;
  if ((r.umin & ~mask) === (r.umax & ~mask)) {
    r.umin &= mask;
    r.umax &= mask;
  } else {
    r.umin = 0n;
    r.umax = mask;
  }
  r.smin = r.umin;
  r.smax = r.umax;
  // Narrower than a word: the 64-bit bounds, now below 2^32, are the 32-bit ones too (sync derives them).
  if (size < 4) mark32Unbounded(r);
  sync(r);
}

/** coerce_reg_to_size: the low `sizeBytes` bytes zero-extended (a narrow load; 8 keeps everything). */
export function truncScalar(s: Scalar, sizeBytes: 1 | 2 | 4 | 8): Scalar {
  if (sizeBytes === 8) return s;
  const r = new Reg(s);
  coerce(r, sizeBytes);
  return r;
}

const sext = (v: bigint, bits: number): bigint => BigInt.asIntN(bits, v);

/** coerce_reg_to_size_sx (no sync after it, as in the kernel). */
function sext64(r: Reg, size: number): void {
  const bits = size * 8;
  if (tnumIsConst(r.varOff)) {
    markKnown(r, u64(sext(r.varOff.value, bits)));
    return;
  }
  const nb = BigInt(bits);
  if (u64(r.smax) >> nb === u64(r.smin) >> nb) {
    const a = sext(r.smax, bits);
    const b = sext(r.smin, bits);
    const hi = bmax(a, b);
    const lo = bmin(a, b);
    if ((hi >= 0n) === (lo >= 0n)) {
      r.smin = lo;
      r.smax = hi;
      r.s32min = lo32s(lo);
      r.s32max = lo32s(hi);
      r.umin = u64(lo);
      r.umax = u64(hi);
      r.u32min = lo32u(lo);
      r.u32max = lo32u(hi);
      r.varOff = tnumRange(u64(lo), u64(hi));
      return;
    }
  }
  const half = 2 ** (bits - 1);
  r.umin = 0n;
  r.umax = U64_MAX;
  r.varOff = TNUM_UNKNOWN;
  if (r.s32min >= -half && r.s32max < half) {
    // The low word already lies in the narrower signed range, so sign extension leaves it as it
    // is and the result is its s32 value (found against the 6.18 kernel's log: it keeps both
    // 32-bit ranges and syncs).
    r.smin = BigInt(r.s32min);
    r.smax = BigInt(r.s32max);
    sync(r);
    return;
  }
  r.smin = BigInt(-half);
  r.smax = BigInt(half - 1);
  r.s32min = -half;
  r.s32max = half - 1;
  r.u32min = 0;
  r.u32max = U32_MAX;
}

/** coerce_subreg_to_size_sx: the low word from the low 8 or 16 bits sign-extended. */
function sext32(r: Reg, size: number): void {
  const bits = size * 8;
  if (tnumIsConst(r.varOff)) {
    // The kernel sign-extends the constant through all 64 bits here; the zero extension after it fixes that.
    const v = u64(sext(r.varOff.value, bits));
    r.varOff = tnumConst(v);
    r.s32min = r.s32max = lo32s(v);
    r.u32min = r.u32max = lo32u(v);
    return;
  }
  if ((r.s32max >>> 0) >>> bits === (r.s32min >>> 0) >>> bits) {
    const shift = 32 - bits;
    const a = (r.s32max << shift) >> shift;
    const b = (r.s32min << shift) >> shift;
    const hi = Math.max(a, b);
    const lo = Math.min(a, b);
    if ((lo >= 0) === (hi >= 0)) {
      r.s32min = lo;
      r.s32max = hi;
      r.u32min = lo >>> 0;
      r.u32max = hi >>> 0;
      r.varOff = tnumSubreg(tnumRange(u64(BigInt(lo)), u64(BigInt(hi))));
      return;
    }
  }
  const half = 1 << (bits - 1);
  r.s32min = -half;
  r.s32max = half - 1;
  r.u32min = 0;
  r.u32max = U32_MAX;
  r.varOff = tnumSubreg(TNUM_UNKNOWN);
}

/**
 * Sign extension from the low `fromBytes` bytes: with alu64, movsx and the sign-extending loads
 * (coerce_reg_to_size_sx, left unsynced as the kernel leaves it); without, the 32-bit movsx
 * `w1 = (s8)w2` / `(s16)` (coerce_subreg_to_size_sx, zero extension, reg_bounds_sync).
 */
export function sextScalar(s: Scalar, fromBytes: 1 | 2 | 4, alu64: boolean): Scalar {
  const r = new Reg(s);
  if (alu64) {
    sext64(r, fromBytes);
    return r;
  }
  if (fromBytes === 4) throw new RangeError('a 32-bit movsx sign-extends 8 or 16 bits');
  sext32(r, fromBytes);
  zextInPlace(r);
  sync(r);
  return r;
}

// ---- ALU (adjust_scalar_min_max_vals) ----

function add32(d: Reg, s: Scalar): void {
  const smin = d.s32min + s.s32min;
  const smax = d.s32max + s.s32max;
  if (smin < S32_MIN || smin > S32_MAX || smax < S32_MIN || smax > S32_MAX) {
    d.s32min = S32_MIN;
    d.s32max = S32_MAX;
  } else {
    d.s32min = smin;
    d.s32max = smax;
  }
  const umin = d.u32min + s.u32min;
  const umax = d.u32max + s.u32max;
  // Wrapping at both ends keeps a range; at one end only it does not.
  if (umin <= U32_MAX && umax > U32_MAX) {
    d.u32min = 0;
    d.u32max = U32_MAX;
  } else {
    d.u32min = umin >>> 0;
    d.u32max = umax >>> 0;
  }
}

function add64(d: Reg, s: Scalar): void {
  const smin = d.smin + s.smin;
  const smax = d.smax + s.smax;
  if (smin < S64_MIN || smin > S64_MAX || smax < S64_MIN || smax > S64_MAX) {
    d.smin = S64_MIN;
    d.smax = S64_MAX;
  } else {
    d.smin = smin;
    d.smax = smax;
  }
  const umin = d.umin + s.umin;
  const umax = d.umax + s.umax;
  if (umin <= U64_MAX && umax > U64_MAX) {
    d.umin = 0n;
    d.umax = U64_MAX;
  } else {
    d.umin = umin & U64_MAX;
    d.umax = umax & U64_MAX;
  }
}

function sub32(d: Reg, s: Scalar): void {
  const smin = d.s32min - s.s32max;
  const smax = d.s32max - s.s32min;
  if (smin < S32_MIN || smin > S32_MAX || smax < S32_MIN || smax > S32_MAX) {
    d.s32min = S32_MIN;
    d.s32max = S32_MAX;
  } else {
    d.s32min = smin;
    d.s32max = smax;
  }
  const umin = d.u32min - s.u32max;
  const umax = d.u32max - s.u32min;
  if (umin < 0 && umax >= 0) {
    d.u32min = 0;
    d.u32max = U32_MAX;
  } else {
    d.u32min = umin >>> 0;
    d.u32max = umax >>> 0;
  }
}

function sub64(d: Reg, s: Scalar): void {
  const smin = d.smin - s.smax;
  const smax = d.smax - s.smin;
  if (smin < S64_MIN || smin > S64_MAX || smax < S64_MIN || smax > S64_MAX) {
    d.smin = S64_MIN;
    d.smax = S64_MAX;
  } else {
    d.smin = smin;
    d.smax = smax;
  }
  const umin = d.umin - s.umax;
  const umax = d.umax - s.umin;
  if (umin < 0n && umax >= 0n) {
    d.umin = 0n;
    d.umax = U64_MAX;
  } else {
    d.umin = umin & U64_MAX;
    d.umax = umax & U64_MAX;
  }
}

function mul32(d: Reg, s: Scalar): void {
  // Doubles are exact below 2^53, and any product beyond that is past the 32-bit limits anyway.
  const umax = d.u32max * s.u32max;
  if (umax > U32_MAX) {
    d.u32min = 0;
    d.u32max = U32_MAX;
  } else {
    d.u32min = d.u32min * s.u32min;
    d.u32max = umax;
  }
  const p0 = d.s32min * s.s32min;
  const p1 = d.s32min * s.s32max;
  const p2 = d.s32max * s.s32min;
  const p3 = d.s32max * s.s32max;
  const lo = Math.min(p0, p1, p2, p3);
  const hi = Math.max(p0, p1, p2, p3);
  if (lo < S32_MIN || hi > S32_MAX) {
    d.s32min = S32_MIN;
    d.s32max = S32_MAX;
  } else {
    // -0 from a product with a negative factor is still 0.
    d.s32min = lo | 0;
    d.s32max = hi | 0;
  }
}

function mul64(d: Reg, s: Scalar): void {
  const umax = d.umax * s.umax;
  if (umax > U64_MAX) {
    d.umin = 0n;
    d.umax = U64_MAX;
  } else {
    d.umin = d.umin * s.umin;
    d.umax = umax;
  }
  const p0 = d.smin * s.smin;
  const p1 = d.smin * s.smax;
  const p2 = d.smax * s.smin;
  const p3 = d.smax * s.smax;
  const lo = bmin(bmin(p0, p1), bmin(p2, p3));
  const hi = bmax(bmax(p0, p1), bmax(p2, p3));
  if (lo < S64_MIN || hi > S64_MAX) {
    d.smin = S64_MIN;
    d.smax = S64_MAX;
  } else {
    d.smin = lo;
    d.smax = hi;
  }
}

/** The s32 range of a u32 range that does not cross the sign boundary, else unbounded. */
function s32FromU32(d: Reg): void {
  if ((d.u32min | 0) <= (d.u32max | 0)) {
    d.s32min = d.u32min | 0;
    d.s32max = d.u32max | 0;
  } else {
    d.s32min = S32_MIN;
    d.s32max = S32_MAX;
  }
}

function s64FromU64(d: Reg): void {
  if (s64(d.umin) <= s64(d.umax)) {
    d.smin = s64(d.umin);
    d.smax = s64(d.umax);
  } else {
    d.smin = S64_MIN;
    d.smax = S64_MAX;
  }
}

// The bitwise operations run after var_off already holds the result's tnum.

function and32(d: Reg, s: Scalar): void {
  const t = tnumSubreg(d.varOff);
  if (tnumSubregIsConst(s.varOff) && t.mask === 0n) {
    mark32Known(d, Number(t.value));
    return;
  }
  d.u32min = Number(t.value);
  d.u32max = Math.min(d.u32max, s.u32max);
  s32FromU32(d);
}

function and64(d: Reg, s: Scalar): void {
  if (tnumIsConst(s.varOff) && tnumIsConst(d.varOff)) {
    markKnown(d, d.varOff.value);
    return;
  }
  d.umin = d.varOff.value;
  d.umax = bmin(d.umax, s.umax);
  s64FromU64(d);
  updateBounds(d);
}

function or32(d: Reg, s: Scalar): void {
  const t = tnumSubreg(d.varOff);
  if (tnumSubregIsConst(s.varOff) && t.mask === 0n) {
    mark32Known(d, Number(t.value));
    return;
  }
  d.u32min = Math.max(d.u32min, s.u32min);
  d.u32max = Number(t.value | t.mask);
  s32FromU32(d);
}

function or64(d: Reg, s: Scalar): void {
  if (tnumIsConst(s.varOff) && tnumIsConst(d.varOff)) {
    markKnown(d, d.varOff.value);
    return;
  }
  d.umin = bmax(d.umin, s.umin);
  d.umax = d.varOff.value | d.varOff.mask;
  s64FromU64(d);
  updateBounds(d);
}

function xor32(d: Reg, s: Scalar): void {
  const t = tnumSubreg(d.varOff);
  if (tnumSubregIsConst(s.varOff) && t.mask === 0n) {
    mark32Known(d, Number(t.value));
    return;
  }
  d.u32min = Number(t.value);
  d.u32max = Number(t.value | t.mask);
  s32FromU32(d);
}

function xor64(d: Reg, s: Scalar): void {
  if (tnumIsConst(s.varOff) && tnumIsConst(d.varOff)) {
    markKnown(d, d.varOff.value);
    return;
  }
  d.umin = d.varOff.value;
  d.umax = d.varOff.value | d.varOff.mask;
  s64FromU64(d);
  updateBounds(d);
}

function lshBounds32(d: Reg, umin: number, umax: number): void {
  d.s32min = S32_MIN;
  d.s32max = S32_MAX;
  if (umax > 31 || d.u32max > 2 ** (31 - umax)) {
    d.u32min = 0;
    d.u32max = U32_MAX;
  } else {
    d.u32min = (d.u32min * 2 ** umin) >>> 0;
    d.u32max = (d.u32max * 2 ** umax) >>> 0;
  }
}

function lsh32(d: Reg, s: Scalar): void {
  const subreg = tnumSubreg(d.varOff);
  lshBounds32(d, s.u32min, s.u32max);
  d.varOff = tnumSubreg(tnumLshift(subreg, s.u32min));
  mark64Unbounded(d);
  update32(d);
}

function lsh64(d: Reg, s: Scalar): void {
  const umin = Number(s.umin);
  const umax = Number(s.umax);
  // <<32 is how compilers start sign-extending a word (<<32 s>>32): the s32 bounds move up intact.
  if (umin === 32 && umax === 32) {
    d.smax = BigInt(d.s32max) << 32n;
    d.smin = BigInt(d.s32min) << 32n;
  } else {
    d.smax = S64_MAX;
    d.smin = S64_MIN;
  }
  if (d.umax > 1n << BigInt(63 - umax)) {
    d.umin = 0n;
    d.umax = U64_MAX;
  } else {
    d.umin = (d.umin << BigInt(umin)) & U64_MAX;
    d.umax = (d.umax << BigInt(umax)) & U64_MAX;
  }
  lshBounds32(d, umin, umax);
  d.varOff = tnumLshift(d.varOff, umin);
  updateBounds(d);
}

function rsh32(d: Reg, s: Scalar): void {
  const subreg = tnumSubreg(d.varOff);
  d.s32min = S32_MIN;
  d.s32max = S32_MAX;
  d.varOff = tnumRshift(subreg, s.u32min);
  d.u32min >>>= s.u32max;
  d.u32max >>>= s.u32min;
  mark64Unbounded(d);
  update32(d);
}

function rsh64(d: Reg, s: Scalar): void {
  const umin = Number(s.umin);
  d.smin = S64_MIN;
  d.smax = S64_MAX;
  d.varOff = tnumRshift(d.varOff, umin);
  d.umin >>= s.umax;
  d.umax >>= s.umin;
  mark32Unbounded(d);
  updateBounds(d);
}

function arsh32(d: Reg, s: Scalar): void {
  const shift = s.u32min;
  d.s32min >>= shift;
  d.s32max >>= shift;
  d.varOff = tnumArshift(tnumSubreg(d.varOff), shift, 32);
  d.u32min = 0;
  d.u32max = U32_MAX;
  mark64Unbounded(d);
  update32(d);
}

function arsh64(d: Reg, s: Scalar): void {
  const shift = Number(s.umin);
  d.smin >>= s.umin;
  d.smax >>= s.umin;
  d.varOff = tnumArshift(d.varOff, shift, 64);
  d.umin = 0n;
  d.umax = U64_MAX;
  mark32Unbounded(d);
  updateBounds(d);
}

/**
 * is_safe_to_compute_dst_reg_range for a shift: by a constant below the width, judged on the
 * 64-bit umax even for 32-bit shifts.
 */
function shiftComputable(alu64: boolean, src: Scalar): boolean {
  const constant = alu64
    ? tnumIsConst(src.varOff) && src.smin === src.smax && src.umin === src.umax
    : tnumSubregIsConst(src.varOff) && src.s32min === src.s32max && src.u32min === src.u32max;
  return constant && src.umax < (alu64 ? 64n : 32n);
}

/** The instruction's result on two constants (operands already reduced to the width for 32-bit ops). */
function constResult(op: number, alu64: boolean, a: bigint, b: bigint): bigint {
  const width = alu64 ? 64 : 32;
  const wrap = (v: bigint): bigint => BigInt.asUintN(width, v);
  switch (op) {
    case BPF_ADD: return wrap(a + b);
    case BPF_SUB: return wrap(a - b);
    case BPF_MUL: return wrap(a * b);
    case BPF_AND: return a & b;
    case BPF_OR: return a | b;
    case BPF_XOR: return a ^ b;
    case BPF_LSH: return wrap(a << b);
    case BPF_RSH: return a >> b;
    default: return wrap(BigInt.asIntN(width, a) >> b);
  }
}

/**
 * adjust_scalar_min_max_vals for scalar operands: `dst op= src` as BPF_ALU64 (alu64) or BPF_ALU
 * (the low words, the result zero-extended). An immediate is `scalarConst(BigInt(imm))`, the
 * sign-extended value the kernel gives it. BPF_MOV is check_alu_op's register move (a copy, or
 * zext32), BPF_NEG negates dst (src unused); div and mod, and shifts by a non-constant or by the
 * width or more, give an unknown 64-bit value, without the zero extension even for 32-bit ops.
 */
export function aluScalar(op: number, alu64: boolean, dst: Scalar, src: Scalar): Scalar {
  switch (op) {
    case BPF_MOV: return alu64 ? src : zext32(src);
    case BPF_NEG: return negScalar(dst, alu64);
    // 6.18 does not track division (is_safe_to_compute_dst_reg_range).
    case BPF_DIV: case BPF_MOD: return UNKNOWN;
    case BPF_LSH: case BPF_RSH: case BPF_ARSH:
      if (!shiftComputable(alu64, src)) return UNKNOWN;
      break;
    case BPF_ADD: case BPF_SUB: case BPF_MUL: case BPF_AND: case BPF_OR: case BPF_XOR:
      break;
    default:
      throw new RangeError(`not an ALU operation for aluScalar: ${op}`);
  }
  // Constant operands give the constant result: every step keeps the tnum exact, and the ranges,
  // which contain the result, are clamped to it by the final sync.
  if (alu64 ? dst.varOff.mask === 0n && src.varOff.mask === 0n
    : tnumSubregIsConst(dst.varOff) && tnumSubregIsConst(src.varOff)) {
    const a = alu64 ? dst.varOff.value : dst.varOff.value & M32;
    const b = alu64 ? src.varOff.value : src.varOff.value & M32;
    return scalarConst(constResult(op, alu64, a, b));
  }
  const d = new Reg(dst);
  switch (op) {
    case BPF_ADD:
      add32(d, src);
      add64(d, src);
      d.varOff = tnumAdd(d.varOff, src.varOff);
      break;
    case BPF_SUB:
      sub32(d, src);
      sub64(d, src);
      d.varOff = tnumSub(d.varOff, src.varOff);
      break;
    case BPF_MUL:
      d.varOff = tnumMul(d.varOff, src.varOff);
      mul32(d, src);
      mul64(d, src);
      break;
    case BPF_AND:
      d.varOff = tnumAnd(d.varOff, src.varOff);
      and32(d, src);
      and64(d, src);
      break;
    case BPF_OR:
      d.varOff = tnumOr(d.varOff, src.varOff);
      or32(d, src);
      or64(d, src);
      break;
    case BPF_XOR:
      d.varOff = tnumXor(d.varOff, src.varOff);
      xor32(d, src);
      xor64(d, src);
      break;
    case BPF_LSH:
      if (alu64) lsh64(d, src);
      else lsh32(d, src);
      break;
    case BPF_RSH:
      if (alu64) rsh64(d, src);
      else rsh32(d, src);
      break;
    case BPF_ARSH:
      if (alu64) arsh64(d, src);
      else arsh32(d, src);
      break;
  }
  if (!alu64) zextInPlace(d);
  sync(d);
  return d;
}

/**
 * maybe_fork_scalars (in the 6.18 stable series): before `dst &= K` or `dst |= K` with a constant K
 * (a constant tnum, also for 32-bit instructions), a dst that is only -1 or 0 (what `x s>> 63`
 * leaves) splits the walk. A state is pushed to run the same instruction again with dst 0, and the
 * current one goes on with dst -1: in all 64 bits when the 64-bit signed range is [-1, 0], else in
 * the low word (the upper bounds left as they are) when the s32 range is. The walk pushes `zero`
 * and then calls aluScalar on `minusOne`; undefined when the kernel does not fork.
 */
export function forkScalar(op: number, dst: Scalar, src: Scalar): { zero: Scalar; minusOne: Scalar } | undefined {
  if ((op !== BPF_AND && op !== BPF_OR) || src.varOff.mask !== 0n) return undefined;
  const zero = new Reg(dst);
  const minusOne = new Reg(dst);
  if (dst.smin === -1n && dst.smax === 0n) {
    markKnown(zero, 0n);
    markKnown(minusOne, U64_MAX);
  } else if (dst.s32min === -1 && dst.s32max === 0) {
    mark32Known(zero, 0);
    mark32Known(minusOne, -1);
  } else {
    return undefined;
  }
  return { zero, minusOne };
}

/** BPF_NEG, tracked as 0 - dst (6.18). */
export function negScalar(s: Scalar, alu64: boolean): Scalar {
  if (alu64 ? s.varOff.mask === 0n : tnumSubregIsConst(s.varOff)) {
    return scalarConst(alu64 ? -s.varOff.value : -(s.varOff.value & M32) & M32);
  }
  const d = new Reg(UNKNOWN);
  markKnown(d, 0n);
  sub32(d, s);
  sub64(d, s);
  d.varOff = tnumNeg(s.varOff);
  if (!alu64) zextInPlace(d);
  sync(d);
  return d;
}

/**
 * BPF_END on a little-endian machine (scalar_byte_swap): BPF_ALU64 bswap and BPF_ALU to_be swap
 * the low `bits` bits, to_le only truncates to them; 16 and 32 bits are zero-extended, and no
 * other zero extension follows.
 */
export function bswapScalar(s: Scalar, bits: 16 | 32 | 64, toLe: boolean, alu64: boolean): Scalar {
  const r = new Reg(s);
  if (alu64 || !toLe) {
    r.varOff = tnumBswap(r.varOff, bits);
    mark64Unbounded(r);
    mark32Unbounded(r);
  }
  if (bits !== 64) coerce(r, bits / 8);
  sync(r);
  return r;
}

// ---- conditional jumps ----

/** The jump op of the other edge (rev_opcode); JSET's is JSET | BPF_X. */
function revOp(op: number): number {
  switch (op) {
    case BPF_JEQ: return BPF_JNE;
    case BPF_JNE: return BPF_JEQ;
    case BPF_JGE: return BPF_JLT;
    case BPF_JLT: return BPF_JGE;
    case BPF_JGT: return BPF_JLE;
    case BPF_JLE: return BPF_JGT;
    case BPF_JSGE: return BPF_JSLT;
    case BPF_JSLT: return BPF_JSGE;
    case BPF_JSGT: return BPF_JSLE;
    case BPF_JSLE: return BPF_JSGT;
    case BPF_JSET: return BPF_JSET | BPF_X;
    default: throw new RangeError(`not a conditional jump: ${op}`);
  }
}

const isConstIn = (s: Scalar, jmp32: boolean): boolean => (jmp32 ? tnumSubregIsConst(s.varOff) : s.varOff.mask === 0n);
const constIn = (s: Scalar, jmp32: boolean): bigint => (jmp32 ? s.varOff.value & M32 : s.varOff.value);

/** regs_refine_cond_op: narrow r1 and r2 to where `r1 op r2` holds. */
function refine(r1: Reg, r2: Reg, op: number, jmp32: boolean): void {
  // GE/GT and their signed forms are LE/LT with the operands swapped.
  switch (op) {
    case BPF_JGE: op = BPF_JLE; [r1, r2] = [r2, r1]; break;
    case BPF_JGT: op = BPF_JLT; [r1, r2] = [r2, r1]; break;
    case BPF_JSGE: op = BPF_JSLE; [r1, r2] = [r2, r1]; break;
    case BPF_JSGT: op = BPF_JSLT; [r1, r2] = [r2, r1]; break;
  }
  switch (op) {
    case BPF_JEQ:
      if (jmp32) {
        r1.u32min = Math.max(r1.u32min, r2.u32min);
        r1.u32max = Math.min(r1.u32max, r2.u32max);
        r1.s32min = Math.max(r1.s32min, r2.s32min);
        r1.s32max = Math.min(r1.s32max, r2.s32max);
        r2.u32min = r1.u32min;
        r2.u32max = r1.u32max;
        r2.s32min = r1.s32min;
        r2.s32max = r1.s32max;
        const t = tnumIntersect(tnumSubreg(r1.varOff), tnumSubreg(r2.varOff));
        r1.varOff = tnumWithSubreg(r1.varOff, t);
        r2.varOff = tnumWithSubreg(r2.varOff, t);
      } else {
        r1.umin = bmax(r1.umin, r2.umin);
        r1.umax = bmin(r1.umax, r2.umax);
        r1.smin = bmax(r1.smin, r2.smin);
        r1.smax = bmin(r1.smax, r2.smax);
        r2.umin = r1.umin;
        r2.umax = r1.umax;
        r2.smin = r1.smin;
        r2.smax = r1.smax;
        r1.varOff = tnumIntersect(r1.varOff, r2.varOff);
        r2.varOff = r1.varOff;
      }
      break;
    case BPF_JNE: {
      if (!isConstIn(r2, jmp32)) [r1, r2] = [r2, r1];
      if (!isConstIn(r2, jmp32)) break;
      // A constant at an end of the other's range moves that end inwards.
      const val = constIn(r2, jmp32);
      if (jmp32) {
        const u = Number(val);
        const sv = u | 0;
        if (r1.u32min === u) r1.u32min = (r1.u32min + 1) >>> 0;
        if (r1.u32max === u) r1.u32max = (r1.u32max - 1) >>> 0;
        if (r1.s32min === sv) r1.s32min = (r1.s32min + 1) | 0;
        if (r1.s32max === sv) r1.s32max = (r1.s32max - 1) | 0;
      } else {
        const sv = s64(val);
        if (r1.umin === val) r1.umin = u64(r1.umin + 1n);
        if (r1.umax === val) r1.umax = u64(r1.umax - 1n);
        if (r1.smin === sv) r1.smin = s64(r1.smin + 1n);
        if (r1.smax === sv) r1.smax = s64(r1.smax - 1n);
      }
      break;
    }
    case BPF_JSET: {
      if (!isConstIn(r2, jmp32)) [r1, r2] = [r2, r1];
      if (!isConstIn(r2, jmp32)) break;
      const val = constIn(r2, jmp32);
      // Only a single tested bit says which bit is set.
      if (val === 0n || (val & (val - 1n)) !== 0n) break;
      if (jmp32) r1.varOff = tnumWithSubreg(r1.varOff, tnumOr(tnumSubreg(r1.varOff), tnumConst(val)));
      else r1.varOff = tnumOr(r1.varOff, tnumConst(val));
      break;
    }
    case BPF_JSET | BPF_X: {
      if (!isConstIn(r2, jmp32)) [r1, r2] = [r2, r1];
      if (!isConstIn(r2, jmp32)) break;
      const val = constIn(r2, jmp32);
      // The ranges are forgotten before the tnum narrows, so a dead edge cannot break invariants.
      mark64Unbounded(r1);
      mark32Unbounded(r1);
      const keep = tnumConst(~val & U64_MAX);
      if (jmp32) r1.varOff = tnumWithSubreg(r1.varOff, tnumAnd(tnumSubreg(r1.varOff), keep));
      else r1.varOff = tnumAnd(r1.varOff, keep);
      break;
    }
    case BPF_JLE:
      if (jmp32) {
        r1.u32max = Math.min(r1.u32max, r2.u32max);
        r2.u32min = Math.max(r1.u32min, r2.u32min);
      } else {
        r1.umax = bmin(r1.umax, r2.umax);
        r2.umin = bmax(r1.umin, r2.umin);
      }
      break;
    case BPF_JLT:
      // The C arithmetic wraps: umax - 1 of 0 is the maximum, and min() then keeps r1's bound.
      if (jmp32) {
        r1.u32max = Math.min(r1.u32max, (r2.u32max - 1) >>> 0);
        r2.u32min = Math.max((r1.u32min + 1) >>> 0, r2.u32min);
      } else {
        r1.umax = bmin(r1.umax, u64(r2.umax - 1n));
        r2.umin = bmax(u64(r1.umin + 1n), r2.umin);
      }
      break;
    case BPF_JSLE:
      if (jmp32) {
        r1.s32max = Math.min(r1.s32max, r2.s32max);
        r2.s32min = Math.max(r1.s32min, r2.s32min);
      } else {
        r1.smax = bmin(r1.smax, r2.smax);
        r2.smin = bmax(r1.smin, r2.smin);
      }
      break;
    case BPF_JSLT:
      if (jmp32) {
        r1.s32max = Math.min(r1.s32max, (r2.s32max - 1) | 0);
        r2.s32min = Math.max((r1.s32min + 1) | 0, r2.s32min);
      } else {
        r1.smax = bmin(r1.smax, s64(r2.smax - 1n));
        r2.smin = bmax(s64(r1.smin + 1n), r2.smin);
      }
      break;
  }
}

/**
 * is_scalar_branch_taken: whether `a op b` holds for all values (1), none (0), or it depends (-1),
 * in 64 bits or, for BPF_JMP32, in the low words.
 */
export function branchTaken(op: number, jmp32: boolean, a: Scalar, b: Scalar): 1 | 0 | -1 {
  const t1 = jmp32 ? tnumSubreg(a.varOff) : a.varOff;
  const t2 = jmp32 ? tnumSubreg(b.varOff) : b.varOff;
  let umin1: bigint, umax1: bigint, smin1: bigint, smax1: bigint;
  let umin2: bigint, umax2: bigint, smin2: bigint, smax2: bigint;
  if (jmp32) {
    umin1 = BigInt(a.u32min); umax1 = BigInt(a.u32max); smin1 = BigInt(a.s32min); smax1 = BigInt(a.s32max);
    umin2 = BigInt(b.u32min); umax2 = BigInt(b.u32max); smin2 = BigInt(b.s32min); smax2 = BigInt(b.s32max);
  } else {
    umin1 = a.umin; umax1 = a.umax; smin1 = a.smin; smax1 = a.smax;
    umin2 = b.umin; umax2 = b.umax; smin2 = b.smin; smax2 = b.smax;
  }
  switch (op) {
    case BPF_JEQ:
    case BPF_JNE: {
      const eq = op === BPF_JEQ ? 1 : 0;
      const ne = op === BPF_JEQ ? 0 : 1;
      if (t1.mask === 0n && t2.mask === 0n) return t1.value === t2.value ? eq : ne;
      if (!tnumOverlap(t1, t2)) return ne;
      if (umin1 > umax2 || umax1 < umin2) return ne;
      if (smin1 > smax2 || smax1 < smin2) return ne;
      if (!jmp32) {
        if (a.u32min > b.u32max || a.u32max < b.u32min) return ne;
        if (a.s32min > b.s32max || a.s32max < b.s32min) return ne;
      }
      return -1;
    }
    case BPF_JSET: {
      let x = t1;
      let y = t2;
      if (!isConstIn(b, jmp32)) {
        if (!isConstIn(a, jmp32)) return -1;
        x = t2;
        y = t1;
      }
      if (x.value & y.value) return 1;
      if (!((x.mask | x.value) & y.value)) return 0;
      return -1;
    }
    case BPF_JGT:
      if (umin1 > umax2) return 1;
      if (umax1 <= umin2) return 0;
      return -1;
    case BPF_JSGT:
      if (smin1 > smax2) return 1;
      if (smax1 <= smin2) return 0;
      return -1;
    case BPF_JLT:
      if (umax1 < umin2) return 1;
      if (umin1 >= umax2) return 0;
      return -1;
    case BPF_JSLT:
      if (smax1 < smin2) return 1;
      if (smin1 >= smax2) return 0;
      return -1;
    case BPF_JGE:
      if (umin1 >= umax2) return 1;
      if (umax1 < umin2) return 0;
      return -1;
    case BPF_JSGE:
      if (smin1 >= smax2) return 1;
      if (smax1 < smin2) return 0;
      return -1;
    case BPF_JLE:
      if (umax1 <= umin2) return 1;
      if (umin1 > umax2) return 0;
      return -1;
    case BPF_JSLE:
      if (smax1 <= smin2) return 1;
      if (smin1 > smax2) return 0;
      return -1;
    default:
      throw new RangeError(`not a conditional jump: ${op}`);
  }
}

/** One edge's operands: `r1 op r2` (the jump's op, or rev_opcode's for the fall-through) applied and synced. */
function edge(op: number, jmp32: boolean, a: Scalar, b: Scalar, sameReg: boolean): [Reg, Reg] {
  const r1 = new Reg(a);
  // The kernel refines the register structs in place, so a register compared with itself sees
  // its own updates.
  const r2 = sameReg ? r1 : new Reg(b);
  refine(r1, r2, op, jmp32);
  sync(r1);
  sync(r2);
  return [r1, r2];
}

/** reg_bounds_sanity_check on one refined operand: its log line (if any) and the state it continues with. */
function checkEdge(r: Scalar, ctx: string, messages: string[]): Scalar {
  const bad = scalarSanityCheck(r, ctx);
  if (!bad) return r;
  messages.push(bad.message);
  return bad.repaired;
}

/** Both edges of a conditional jump as the verifier walks them. */
export interface BranchEdges {
  /** is_branch_taken: 1 only the jump is followed, 0 only the fall-through, -1 both. */
  readonly taken: 1 | 0 | -1;
  /** The operands on the jump edge; absent when it is not followed. */
  readonly jump?: readonly [Scalar, Scalar];
  /** The operands on the fall-through edge; absent when it is not followed. */
  readonly fall?: readonly [Scalar, Scalar];
  /**
   * The "verifier bug: REG INVARIANTS VIOLATION ..." lines the kernel logs after the jump, in its
   * order (true_reg1, true_reg2, false_reg1, false_reg2): an edge the refinement finds empty is
   * still walked, its contradictory ranges forgotten.
   */
  readonly violations: readonly string[];
}

const NO_MESSAGES: readonly string[] = Object.freeze([]);

/**
 * is_branch_taken for two scalars and, when it cannot decide, reg_set_min_max for both edges with
 * reg_bounds_sanity_check after it. A decided jump keeps the operands as they were (the kernel
 * follows that edge alone, unrefined). `sameReg` is `if rX op rX`, refined in place on the one
 * register (the returned pair then holds the same state twice).
 */
export function branchEdges(op: number, jmp32: boolean, a: Scalar, b: Scalar, sameReg = false): BranchEdges {
  const taken = branchTaken(op, jmp32, a, b);
  if (taken === 1) return { taken, jump: [a, b], violations: NO_MESSAGES };
  if (taken === 0) return { taken, fall: [a, b], violations: NO_MESSAGES };
  const [f1, f2] = edge(revOp(op), jmp32, a, b, sameReg);
  const [t1, t2] = edge(op, jmp32, a, b, sameReg);
  const messages: string[] = [];
  // With one register the second check sees what the first one left.
  let jump1 = checkEdge(t1, 'true_reg1', messages);
  const jump2 = checkEdge(sameReg ? jump1 : t2, 'true_reg2', messages);
  let fall1 = checkEdge(f1, 'false_reg1', messages);
  const fall2 = checkEdge(sameReg ? fall1 : f2, 'false_reg2', messages);
  if (sameReg) {
    jump1 = jump2;
    fall1 = fall2;
  }
  return { taken, jump: [jump1, jump2], fall: [fall1, fall2], violations: messages.length ? messages : NO_MESSAGES };
}

/**
 * The operands on one edge of `if a op b` (taken: the jump) as branchEdges gives them: undefined
 * when branchTaken says that edge is never followed, unchanged when it says it always is.
 */
export function refineBranch(op: number, jmp32: boolean, a: Scalar, b: Scalar, taken: boolean, sameReg = false): [Scalar, Scalar] | undefined {
  const e = branchEdges(op, jmp32, a, b, sameReg);
  const side = taken ? e.jump : e.fall;
  return side ? [side[0], side[1]] : undefined;
}

/**
 * reg_bounds_sanity_check, which check_alu_op runs on every ALU result and check_cond_jmp_op on
 * the refined operands: for a scalar whose bounds contradict each other, the line the kernel logs
 * ("verifier bug: REG INVARIANTS VIOLATION (ctx): ...") and the scalar it goes on with (all
 * ranges forgotten, the tnum kept); undefined for a consistent scalar.
 */
export function scalarSanityCheck(s: Scalar, ctx: string): { message: string; repaired: Scalar } | undefined {
  let msg: string | undefined;
  if (s.umin > s.umax || s.smin > s.smax || s.u32min > s.u32max || s.s32min > s.s32max) {
    msg = 'range bounds violation';
  } else if (s.varOff.mask === 0n) {
    const v = s.varOff.value;
    if (s.umin !== v || s.umax !== v || s.smin !== s64(v) || s.smax !== s64(v)) msg = 'const tnum out of sync with range bounds';
  }
  if (msg === undefined && tnumSubregIsConst(s.varOff)) {
    const v = lo32u(s.varOff.value);
    if (s.u32min !== v || s.u32max !== v || s.s32min !== (v | 0) || s.s32max !== (v | 0)) {
      msg = 'const subreg tnum out of sync with range bounds';
    }
  }
  if (msg === undefined) return undefined;
  const h32 = (v: number): string => `0x${(v >>> 0).toString(16)}`;
  const message = `verifier bug: REG INVARIANTS VIOLATION (${ctx}): ${msg} u64=[${hex(s.umin)}, ${hex(s.umax)}] ` +
    `s64=[${hex(u64(s.smin))}, ${hex(u64(s.smax))}] u32=[${h32(s.u32min)}, ${h32(s.u32max)}] ` +
    `s32=[${h32(s.s32min)}, ${h32(s.s32max)}] var_off=(${hex(s.varOff.value)}, ${hex(s.varOff.mask)})`;
  const r = new Reg(s);
  mark64Unbounded(r);
  mark32Unbounded(r);
  return { message, repaired: r };
}

// ---- state comparison ----

/** range_within and tnum_in: every value `cur` allows, `old` allows (regsafe for precise scalars). */
export function scalarWithin(old: Scalar, cur: Scalar): boolean {
  return old.umin <= cur.umin && old.umax >= cur.umax && old.smin <= cur.smin && old.smax >= cur.smax &&
    old.u32min <= cur.u32min && old.u32max >= cur.u32max && old.s32min <= cur.s32min && old.s32max >= cur.s32max &&
    tnumIn(old.varOff, cur.varOff);
}

export function scalarEquals(a: Scalar, b: Scalar): boolean {
  return a === b || (a.varOff.value === b.varOff.value && a.varOff.mask === b.varOff.mask &&
    a.smin === b.smin && a.smax === b.smax && a.umin === b.umin && a.umax === b.umax &&
    a.s32min === b.s32min && a.s32max === b.s32max && a.u32min === b.u32min && a.u32max === b.u32max);
}

// ---- the log's text (kernel/bpf/log.c) ----

/** verbose_snum: decimal within the s16 range, otherwise the u64 pattern in hex. */
function snum(v: bigint): string {
  const sv = s64(v);
  return sv >= -0x8000n && sv <= 0x7fffn ? sv.toString() : hex(u64(v));
}

/** verbose_unum: decimal up to U16_MAX, otherwise hex. */
function unum(v: bigint): string {
  return v <= 0xffffn ? v.toString() : hex(v);
}

/**
 * print_scalar_ranges and the var_off after it: the bounds that say something, equal minima
 * (or maxima) printed once under all their names, joined by commas ("" when nothing is known).
 */
export function formatScalarFields(s: Scalar): string {
  // smin32/smax32 are sign-extended only when printed in decimal, so that hex never looks extended.
  const s32 = (v: number): bigint => (v >= -0x8000 && v <= 0x7fff ? u64(BigInt(v)) : BigInt(v >>> 0));
  const names = ['smin', 'smax', 'umin', 'umax', 'smin32', 'smax32', 'umin32', 'umax32'];
  const vals = [u64(s.smin), u64(s.smax), s.umin, s.umax, s32(s.s32min), s32(s.s32max), BigInt(s.u32min), BigInt(s.u32max)];
  const omit = [s.smin === S64_MIN, s.smax === S64_MAX, s.umin === 0n, s.umax === U64_MAX,
    s.s32min === S32_MIN, s.s32max === S32_MAX, s.u32min === 0, s.u32max === U32_MAX];
  const negative = (i: number): boolean => names[i]![0] === 's' && s64(vals[i]!) < 0n;
  const parts: string[] = [];
  for (let i = 0; i < 8; i++) {
    if (omit[i]) continue;
    let text = `${names[i]}=`;
    for (let j = i + 2; j < 8; j += 2) {
      if (omit[j] || vals[j] !== vals[i] || negative(j) !== negative(i)) continue;
      omit[j] = true;
      text += `${names[j]}=`;
    }
    parts.push(text + (names[i]![0] === 's' ? snum(vals[i]!) : unum(vals[i]!)));
  }
  if (!tnumIsUnknown(s.varOff)) parts.push(`var_off=(${hex(s.varOff.value)}; ${hex(s.varOff.mask)})`);
  return parts.join(',');
}

/**
 * A scalar register as print_verifier_state writes it after `Rn=`: a constant as a number,
 * otherwise scalar(...) with formatScalarFields inside. `first` goes first inside the parentheses
 * (the walk's "id=2" or "id=1+5").
 */
export function formatScalar(s: Scalar, first = ''): string {
  if (s.varOff.mask === 0n) return snum(s.varOff.value);
  const fields = formatScalarFields(s);
  return `scalar(${first}${first && fields ? ',' : ''}${fields})`;
}
