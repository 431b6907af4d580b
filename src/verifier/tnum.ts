// Tracked numbers as the Linux 6.18 verifier keeps them (kernel/bpf/tnum.c, include/linux/tnum.h,
// with the stable series' tnum_bswap*/tnum_step): a u64 whose bits are each known 0, known 1 or
// unknown. `mask` has the unknown bits set; `value` has the known 1s (never a bit of `mask`).
// Values are bigints in [0, 2^64): every result is masked back into that range, as C's u64 wraps.

export interface Tnum {
  readonly value: bigint;
  readonly mask: bigint;
}

export const U64_MAX = 0xffff_ffff_ffff_ffffn;
const U32_MASK = 0xffff_ffffn;
const HIGH32 = U64_MAX ^ U32_MASK;

export const TNUM_UNKNOWN: Tnum = { value: 0n, mask: U64_MAX };
export const TNUM_ZERO: Tnum = { value: 0n, mask: 0n };

const tn = (value: bigint, mask: bigint): Tnum => ({ value, mask });

/** The constant `v`, taken modulo 2^64 (negative numbers are their two's complement). */
export function tnumConst(v: bigint): Tnum {
  return v >= 0n && v <= U64_MAX ? { value: v, mask: 0n } : { value: v & U64_MAX, mask: 0n };
}

/** fls64: the 1-based index of the highest set bit, 0 for 0. */
function fls64(x: bigint): number {
  if (x === 0n) return 0;
  const hi = Number(x >> 32n);
  return hi !== 0 ? 64 - Math.clz32(hi) : 32 - Math.clz32(Number(x & U32_MASK));
}

/** Every u64 in [min, max] and possibly more: the common high bits of min and max known, the rest not. */
export function tnumRange(min: bigint, max: bigint): Tnum {
  const bits = fls64(min ^ max);
  if (bits > 63) return TNUM_UNKNOWN;
  const delta = (1n << BigInt(bits)) - 1n;
  return tn(min & ~delta, delta);
}

export function tnumLshift(a: Tnum, shift: number): Tnum {
  const s = BigInt(shift);
  return tn((a.value << s) & U64_MAX, (a.mask << s) & U64_MAX);
}

export function tnumRshift(a: Tnum, shift: number): Tnum {
  const s = BigInt(shift);
  return tn(a.value >> s, a.mask >> s);
}

/**
 * Arithmetic shift by `shift` within the instruction's width: for 32 the result is the low word
 * shifted with its bit 31 as the sign, zero above.
 */
export function tnumArshift(a: Tnum, shift: number, insnBitness: 32 | 64): Tnum {
  const s = BigInt(shift);
  if (insnBitness === 32) {
    return tn((BigInt.asIntN(32, a.value) >> s) & U32_MASK, (BigInt.asIntN(32, a.mask) >> s) & U32_MASK);
  }
  return tn((BigInt.asIntN(64, a.value) >> s) & U64_MAX, (BigInt.asIntN(64, a.mask) >> s) & U64_MAX);
}

export function tnumAdd(a: Tnum, b: Tnum): Tnum {
  const sm = (a.mask + b.mask) & U64_MAX;
  const sv = (a.value + b.value) & U64_MAX;
  const sigma = (sm + sv) & U64_MAX;
  const mu = (sigma ^ sv) | a.mask | b.mask;
  return tn(sv & ~mu, mu);
}

export function tnumSub(a: Tnum, b: Tnum): Tnum {
  const dv = (a.value - b.value) & U64_MAX;
  const alpha = (dv + a.mask) & U64_MAX;
  const beta = (dv - b.mask) & U64_MAX;
  const mu = (alpha ^ beta) | a.mask | b.mask;
  return tn(dv & ~mu, mu);
}

export function tnumNeg(a: Tnum): Tnum {
  return tnumSub(TNUM_ZERO, a);
}

export function tnumAnd(a: Tnum, b: Tnum): Tnum {
  const v = a.value & b.value;
  return tn(v, (a.value | a.mask) & (b.value | b.mask) & ~v);
}

export function tnumOr(a: Tnum, b: Tnum): Tnum {
  const v = a.value | b.value;
  return tn(v, (a.mask | b.mask) & ~v);
}

export function tnumXor(a: Tnum, b: Tnum): Tnum {
  const mu = a.mask | b.mask;
  return tn((a.value ^ b.value) & ~mu, mu);
}

/**
 * Long multiplication over the bits of `a` (6.18's algorithm): a known 1 adds `b`, an unknown bit
 * takes the union of adding and not adding it, which keeps more of the partial products' bits
 * than summing their masks would.
 */
export function tnumMul(a: Tnum, b: Tnum): Tnum {
  if (a.mask === 0n && b.mask === 0n) return tn((a.value * b.value) & U64_MAX, 0n);
  let acc = TNUM_ZERO;
  let av = a.value;
  let am = a.mask;
  let bv = b.value;
  let bm = b.mask;
  while (av !== 0n || am !== 0n) {
    const b1 = tn(bv, bm);
    if (av & 1n) acc = tnumAdd(acc, b1);
    else if (am & 1n) acc = tnumUnion(acc, tnumAdd(acc, b1));
    av >>= 1n;
    am >>= 1n;
    bv = (bv << 1n) & U64_MAX;
    bm = (bm << 1n) & U64_MAX;
  }
  return acc;
}

