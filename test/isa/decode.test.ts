// Hand-assembled instructions. Field expectations follow RFC 9669's encoding tables (section 3,
// 4 and 5); the text follows LLVM's BPF assembly syntax as llvm-objdump-19 prints it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BpfError } from '../../src/errors.js';
import type { ElfFile } from '../../src/elf/index.js';
import { SHF_ALLOC, SHF_EXECINSTR, SHT_NULL, SHT_PROGBITS } from '../../src/elf/index.js';
import { decodeProgram, disassemble, formatInsn, IsaError } from '../../src/isa/index.js';

const hexBytes = (s: string): number[] => s.trim().split(/\s+/).map((b) => parseInt(b, 16));

/** Re-encode little-endian slots big-endian by hand: swap the register nibbles, reverse off and imm. */
function toBigEndian(le: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < le.length; i += 8) {
    const [op, regs, o0, o1, i0, i1, i2, i3] = le.slice(i, i + 8) as [number, number, number, number, number, number, number, number];
    out.push(op, ((regs & 0xf) << 4) | (regs >> 4), o1, o0, i3, i2, i1, i0);
  }
  return out;
}

interface Case {
  bytes: string;
  fields: { opcode: number; dst: number; src: number; off: number; imm: number };
  text: string;
}

const f = (opcode: number, dst: number, src: number, off: number, imm: number) => ({ opcode, dst, src, off, imm });

