// Loads, stores, atomics and the region memory model.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Vm, VmFault } from '../../src/vm/index.js';
import { encode, exit, lddw, mov64, movImm, u64, type Insn } from './asm.js';

const word = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

function fault(insns: Insn[], setup?: (vm: Vm) => bigint[]): VmFault {
  const vm = new Vm(encode(insns));
  try {
    vm.run(setup?.(vm) ?? []);
  } catch (e) {
    if (e instanceof VmFault) return e;
    throw e;
  }
  throw new Error('expected a VmFault');
}

describe('loads and stores', () => {
  it('round-trip every size through the stack, zero- or sign-extending as the opcode says', () => {
    fc.assert(
      fc.property(word, (a) => {
        // *(u64 *)(r10 - 8) = r1; r0 = *(size *)(r10 - 8)
        const load = (code: number) =>
          new Vm(encode([...lddw(1, a), { code: 0x7b, dst: 10, src: 1, off: -8 }, { code, dst: 0, src: 10, off: -8 }, exit])).run().r0;
        expect(load(0x79)).toBe(a);
        expect(load(0x61)).toBe(a & 0xffffffffn);
        expect(load(0x69)).toBe(a & 0xffffn);
        expect(load(0x71)).toBe(a & 0xffn);
        expect(load(0x81)).toBe(u64(BigInt.asIntN(32, a)));
        expect(load(0x89)).toBe(u64(BigInt.asIntN(16, a)));
        expect(load(0x91)).toBe(u64(BigInt.asIntN(8, a)));
      }),
      { numRuns: 100 },
    );
  });

  it('store sizes write only their bytes, little-endian', () => {
    fc.assert(
      fc.property(word, fc.integer({ min: -0x80000000, max: 0x7fffffff }), (a, imm) => {
        for (const [st, stx, bytes] of [[0x62, 0x63, 4], [0x6a, 0x6b, 2], [0x72, 0x73, 1], [0x7a, 0x7b, 8]] as const) {
          const mask = (1n << BigInt(8 * bytes)) - 1n;
          const fill = [...lddw(2, -1n), { code: 0x7b, dst: 10, src: 2, off: -8 }];
          const viaReg = new Vm(encode([...fill, ...lddw(1, a), { code: stx, dst: 10, src: 1, off: -8 }, { code: 0x79, dst: 0, src: 10, off: -8 }, exit])).run().r0;
          expect(viaReg).toBe((u64(-1n) & ~mask) | (a & mask));
          const viaImm = new Vm(encode([...fill, { code: st, dst: 10, off: -8, imm }, { code: 0x79, dst: 0, src: 10, off: -8 }, exit])).run().r0;
          expect(viaImm).toBe((u64(-1n) & ~mask) | (u64(BigInt(imm)) & mask));
        }
      }),
      { numRuns: 50 },
    );
  });

  it('a mapped region is shared with the host array and bounds-checked', () => {
    const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const vm = new Vm(encode([{ code: 0x61, dst: 0, src: 1, off: 4 }, { code: 0x72, dst: 1, off: 0, imm: 0x7f }, exit]));
    const p = vm.memory.map(bytes, 'buf');
    expect(vm.run([p]).r0).toBe(0x08070605n);
    expect(bytes[0]).toBe(0x7f);
    const f = fault([{ code: 0x79, dst: 0, src: 1, off: 4 }, exit], (v) => [v.memory.map(new Uint8Array(8), 'buf')]);
    expect(f.kind).toBe('memory');
    expect(f.pc).toBe(0);
    expect(f.message).toMatch(/read of 8 bytes .*region 'buf' of 8 bytes/);
  });

  it('refuses stores to a read-only region', () => {
    const f = fault([{ code: 0x72, dst: 1, imm: 1 }, exit], (v) => [v.memory.map(new Uint8Array(4), 'ro', false)]);
    expect(f.kind).toBe('memory');
    expect(f.message).toMatch(/write .*read-only/);
  });

  it('faults on NULL, on integers, above r10 and below the 512-byte frame', () => {
    expect(fault([movImm(1, 0), { code: 0x71, dst: 0, src: 1 }, exit]).kind).toBe('memory');
    expect(fault([movImm(1, 4096), { code: 0x71, dst: 0, src: 1 }, exit]).kind).toBe('memory');
    expect(fault([{ code: 0x79, dst: 0, src: 10, off: 0 }, exit]).kind).toBe('memory');
    expect(fault([{ code: 0x79, dst: 0, src: 10, off: -520 }, exit]).kind).toBe('memory');
    expect(fault([{ code: 0x7a, dst: 10, off: -516, imm: 0 }, exit]).message).toMatch(/write of 8 bytes/);
    // The whole frame is usable.
    const ok = new Vm(encode([{ code: 0x7a, dst: 10, off: -512, imm: 7 }, { code: 0x79, dst: 0, src: 10, off: -512 }, exit]));
    expect(ok.run().r0).toBe(7n);
  });

  it('a fault carries pc, decoded instruction, text and a settable source line', () => {
    const f = fault([movImm(0, 0), movImm(1, 0), { code: 0x61, dst: 2, src: 1, off: 12 }, exit]);
    expect(f.pc).toBe(2);
    expect(f.insn).toEqual({ code: 0x61, dst: 2, src: 1, off: 12, imm: 0 });
    expect(f.insnText).toBe('r2 = *(u32 *)(r1 +12)');
    expect(f.message).toContain('at pc 2: r2 = *(u32 *)(r1 +12)');
    f.sourceLine = 'x = p->len;';
    expect(f.sourceLine).toBe('x = p->len;');
  });
});

