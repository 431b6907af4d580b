// ALU semantics checked against a BigInt model of RFC 9669 written here, on random and edge operands.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Vm } from '../../src/vm/index.js';
import { encode, exit, lddw, mov64, s32, s64, u32, u64, type Insn } from './asm.js';

const SPECIAL = [0n, 1n, 2n, 31n, 32n, 63n, 64n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n,
  0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn, 0xffffffff80000000n, 0xfffffffffffffffen,
  (1n << 53n) + 1n, (1n << 54n) - 1n, (1n << 54n) - 3n, 3n, 7n];
const word = fc.oneof(fc.constantFrom(...SPECIAL), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  fc.bigInt({ min: 0n, max: 0xffffn }));
const imm32 = fc.oneof(fc.constantFrom(0, 1, -1, 2, 31, 32, 63, 64, 0x7fffffff, -0x80000000, -2),
  fc.integer({ min: -0x80000000, max: 0x7fffffff }));

function run(insns: Insn[]): bigint {
  return new Vm(encode(insns)).run().r0;
}

type Ref = (a: bigint, b: bigint) => bigint;
const sh = (b: bigint, bits: number) => b & BigInt(bits - 1);

// op code nibble, off, 64-bit reference, 32-bit reference (operands already truncated to 32 bits).
const OPS: [string, number, number, Ref, Ref][] = [
  ['add', 0x00, 0, (a, b) => u64(a + b), (a, b) => u32(a + b)],
  ['sub', 0x10, 0, (a, b) => u64(a - b), (a, b) => u32(a - b)],
  ['mul', 0x20, 0, (a, b) => u64(a * b), (a, b) => u32(a * b)],
  ['div', 0x30, 0, (a, b) => (b === 0n ? 0n : a / b), (a, b) => (b === 0n ? 0n : a / b)],
  ['sdiv', 0x30, 1, (a, b) => (b === 0n ? 0n : u64(s64(a) / s64(b))), (a, b) => (b === 0n ? 0n : u32(s32(a) / s32(b)))],
  ['or', 0x40, 0, (a, b) => a | b, (a, b) => a | b],
  ['and', 0x50, 0, (a, b) => a & b, (a, b) => a & b],
  ['lsh', 0x60, 0, (a, b) => u64(a << sh(b, 64)), (a, b) => u32(a << sh(b, 32))],
  ['rsh', 0x70, 0, (a, b) => a >> sh(b, 64), (a, b) => a >> sh(b, 32)],
  ['mod', 0x90, 0, (a, b) => (b === 0n ? a : a % b), (a, b) => (b === 0n ? a : a % b)],
  ['smod', 0x90, 1, (a, b) => (b === 0n ? a : u64(s64(a) % s64(b))), (a, b) => (b === 0n ? a : u32(s32(a) % s32(b)))],
  ['xor', 0xa0, 0, (a, b) => a ^ b, (a, b) => a ^ b],
  ['mov', 0xb0, 0, (_a, b) => b, (_a, b) => b],
  ['arsh', 0xc0, 0, (a, b) => u64(s64(a) >> sh(b, 64)), (a, b) => u32(s32(a) >> sh(b, 32))],
];

describe('ALU64 and ALU32 against the RFC 9669 model', () => {
  for (const [name, op, off, ref64, ref32] of OPS) {
    it(`${name} (64-bit, register and immediate)`, () => {
      fc.assert(
        fc.property(word, word, imm32, (a, b, imm) => {
          const reg = run([...lddw(1, a), ...lddw(2, b), { code: 0x07 | 0x08 | op, dst: 1, src: 2, off }, mov64(0, 1), exit]);
          expect(reg).toBe(ref64(a, b));
          const k = run([...lddw(1, a), { code: 0x07 | op, dst: 1, off, imm }, mov64(0, 1), exit]);
          expect(k).toBe(ref64(a, u64(BigInt(imm))));
        }),
        { numRuns: 150 },
      );
    });
    it(`${name} (32-bit, zero-extended)`, () => {
      fc.assert(
        fc.property(word, word, imm32, (a, b, imm) => {
          const reg = run([...lddw(1, a), ...lddw(2, b), { code: 0x04 | 0x08 | op, dst: 1, src: 2, off }, mov64(0, 1), exit]);
          expect(reg).toBe(ref32(u32(a), u32(b)));
          const k = run([...lddw(1, a), { code: 0x04 | op, dst: 1, off, imm }, mov64(0, 1), exit]);
          expect(k).toBe(ref32(u32(a), u32(BigInt(imm))));
        }),
        { numRuns: 150 },
      );
    });
  }

  it('neg', () => {
    fc.assert(
      fc.property(word, (a) => {
        expect(run([...lddw(1, a), { code: 0x87, dst: 1 }, mov64(0, 1), exit])).toBe(u64(-a));
        expect(run([...lddw(1, a), { code: 0x84, dst: 1 }, mov64(0, 1), exit])).toBe(u32(-a));
      }),
    );
  });

  it('movsx sign-extends 8/16/32 bits (64-bit) and 8/16 bits (32-bit, zero-extended)', () => {
    fc.assert(
      fc.property(word, (a) => {
        for (const bits of [8, 16, 32]) {
          const got = run([...lddw(1, a), { code: 0xbf, dst: 2, src: 1, off: bits }, mov64(0, 2), exit]);
          expect(got).toBe(u64(BigInt.asIntN(bits, a)));
        }
        for (const bits of [8, 16]) {
          const got = run([...lddw(1, a), { code: 0xbc, dst: 2, src: 1, off: bits }, mov64(0, 2), exit]);
          expect(got).toBe(u32(BigInt.asIntN(bits, a)));
        }
      }),
    );
  });

  const swapBytes = (v: bigint, bytes: number): bigint => {
    let r = 0n;
    for (let i = 0; i < bytes; i++) r = (r << 8n) | ((v >> BigInt(8 * i)) & 0xffn);
    return r;
  };

  it('bswap, be and le (little-endian host)', () => {
    fc.assert(
      fc.property(word, (a) => {
        for (const bits of [16, 32, 64]) {
          const mask = (1n << BigInt(bits)) - 1n;
          const bswap = run([...lddw(1, a), { code: 0xd7, dst: 1, imm: bits }, mov64(0, 1), exit]);
          expect(bswap).toBe(swapBytes(a & mask, bits / 8));
          const be = run([...lddw(1, a), { code: 0xdc, dst: 1, imm: bits }, mov64(0, 1), exit]);
          expect(be).toBe(swapBytes(a & mask, bits / 8));
          const le = run([...lddw(1, a), { code: 0xd4, dst: 1, imm: bits }, mov64(0, 1), exit]);
          expect(le).toBe(a & mask);
        }
      }),
    );
  });

  it('ld_imm64 loads all 64 bits', () => {
    fc.assert(
      fc.property(word, (a) => {
        expect(run([...lddw(0, a), exit])).toBe(a);
      }),
    );
  });
});