const CASES: Case[] = [
  // ALU64 / ALU (RFC 9669 4.1): code = op | source | class.
  { bytes: '07 01 00 00 05 00 00 00', fields: f(0x07, 1, 0, 0, 5), text: 'r1 += 0x5' },
  { bytes: '0f 21 00 00 00 00 00 00', fields: f(0x0f, 1, 2, 0, 0), text: 'r1 += r2' },
  { bytes: '14 03 00 00 ff ff ff ff', fields: f(0x14, 3, 0, 0, -1), text: 'w3 -= -0x1' },
  { bytes: 'bc 21 00 00 00 00 00 00', fields: f(0xbc, 1, 2, 0, 0), text: 'w1 = w2' },
  { bytes: 'b7 00 00 00 00 00 00 80', fields: f(0xb7, 0, 0, 0, -0x80000000), text: 'r0 = -0x80000000' },
  { bytes: 'c7 01 00 00 3f 00 00 00', fields: f(0xc7, 1, 0, 0, 63), text: 'r1 s>>= 0x3f' },
  { bytes: 'a4 05 00 00 ff 00 00 00', fields: f(0xa4, 5, 0, 0, 255), text: 'w5 ^= 0xff' },
  // MOVSX: MOV | X with offset 8/16/32 (4.1); SDIV/SMOD: offset 1.
  { bytes: 'bf 21 08 00 00 00 00 00', fields: f(0xbf, 1, 2, 8, 0), text: 'r1 = (s8)r2' },
  { bytes: 'bf 21 20 00 00 00 00 00', fields: f(0xbf, 1, 2, 32, 0), text: 'r1 = (s32)r2' },
  { bytes: 'bc 43 10 00 00 00 00 00', fields: f(0xbc, 3, 4, 16, 0), text: 'w3 = (s16)w4' },
  { bytes: '3f 21 01 00 00 00 00 00', fields: f(0x3f, 1, 2, 1, 0), text: 'r1 s/= r2' },
  { bytes: '97 01 01 00 03 00 00 00', fields: f(0x97, 1, 0, 1, 3), text: 'r1 s%= 0x3' },
  { bytes: '3c 21 00 00 00 00 00 00', fields: f(0x3c, 1, 2, 0, 0), text: 'w1 /= w2' },
  { bytes: '87 01 00 00 00 00 00 00', fields: f(0x87, 1, 0, 0, 0), text: 'r1 = -r1' },
  { bytes: '84 02 00 00 00 00 00 00', fields: f(0x84, 2, 0, 0, 0), text: 'w2 = -w2' },
  // Byte swaps (4.2): ALU|END|TO_LE/TO_BE, ALU64|END unconditional; imm = width.
  { bytes: 'd4 01 00 00 10 00 00 00', fields: f(0xd4, 1, 0, 0, 16), text: 'r1 = le16 r1' },
  { bytes: 'dc 01 00 00 20 00 00 00', fields: f(0xdc, 1, 0, 0, 32), text: 'r1 = be32 r1' },
  { bytes: 'd7 06 00 00 40 00 00 00', fields: f(0xd7, 6, 0, 0, 64), text: 'r6 = bswap64 r6' },
  // Jumps (4.3): JA with off, JMP32 JA with imm, conditional jumps, calls, exit.
  { bytes: '05 00 03 00 00 00 00 00', fields: f(0x05, 0, 0, 3, 0), text: 'goto +0x3' },
  { bytes: '05 00 fe ff 00 00 00 00', fields: f(0x05, 0, 0, -2, 0), text: 'goto -0x2' },
  { bytes: '06 00 00 00 00 01 00 00', fields: f(0x06, 0, 0, 0, 256), text: 'gotol +0x100' },
  { bytes: '2d 21 05 00 00 00 00 00', fields: f(0x2d, 1, 2, 5, 0), text: 'if r1 > r2 goto +0x5' },
  { bytes: 'a6 01 fe ff 0a 00 00 00', fields: f(0xa6, 1, 0, -2, 10), text: 'if w1 < 0xa goto -0x2' },
  { bytes: '45 03 01 00 01 00 00 00', fields: f(0x45, 3, 0, 1, 1), text: 'if r3 & 0x1 goto +0x1' },
  { bytes: 'dd 98 00 00 00 00 00 00', fields: f(0xdd, 8, 9, 0, 0), text: 'if r8 s<= r9 goto +0x0' },
  { bytes: '85 00 00 00 01 00 00 00', fields: f(0x85, 0, 0, 0, 1), text: 'call 0x1' },
  { bytes: '85 10 00 00 ff ff ff ff', fields: f(0x85, 0, 1, 0, -1), text: 'call -0x1' },
  { bytes: '8d 01 00 00 00 00 00 00', fields: f(0x8d, 1, 0, 0, 0), text: 'callx r1' },
  { bytes: '95 00 00 00 00 00 00 00', fields: f(0x95, 0, 0, 0, 0), text: 'exit' },
  { bytes: 'e5 00 02 00 00 00 00 00', fields: f(0xe5, 0, 0, 2, 0), text: 'may_goto +0x2' },
  // Loads and stores (5.1-5.3): mode | size | class.
  { bytes: '61 12 4c 00 00 00 00 00', fields: f(0x61, 2, 1, 0x4c, 0), text: 'r2 = *(u32 *)(r1 + 0x4c)' },
  { bytes: '79 a1 f8 ff 00 00 00 00', fields: f(0x79, 1, 10, -8, 0), text: 'r1 = *(u64 *)(r10 - 0x8)' },
  { bytes: '91 12 fe ff 00 00 00 00', fields: f(0x91, 2, 1, -2, 0), text: 'r2 = *(s8 *)(r1 - 0x2)' },
  { bytes: '89 12 00 00 00 00 00 00', fields: f(0x89, 2, 1, 0, 0), text: 'r2 = *(s16 *)(r1 + 0x0)' },
  { bytes: '7a 0a f8 ff 2a 00 00 00', fields: f(0x7a, 10, 0, -8, 42), text: '*(u64 *)(r10 - 0x8) = 0x2a' },
  { bytes: '6a 0a 00 80 ff ff ff ff', fields: f(0x6a, 10, 0, -0x8000, -1), text: '*(u16 *)(r10 - 0x8000) = -0x1' },
  { bytes: '63 1a fc ff 00 00 00 00', fields: f(0x63, 10, 1, -4, 0), text: '*(u32 *)(r10 - 0x4) = r1' },
  { bytes: '73 31 ff 7f 00 00 00 00', fields: f(0x73, 1, 3, 0x7fff, 0), text: '*(u8 *)(r1 + 0x7fff) = r3' },
  // Atomics (5.3): STX | ATOMIC, operation in imm.
  { bytes: 'db 21 00 00 00 00 00 00', fields: f(0xdb, 1, 2, 0, 0x00), text: 'lock *(u64 *)(r1 + 0x0) += r2' },
  { bytes: 'db 21 10 00 50 00 00 00', fields: f(0xdb, 1, 2, 16, 0x50), text: 'lock *(u64 *)(r1 + 0x10) &= r2' },
  { bytes: 'db 21 00 00 01 00 00 00', fields: f(0xdb, 1, 2, 0, 0x01), text: 'r2 = atomic_fetch_add((u64 *)(r1 + 0x0), r2)' },
  { bytes: 'db 21 00 00 a1 00 00 00', fields: f(0xdb, 1, 2, 0, 0xa1), text: 'r2 = atomic_fetch_xor((u64 *)(r1 + 0x0), r2)' },
  { bytes: 'db 21 08 00 e1 00 00 00', fields: f(0xdb, 1, 2, 8, 0xe1), text: 'r2 = xchg_64(r1 + 0x8, r2)' },
  { bytes: 'db 21 00 00 f1 00 00 00', fields: f(0xdb, 1, 2, 0, 0xf1), text: 'r0 = cmpxchg_64(r1 + 0x0, r0, r2)' },
  { bytes: 'c3 21 00 00 00 00 00 00', fields: f(0xc3, 1, 2, 0, 0x00), text: 'lock *(u32 *)(r1 + 0x0) += r2' },
  // A valid 32-bit fetch-or that llvm-objdump (no alu32) cannot print.
  { bytes: 'c3 21 00 00 41 00 00 00', fields: f(0xc3, 1, 2, 0, 0x41), text: '<unknown>' },
  // Legacy packet access (5.5).
  { bytes: '20 00 00 00 0c 00 00 00', fields: f(0x20, 0, 0, 0, 12), text: 'r0 = *(u32 *)skb[0xc]' },
  { bytes: '50 20 00 00 00 00 00 00', fields: f(0x50, 0, 2, 0, 0), text: 'r0 = *(u8 *)skb[r2]' },
];