describe('atomics', () => {
  const OPS: [string, number, (m: bigint, s: bigint) => bigint][] = [
    ['add', 0x00, (m, s) => m + s],
    ['or', 0x40, (m, s) => m | s],
    ['and', 0x50, (m, s) => m & s],
    ['xor', 0xa0, (m, s) => m ^ s],
    ['xchg', 0xe1, (_m, s) => s],
  ];
  for (const [name, imm, f] of OPS) {
    it(`${name}, 64 and 32-bit, with and without fetch`, () => {
      fc.assert(
        fc.property(word, word, fc.boolean(), (m, s, fetch) => {
          const op = imm === 0xe1 ? imm : imm | (fetch ? 1 : 0);
          const fetches = (op & 1) === 1;
          for (const [code, bits] of [[0xdb, 64n], [0xc3, 32n]] as const) {
            const mask = (1n << bits) - 1n;
            const mem = new Uint8Array(8);
            new DataView(mem.buffer).setBigUint64(0, m, true);
            const vm = new Vm(encode([...lddw(2, s), { code, dst: 1, src: 2, imm: op }, mov64(0, 2), exit]));
            const r0 = vm.run([vm.memory.map(mem, 'm')]).r0;
            const after = new DataView(mem.buffer).getBigUint64(0, true);
            expect(after).toBe((m & ~mask) | (f(m & mask, s & mask) & mask));
            expect(r0).toBe(fetches ? m & mask : s);
          }
        }),
        { numRuns: 60 },
      );
    });
  }

  it('cmpxchg writes only on equality and returns the old value in r0, 64 and 32-bit', () => {
    fc.assert(
      fc.property(word, word, word, fc.boolean(), (m, s, r0in, equal) => {
        for (const [code, bits] of [[0xdb, 64n], [0xc3, 32n]] as const) {
          const mask = (1n << bits) - 1n;
          const expectOld = equal ? m : r0in;
          const mem = new Uint8Array(8);
          new DataView(mem.buffer).setBigUint64(0, m, true);
          const vm = new Vm(encode([...lddw(0, expectOld), ...lddw(2, s), { code, dst: 1, src: 2, imm: 0xf1 }, exit]));
          const r0 = vm.run([vm.memory.map(mem, 'm')]).r0;
          const after = new DataView(mem.buffer).getBigUint64(0, true);
          const eq = (expectOld & mask) === (m & mask);
          expect(after).toBe(eq ? (m & ~mask) | (s & mask) : m);
          expect(r0).toBe(m & mask);
        }
      }),
      { numRuns: 80 },
    );
  });

  it('load-acquire and store-release move values of every size', () => {
    const mem = new Uint8Array([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]);
    const sizes = [[0xd3, 0x11n], [0xcb, 0x2211n], [0xc3, 0x44332211n], [0xdb, 0x8877665544332211n]] as const;
    for (const [code, want] of sizes) {
      const vm = new Vm(encode([{ code, dst: 0, src: 1, imm: 0x100 }, exit]));
      expect(vm.run([vm.memory.map(mem, 'm')]).r0).toBe(want);
    }
    const out = new Uint8Array(8);
    const vm = new Vm(encode([...lddw(2, 0x0102030405060708n), { code: 0xcb, dst: 1, src: 2, imm: 0x110 }, movImm(0, 0), exit]));
    vm.run([vm.memory.map(out, 'o')]);
    expect([...out]).toEqual([8, 7, 0, 0, 0, 0, 0, 0]);
  });
});
