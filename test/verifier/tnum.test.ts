// Tracked numbers: hand-checked examples (several from kernel/bpf/tnum.c's comments and the
// kernel's selftests), and membership of every operation's concrete results on random tnums.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatTnum, tnumAdd, tnumAnd, tnumArshift, tnumBswap, tnumCast, tnumClearSubreg, tnumConst, tnumConstSubreg,
  tnumEquals, tnumIn, tnumIntersect, tnumIsAligned, tnumIsConst, tnumLshift, tnumMul, tnumNeg, tnumOr,
  tnumOverlap, tnumRange, tnumRshift, tnumStep, tnumSub, tnumSubreg, tnumUnion, tnumWithSubreg, tnumXor,
  TNUM_UNKNOWN, type Tnum,
} from '../../src/verifier/tnum.js';

const M64 = (1n << 64n) - 1n;
const t = (value: bigint, mask: bigint): Tnum => ({ value, mask });
const member = (a: Tnum, v: bigint): boolean => (v & ~a.mask) === a.value;

describe('tnum constructors and predicates', () => {
  it('tnum_range keeps the common high bits of min and max', () => {
    expect(tnumRange(0n, 2n)).toEqual(t(0n, 3n));
    expect(tnumRange(5n, 5n)).toEqual(t(5n, 0n));
    expect(tnumRange(0x100n, 0x1ffn)).toEqual(t(0x100n, 0xffn));
    expect(tnumRange(0n, M64)).toEqual(TNUM_UNKNOWN);
    expect(tnumRange(1n << 63n, M64)).toEqual(t(1n << 63n, (1n << 63n) - 1n));
  });

  it('constants are taken modulo 2^64', () => {
    expect(tnumConst(-1n)).toEqual(t(M64, 0n));
    expect(tnumIsConst(tnumConst(7n))).toBe(true);
    expect(tnumIsConst(TNUM_UNKNOWN)).toBe(false);
  });

  it('tnum_in, tnum_is_aligned and tnum_overlap', () => {
    expect(tnumIn(tnumRange(0n, 0xffn), tnumConst(0x42n))).toBe(true);
    expect(tnumIn(tnumConst(0x42n), tnumRange(0n, 0xffn))).toBe(false);
    // tnum_range(0, 2) also holds 3 (include/linux/tnum.h's warning).
    expect(tnumIn(tnumRange(0n, 2n), tnumConst(3n))).toBe(true);
    expect(tnumIsAligned(t(0x10n, 0x30n), 16)).toBe(true);
    expect(tnumIsAligned(t(0x10n, 0x38n), 16)).toBe(false);
    expect(tnumIsAligned(TNUM_UNKNOWN, 0)).toBe(true);
    expect(tnumOverlap(t(1n, 2n), tnumConst(2n))).toBe(false);
    expect(tnumOverlap(t(1n, 2n), tnumConst(3n))).toBe(true);
  });
});