/** Whether some number fits both: their known bits agree. */
export function tnumOverlap(a: Tnum, b: Tnum): boolean {
  const mu = ~a.mask & ~b.mask;
  return (a.value & mu) === (b.value & mu);
}

/** Numbers satisfying both; where they disagree on a known bit the result says 1 (as the kernel). */
export function tnumIntersect(a: Tnum, b: Tnum): Tnum {
  const mu = a.mask & b.mask;
  return tn((a.value | b.value) & ~mu, mu);
}

/** Numbers satisfying either (and any mix of their disagreeing bits). */
export function tnumUnion(a: Tnum, b: Tnum): Tnum {
  const mu = (a.value ^ b.value) | a.mask | b.mask;
  return tn(a.value & b.value & ~mu, mu);
}

/** The low `sizeBytes` bytes, the rest known 0. */
export function tnumCast(a: Tnum, sizeBytes: number): Tnum {
  if (sizeBytes >= 8) return a;
  const m = (1n << BigInt(sizeBytes * 8)) - 1n;
  return tn(a.value & m, a.mask & m);
}

export function tnumIsConst(a: Tnum): boolean {
  return a.mask === 0n;
}

export function tnumIsUnknown(a: Tnum): boolean {
  return a.mask === U64_MAX;
}

/** Known to be a multiple of `size` (a power of two; 0 counts as always). */
export function tnumIsAligned(a: Tnum, size: number): boolean {
  if (size === 0) return true;
  return ((a.value | a.mask) & BigInt(size - 1)) === 0n;
}

/** Whether every number `inner` allows is one `outer` allows. */
export function tnumIn(outer: Tnum, inner: Tnum): boolean {
  if (inner.mask & ~outer.mask) return false;
  return outer.value === (inner.value & ~outer.mask);
}

export function tnumSubreg(a: Tnum): Tnum {
  return a.value <= U32_MASK && a.mask <= U32_MASK ? a : tn(a.value & U32_MASK, a.mask & U32_MASK);
}

export function tnumSubregIsConst(a: Tnum): boolean {
  return (a.mask & U32_MASK) === 0n;
}

export function tnumClearSubreg(a: Tnum): Tnum {
  return tn(a.value & HIGH32, a.mask & HIGH32);
}

/** `reg`'s high word with `subreg`'s low word. */
export function tnumWithSubreg(reg: Tnum, subreg: Tnum): Tnum {
  return tnumOr(tnumClearSubreg(reg), tnumSubreg(subreg));
}

/** `a` with its low word the constant `v` (taken as a u32). */
export function tnumConstSubreg(a: Tnum, v: number): Tnum {
  return tnumWithSubreg(a, tn(BigInt(v >>> 0), 0n));
}

export function tnumEquals(a: Tnum, b: Tnum): boolean {
  return a.value === b.value && a.mask === b.mask;
}

function swab(x: bigint, bytes: number): bigint {
  let r = 0n;
  for (let i = 0; i < bytes; i++) {
    r = (r << 8n) | (x & 0xffn);
    x >>= 8n;
  }
  return r;
}

/** Byte swap of the low `bits` bits (16, 32 or 64), the rest known 0 (tnum_bswap16/32/64). */
export function tnumBswap(a: Tnum, bits: 16 | 32 | 64): Tnum {
  return tn(swab(a.value, bits / 8), swab(a.mask, bits / 8));
}

/**
 * tnum_step: the smallest member of `t` above `z`; t's largest member when there is none, its
 * smallest when z is below it.
 */
export function tnumStep(t: Tnum, z: bigint): bigint {
  const tmax = t.value | t.mask;
  if (z >= tmax) return tmax;
  if (z < t.value) return t.value;
  const notMask = U64_MAX ^ t.mask;
  const j = t.value | (z & t.mask);
  if (j > z) {
    // The highest known-1 bit of t where z has 0: above it keep z, at and below it t's minimum.
    const k = BigInt(fls64((U64_MAX ^ z) & t.value & notMask));
    const q = (U64_MAX << k) & U64_MAX;
    return (q & z) | (~q & t.value);
  }
  // The highest known-0 bit of t where z has 1: the unknown bits above it, read as a number,
  // must grow by one.
  const k = BigInt(fls64(z & ~t.value & notMask));
  const q = (U64_MAX << k) & U64_MAX;
  const v = (q & t.mask & z) | (q & notMask);
  const u = (v + (1n << k)) & U64_MAX;
  return (u & t.mask) | t.value;
}

/** %#llx as the kernel's vsnprintf writes it: 0x even for zero. */
export function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}

/** tnum_strn: a constant as a number (decimal up to U16_MAX), otherwise "(value; mask)". */
export function formatTnum(a: Tnum): string {
  if (a.mask === 0n) return a.value <= 0xffffn ? a.value.toString() : hex(a.value);
  return `(${hex(a.value)}; ${hex(a.mask)})`;
}
