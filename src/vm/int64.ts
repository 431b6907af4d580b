// 64-bit arithmetic on (hi, lo) Int32 pairs, for the interpreter's rare slow paths (multiply, divide).
// Results go into the module-level `out` pair so that no call allocates.

/** Result of the last call: high and low 32 bits, as int32. */
export const out = new Int32Array(2);
const OUT_HI = 0;
const OUT_LO = 1;

const TWO32 = 4294967296;

/** Low 64 bits of a * b. */
export function mul64(ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff;
  const a1 = al >>> 16;
  const b0 = bl & 0xffff;
  const b1 = bl >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  out[OUT_LO] = ((mid & 0xffff) << 16) | (p00 & 0xffff);
  // The cross terms only matter modulo 2^32, which Math.imul gives.
  out[OUT_HI] = (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16) + Math.imul(al, bh) + Math.imul(ah, bl)) | 0;
}

/** Quotient of the last udivmod64 in `out`; the remainder is kept here. */
export const rem = new Int32Array(2);

/**
 * Unsigned a / b and a % b (b != 0): quotient into `out`, remainder into `rem`.
 * Operands below 2^53 are divided exactly in doubles; larger ones by shift-subtract.
 */
export function udivmod64(ah: number, al: number, bh: number, bl: number): void {
  const uah = ah >>> 0;
  const ual = al >>> 0;
  const ubh = bh >>> 0;
  const ubl = bl >>> 0;
  if (uah < 0x200000 && ubh < 0x200000) {
    const a = uah * TWO32 + ual;
    const b = ubh * TWO32 + ubl;
    // For a, b < 2^53 the rounded quotient is strictly below floor(a/b) + 1, so floor is exact.
    const q = Math.floor(a / b);
    const r = a - q * b;
    setPair(out, q);
    setPair(rem, r);
    return;
  }
  if (ubh >= 0x80000000) {
    // b >= 2^63: the quotient is 0 or 1, and shift-subtract below would overflow the remainder.
    if (uah > ubh || (uah === ubh && ual >= ubl)) {
      out[OUT_HI] = 0;
      out[OUT_LO] = 1;
      sub(uah, ual, ubh, ubl, rem);
    } else {
      out[OUT_HI] = 0;
      out[OUT_LO] = 0;
      rem[OUT_HI] = ah;
      rem[OUT_LO] = al;
    }
    return;
  }
  let qh = 0;
  let ql = 0;
  let rh = 0;
  let rl = 0;
  for (let i = 63; i >= 0; i--) {
    const bit = i >= 32 ? (uah >>> (i - 32)) & 1 : (ual >>> i) & 1;
    rh = ((rh << 1) | (rl >>> 31)) >>> 0;
    rl = ((rl << 1) | bit) >>> 0;
    if (rh > ubh || (rh === ubh && rl >= ubl)) {
      const nl = rl - ubl;
      rh = (rh - ubh - (nl < 0 ? 1 : 0)) >>> 0;
      rl = nl >>> 0;
      if (i >= 32) qh |= 1 << (i - 32);
      else ql |= 1 << i;
    }
  }
  out[OUT_HI] = qh;
  out[OUT_LO] = ql;
  rem[OUT_HI] = rh;
  rem[OUT_LO] = rl;
}

function setPair(dst: Int32Array, v: number): void {
  const h = Math.floor(v / TWO32);
  dst[OUT_HI] = h;
  dst[OUT_LO] = v - h * TWO32;
}

function sub(ah: number, al: number, bh: number, bl: number, dst: Int32Array): void {
  const l = (al >>> 0) - (bl >>> 0);
  dst[OUT_LO] = l;
  dst[OUT_HI] = (ah - bh - (l < 0 ? 1 : 0)) | 0;
}

/** Signed 64-bit division with kernel semantics (x / 0 = 0, INT64_MIN / -1 = INT64_MIN) into `out`. */
export function sdiv64(ah: number, al: number, bh: number, bl: number): void {
  if (bh === 0 && bl === 0) {
    out[OUT_HI] = 0;
    out[OUT_LO] = 0;
    return;
  }
  const negA = ah < 0;
  const negB = bh < 0;
  if (negA) negate(ah, al);
  const xh = negA ? out[OUT_HI]! : ah;
  const xl = negA ? out[OUT_LO]! : al;
  if (negB) negate(bh, bl);
  const yh = negB ? out[OUT_HI]! : bh;
  const yl = negB ? out[OUT_LO]! : bl;
  udivmod64(xh, xl, yh, yl);
  // |INT64_MIN| / 1 = 2^63 wraps back to INT64_MIN when negated or not, matching the kernel.
  if (negA !== negB) negate(out[OUT_HI]!, out[OUT_LO]!);
}

/** Signed 64-bit modulo with kernel semantics (x % 0 = x, INT64_MIN % -1 = 0), sign of the dividend, into `out`. */
export function smod64(ah: number, al: number, bh: number, bl: number): void {
  if (bh === 0 && bl === 0) {
    out[OUT_HI] = ah;
    out[OUT_LO] = al;
    return;
  }
  const negA = ah < 0;
  if (negA) negate(ah, al);
  const xh = negA ? out[OUT_HI]! : ah;
  const xl = negA ? out[OUT_LO]! : al;
  if (bh < 0) negate(bh, bl);
  const yh = bh < 0 ? out[OUT_HI]! : bh;
  const yl = bh < 0 ? out[OUT_LO]! : bl;
  udivmod64(xh, xl, yh, yl);
  if (negA) negate(rem[OUT_HI]!, rem[OUT_LO]!);
  else {
    out[OUT_HI] = rem[OUT_HI]!;
    out[OUT_LO] = rem[OUT_LO]!;
  }
}

/** Two's complement negation into `out`. */
export function negate(h: number, l: number): void {
  const nl = (~l + 1) | 0;
  out[OUT_LO] = nl;
  out[OUT_HI] = (~h + (nl === 0 ? 1 : 0)) | 0;
}

/** Byte-swap of a 32-bit value. */
export function bswap32(v: number): number {
  return ((v >>> 24) | ((v >>> 8) & 0xff00) | ((v & 0xff00) << 8) | (v << 24)) | 0;
}

/** Byte-swap of the low 16 bits, zero-extended. */
export function bswap16(v: number): number {
  return ((v >>> 8) & 0xff) | ((v & 0xff) << 8);
}

/** The 64-bit value of a (hi, lo) pair as an unsigned bigint (for the API boundary, not the hot path). */
export function toBigInt(h: number, l: number): bigint {
  return (BigInt(h >>> 0) << 32n) | BigInt(l >>> 0);
}

/** Unsigned comparison of two 64-bit values: 1, 0 or -1. */
export function ucmp(ah: number, al: number, bh: number, bl: number): number {
  if (ah !== bh) return ah >>> 0 > bh >>> 0 ? 1 : -1;
  if (al === bl) return 0;
  return al >>> 0 > bl >>> 0 ? 1 : -1;
}

/** Signed comparison of two 64-bit values: 1, 0 or -1. */
export function scmp(ah: number, al: number, bh: number, bl: number): number {
  if (ah !== bh) return ah > bh ? 1 : -1;
  if (al === bl) return 0;
  return al >>> 0 > bl >>> 0 ? 1 : -1;
}