const WIDE: { bytes: string; imm64: bigint; text: string }[] = [
  { bytes: '18 01 00 00 ff ff ff ff 00 00 00 00 ff ff ff 7f', imm64: 0x7fffffffffffffffn, text: 'r1 = 0x7fffffffffffffff ll' },
  { bytes: '18 02 00 00 00 00 00 00 00 00 00 00 00 00 00 00', imm64: 0n, text: 'r2 = 0x0 ll' },
  { bytes: '18 03 00 00 ff ff ff ff 00 00 00 00 ff ff ff ff', imm64: 0xffffffffffffffffn, text: 'r3 = -0x1 ll' },
  { bytes: '18 01 00 00 78 56 34 12 00 00 00 00 01 00 00 00', imm64: 0x112345678n, text: 'r1 = 0x112345678 ll' },
  // src 1: BPF_PSEUDO_MAP_FD (5.4); LLVM prints the pseudo forms as ld_pseudo.
  { bytes: '18 11 00 00 03 00 00 00 00 00 00 00 00 00 00 00', imm64: 3n, text: 'ld_pseudo\tr1, 0x1, 0x3' },
  { bytes: '18 61 00 00 fe ff ff ff 00 00 00 00 00 00 00 00', imm64: 0xfffffffen, text: 'ld_pseudo\tr1, 0x6, 0xfffffffe' },
];

