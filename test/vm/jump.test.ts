// Conditional jumps, 64 and 32-bit, register and immediate, against a BigInt model.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Vm } from '../../src/vm/index.js';
import { encode, exit, lddw, movImm, s32, s64, u32, u64 } from './asm.js';

const SPECIAL = [0n, 1n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn,
  0x8000000000000000n, 0xffffffffffffffffn, 0xffffffff80000000n, 0x80000001n];
const word = fc.oneof(fc.constantFrom(...SPECIAL), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));
const imm32 = fc.oneof(fc.constantFrom(0, 1, -1, 0x7fffffff, -0x80000000), fc.integer({ min: -0x80000000, max: 0x7fffffff }));

type Cmp = (a: bigint, b: bigint, signed: (x: bigint) => bigint) => boolean;
const CONDS: [string, number, Cmp][] = [
  ['jeq', 0x10, (a, b) => a === b],
  ['jgt', 0x20, (a, b) => a > b],
  ['jge', 0x30, (a, b) => a >= b],
  ['jset', 0x40, (a, b) => (a & b) !== 0n],
  ['jne', 0x50, (a, b) => a !== b],
  ['jsgt', 0x60, (a, b, s) => s(a) > s(b)],
  ['jsge', 0x70, (a, b, s) => s(a) >= s(b)],
  ['jlt', 0xa0, (a, b) => a < b],
  ['jle', 0xb0, (a, b) => a <= b],
  ['jslt', 0xc0, (a, b, s) => s(a) < s(b)],
  ['jsle', 0xd0, (a, b, s) => s(a) <= s(b)],
];

// r0 = 0; if cond goto +1; exit; r0 = 1; exit  → 1 when taken.
function taken(setup: ReturnType<typeof lddw>, jmp: { code: number; src?: number; imm?: number }): boolean {
  const prog = [...setup, movImm(0, 0), { ...jmp, dst: 1, off: 1 }, exit, movImm(0, 1), exit];
  return new Vm(encode(prog)).run().r0 === 1n;
}

describe('conditional jumps against the RFC 9669 model', () => {
  for (const [name, op, cmp] of CONDS) {
    it(`${name} and ${name}32`, () => {
      fc.assert(
        fc.property(word, word, imm32, (a, b, imm) => {
          const regs = [...lddw(1, a), ...lddw(2, b)];
          expect(taken(regs, { code: 0x05 | 0x08 | op, src: 2 })).toBe(cmp(a, b, s64));
          expect(taken(lddw(1, a), { code: 0x05 | op, imm })).toBe(cmp(a, u64(BigInt(imm)), s64));
          expect(taken(regs, { code: 0x06 | 0x08 | op, src: 2 })).toBe(cmp(u32(a), u32(b), s32));
          expect(taken(lddw(1, a), { code: 0x06 | op, imm })).toBe(cmp(u32(a), u32(BigInt(imm)), s32));
        }),
        { numRuns: 150 },
      );
    });
  }

  it('ja uses off, gotol (JMP32 ja) uses imm, both backwards and forwards', () => {
    // 0: r0 = 1; 1: goto +2; 2: r0 = 2; 3: exit; 4: gotol -3 (to 2)
    const ja = encode([movImm(0, 1), { code: 0x05, off: 2 }, movImm(0, 2), exit, { code: 0x06, imm: -3 }]);
    expect(new Vm(ja).run().r0).toBe(2n);
    const jaFwd = encode([movImm(0, 1), { code: 0x06, imm: 1 }, movImm(0, 2), exit]);
    expect(new Vm(jaFwd).run().r0).toBe(1n);
  });
});