describe('tnum arithmetic', () => {
  it('add, sub and neg carry the unknown bits', () => {
    expect(tnumAdd(t(0n, 1n), tnumConst(1n))).toEqual(t(0n, 3n));
    expect(tnumSub(tnumConst(0n), tnumConst(1n))).toEqual(tnumConst(M64));
    expect(tnumNeg(t(0n, 0xfn))).toEqual(TNUM_UNKNOWN);
  });

  it('and, or, xor', () => {
    expect(tnumAnd(TNUM_UNKNOWN, tnumConst(0xf0n))).toEqual(t(0n, 0xf0n));
    expect(tnumOr(t(0n, 0xffn), tnumConst(0x3n))).toEqual(t(3n, 0xfcn));
    expect(tnumXor(t(1n, 2n), tnumConst(1n))).toEqual(t(0n, 2n));
  });

  it('mul: an unknown multiplier bit takes the union of both partial sums (6.18)', () => {
    // verifier_mul.c's mul_precise: {1, 3} * 3 is {3, 9}, i.e. x0x1.
    expect(tnumMul(t(1n, 2n), tnumConst(3n))).toEqual(t(1n, 0xan));
    expect(tnumMul(tnumConst(6n), tnumConst(7n))).toEqual(tnumConst(42n));
    expect(tnumMul(tnumConst(M64), tnumConst(2n))).toEqual(tnumConst(M64 - 1n));
  });

  it('shifts, 64- and 32-bit arithmetic right shifts', () => {
    expect(tnumLshift(t(1n, 2n), 62)).toEqual(t(1n << 62n, 1n << 63n));
    expect(tnumRshift(t(0x80n, 0x7fn), 4)).toEqual(t(8n, 7n));
    expect(tnumArshift(tnumConst(1n << 63n), 4, 64)).toEqual(tnumConst(0xf800_0000_0000_0000n));
    expect(tnumArshift(tnumConst(0x1_8000_0000n), 4, 32)).toEqual(tnumConst(0xf800_0000n));
    expect(tnumArshift(t(0n, 0x8000_0000n), 31, 32)).toEqual(t(0n, 0xffff_ffffn));
  });

  it('intersect and union', () => {
    expect(tnumIntersect(t(0n, 0xffn), t(0x10n, 0xf0fn))).toEqual(t(0x10n, 0x0fn));
    expect(tnumUnion(tnumConst(3n), tnumConst(9n))).toEqual(t(1n, 0xan));
  });

  it('tnum_step finds the next member above z', () => {
    // tnum.c's example: t = x11100x0, z = 241 gives 242.
    const x = t(0b0111_0000n, 0b1000_0010n);
    expect(tnumStep(x, 241n)).toBe(242n);
    expect(tnumStep(x, 0n)).toBe(0x70n);
    expect(tnumStep(x, 0xffn)).toBe(0xf2n);
    expect(tnumStep(t(0n, 0x11n), 2n)).toBe(0x10n);
  });

  it('byte swaps, casts and subregister views', () => {
    expect(tnumBswap(t(0n, 0x3f00n), 16)).toEqual(t(0n, 0x3fn));
    expect(tnumBswap(tnumConst(0x1122_3344_5566_7788n), 32)).toEqual(tnumConst(0x8877_6655n));
    expect(tnumBswap(tnumConst(0x1122_3344_5566_7788n), 64)).toEqual(tnumConst(0x8877_6655_4433_2211n));
    expect(tnumCast(TNUM_UNKNOWN, 2)).toEqual(t(0n, 0xffffn));
    expect(tnumSubreg(tnumConst(0x1_0000_0002n))).toEqual(tnumConst(2n));
    expect(tnumClearSubreg(tnumConst(0x1_0000_0002n))).toEqual(tnumConst(0x1_0000_0000n));
    expect(tnumWithSubreg(TNUM_UNKNOWN, tnumConst(5n))).toEqual(t(5n, 0xffff_ffff_0000_0000n));
    expect(tnumConstSubreg(tnumConst(0x7_0000_0001n), -1)).toEqual(tnumConst(0x7_ffff_ffffn));
    expect(tnumEquals(tnumConst(1n), t(1n, 0n))).toBe(true);
  });

  it('prints as tnum_strn: (value; mask), a constant as a number', () => {
    expect(formatTnum(t(0n, 0xffn))).toBe('(0x0; 0xff)');
    expect(formatTnum(TNUM_UNKNOWN)).toBe('(0x0; 0xffffffffffffffff)');
    expect(formatTnum(tnumConst(8n))).toBe('8');
    expect(formatTnum(tnumConst(0x10000n))).toBe('0x10000');
  });
});

describe('tnum operations contain their concrete results', () => {
  const word = fc.oneof(fc.bigInt({ min: 0n, max: M64 }), fc.bigInt({ min: 0n, max: 0xffn }),
    fc.constantFrom(0n, 1n, M64, 1n << 63n, 0xffff_ffffn));
  // A tnum and one of its members.
  const tnumWithMember = fc.tuple(word, word).map(([v, mask]) => ({ a: t(v & ~mask, mask), x: v }));

  it('add, sub, mul, and, or, xor, union, and the shifts', () => {
    fc.assert(fc.property(tnumWithMember, tnumWithMember, fc.integer({ min: 0, max: 63 }), (p, q, sh) => {
      const { a, x } = p;
      const { a: b, x: y } = q;
      expect(member(tnumAdd(a, b), (x + y) & M64)).toBe(true);
      expect(member(tnumSub(a, b), (x - y) & M64)).toBe(true);
      expect(member(tnumMul(a, b), (x * y) & M64)).toBe(true);
      expect(member(tnumAnd(a, b), x & y)).toBe(true);
      expect(member(tnumOr(a, b), x | y)).toBe(true);
      expect(member(tnumXor(a, b), x ^ y)).toBe(true);
      expect(member(tnumUnion(a, b), x) && member(tnumUnion(a, b), y)).toBe(true);
      expect(member(tnumLshift(a, sh), (x << BigInt(sh)) & M64)).toBe(true);
      expect(member(tnumRshift(a, sh), x >> BigInt(sh))).toBe(true);
      expect(member(tnumArshift(a, sh, 64), BigInt.asUintN(64, BigInt.asIntN(64, x) >> BigInt(sh)))).toBe(true);
      const sh32 = sh & 31;
      expect(member(tnumArshift(a, sh32, 32), BigInt.asUintN(32, BigInt.asIntN(32, x) >> BigInt(sh32)))).toBe(true);
      if (member(b, x)) expect(member(tnumIntersect(a, b), x)).toBe(true);
    }), { numRuns: 2000 });
  });

  it('tnum_step returns the least member above z', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 0xfffn }), fc.bigInt({ min: 0n, max: 0xfffn }), fc.bigInt({ min: 0n, max: 0xfffn }), (v, mask, z) => {
      const a = t(v & ~mask, mask);
      const tmax = a.value | a.mask;
      let want = tmax;
      for (let c = z + 1n; c < tmax; c++) {
        if (member(a, c)) {
          want = c;
          break;
        }
      }
      if (z < a.value) want = a.value;
      expect(tnumStep(a, z)).toBe(want);
    }), { numRuns: 500 });
  });
});