describe('decodeProgram and formatInsn', () => {
  for (const le of [true, false]) {
    const order = le ? 'little-endian' : 'big-endian';
    it.each(CASES)(`${order}: %s`, ({ bytes, fields, text }) => {
      const raw = hexBytes(bytes);
      const { insns, errors } = decodeProgram(Uint8Array.from(le ? raw : toBigEndian(raw)), le);
      expect(insns).toHaveLength(1);
      expect(insns[0]).toMatchObject({ ...fields, index: 0, offset: 0, cls: fields.opcode & 7, slots: 1 });
      expect(errors).toEqual([]);
      expect(formatInsn(insns[0]!)).toBe(text);
    });

    it.each(WIDE)(`${order} ld_imm64: %s`, ({ bytes, imm64, text }) => {
      const raw = [...hexBytes(bytes), ...hexBytes('95 00 00 00 00 00 00 00')];
      const { insns, errors } = decodeProgram(Uint8Array.from(le ? raw : toBigEndian(raw)), le);
      expect(errors).toEqual([]);
      expect(insns.map((i) => [i.index, i.slots])).toEqual([[0, 2], [2, 1]]);
      expect(insns[0]!.imm64).toBe(imm64);
      expect(insns[0]!.next).toMatchObject({ opcode: 0, dst: 0, src: 0, off: 0 });
      expect(formatInsn(insns[0]!)).toBe(text);
    });
  }

  it('reports each undecodable instruction with its slot and offset', () => {
    const code = [
      '07 01 00 00 01 00 00 00', // fine
      'ff 00 00 00 00 00 00 00', // unknown opcode
      '07 0b 00 00 01 00 00 00', // r11
      'd4 01 00 00 18 00 00 00', // byte swap of 24 bits
      '07 01 01 00 01 00 00 00', // add with offset 1
      '18 71 00 00 00 00 00 00 00 00 00 00 00 00 00 00', // ld_imm64 pseudo source 7
      '18 01 00 00 00 00 00 00 95 00 00 00 00 00 00 00', // second slot is not zero
      'db 21 00 00 e0 00 00 00', // xchg without FETCH
      '8f 01 00 00 00 00 00 00', // NEG | X
      '18 01 00 00 00 00 00 00', // ld_imm64 cut short
    ].flatMap(hexBytes);
    const { insns, errors } = decodeProgram(Uint8Array.from([...code, 0x95, 0, 0]), true, 'xdp');
    expect(errors.every((e) => e instanceof IsaError && e instanceof BpfError)).toBe(true);
    expect(errors.map((e) => [e.code, e.index, e.offset])).toEqual([
      ['unknown-opcode', 1, 8],
      ['bad-register', 2, 16],
      ['bad-field', 3, 24],
      ['bad-field', 4, 32],
      ['bad-field', 5, 40],
      ['bad-ld-imm64-second-slot', 8, 64],
      ['bad-field', 9, 72],
      ['unknown-opcode', 10, 80],
      ['truncated-ld-imm64', 11, 88],
      ['trailing-bytes', 12, 96],
    ]);
    expect(errors[0]!.message).toBe('xdp: insn 1 (offset 0x8): unknown opcode 0xff');
    expect(insns.map((i) => i.index)).toEqual([0, 1, 2, 3, 4, 5, 7, 9, 10, 11]);
  });
});

function elfWithText(code: Uint8Array, littleEndian: boolean): ElfFile {
  const section = (index: number, name: string, type: number, flags: number, data: Uint8Array) => ({
    index, name, nameOffset: 0, type, flags, offset: 0, size: data.length, link: 0, info: 0, addralign: 8, entsize: 0, data,
  });
  return {
    bytes: code, littleEndian, machine: 247, type: 1, flags: 0, symbols: [], relocationSections: [],
    sections: [section(0, '', SHT_NULL, 0, new Uint8Array(0)), section(1, 'xdp', SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, code)],
  };
}

describe('robustness on arbitrary bytes', () => {
  it('never throws, never loses a byte, and formats every instruction', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), fc.boolean(), (bytes, le) => {
        const { insns, errors } = decodeProgram(bytes, le);
        const slots = insns.reduce((n, i) => n + i.slots, 0);
        expect(slots).toBe(Math.floor(bytes.length / 8));
        expect(errors.some((e) => e.code === 'trailing-bytes')).toBe(bytes.length % 8 !== 0);
        for (const insn of insns) expect(typeof formatInsn(insn)).toBe('string');
        const listing = disassemble(elfWithText(bytes, le));
        if (bytes.length > 0) expect(listing.startsWith('\nDisassembly of section xdp:\n\n0000000000000000 <xdp>:\n')).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('random 8-byte words in both byte orders decode to the same fields', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), (raw) => {
        const a = decodeProgram(raw, true).insns[0]!;
        const b = decodeProgram(Uint8Array.from(toBigEndian([...raw])), false).insns[0]!;
        expect({ ...b, next: undefined, imm64: undefined }).toEqual({ ...a, next: undefined, imm64: undefined });
      }),
      { numRuns: 3000 },
    );
  });
});
