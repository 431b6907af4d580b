// Differential test against llvm-objdump-19 on objects clang-19 assembles from raw bytes: random
// and edge-case instruction words in both byte orders, symbols of every kind, zero runs, truncated
// tails, several sections and `-j`. The expected text is llvm-objdump's, never ours.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseElf } from '../../src/elf/index.js';
import { disassemble } from '../../src/isa/index.js';
import { tool } from '../helpers/env.js';

const clang = tool('clang-19');
const objdump = tool('llvm-objdump-19');
const dir = mkdtempSync(join(tmpdir(), 'bpfts-isa-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** xorshift32: the same words on every run, so a failure reproduces. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

type Word = [opcode: number, dst: number, src: number, off: number, imm: number];

function encode([opcode, dst, src, off, imm]: Word, le: boolean): number[] {
  const b = new DataView(new ArrayBuffer(8));
  b.setUint8(0, opcode);
  b.setUint8(1, le ? (src << 4) | dst : (dst << 4) | src);
  b.setInt16(2, off, le);
  b.setInt32(4, imm, le);
  return [...new Uint8Array(b.buffer)];
}

const OFFS = [0, 1, 8, 16, 32, -1, -2, 7, 0x7fff, -0x8000, 64];
const IMMS = [0, 1, 16, 32, 64, -1, 0x41, 0x51, 0xa1, 0xe1, 0xf1, 0x40, 0x50, 0xa0, 0x100, 0x110, 0x7fffffff, -0x80000000, 0x10002];

function randomWord(next: () => number): Word {
  const pick = <T>(xs: T[]): T => xs[next() % xs.length]!;
  const reg = (): number => (next() % 4 === 0 ? next() % 16 : next() % 11);
  const off = next() % 3 === 0 ? ((next() & 0xffff) << 16) >> 16 : pick(OFFS);
  const imm = next() % 3 === 0 ? next() | 0 : pick(IMMS);
  return [next() & 0xff, reg(), reg(), off, imm];
}

function bytesDirective(bytes: number[]): string {
  return bytes.length ? `.byte ${bytes.join(',')}\n` : '';
}

function build(name: string, asm: string, le: boolean): string {
  const src = join(dir, `${name}.s`);
  const obj = join(dir, `${name}.o`);
  writeFileSync(src, asm);
  execFileSync(clang!, ['-target', le ? 'bpfel' : 'bpfeb', '-c', src, '-o', obj]);
  return obj;
}

function llvm(obj: string, args: string[] = []): string {
  const out = execFileSync(objdump!, ['-d', '--no-show-raw-insn', ...args, obj], { encoding: 'latin1', maxBuffer: 64 << 20 });
  return out.slice(out.indexOf('\n', out.indexOf('file format')) + 1);
}

function ours(obj: string, section?: string): string {
  return disassemble(parseElf(readFileSync(obj)), section === undefined ? {} : { section });
}

describe.skipIf(!clang || !objdump)('agreement with llvm-objdump-19 on synthetic objects', () => {
  for (const le of [true, false]) {
    const order = le ? 'bpfel' : 'bpfeb';

    it(`every opcode with edge-case fields (${order})`, () => {
      const next = prng(0x5eed);
      let asm = '.text\n';
      for (let opcode = 0; opcode < 256; opcode++) {
        for (let k = 0; k < 64; k++) {
          const w = randomWord(next);
          w[0] = opcode;
          // An exit after each word keeps a consumed second slot from hiding the next case.
          asm += bytesDirective([...encode(w, le), ...encode([0x95, 0, 0, 0, 0], le)]);
        }
      }
      const obj = build(`opcodes-${order}`, asm, le);
      expect(ours(obj)).toBe(llvm(obj));
    });

    it(`random words with symbols, jumps, zero runs and a ragged tail (${order})`, () => {
      const next = prng(le ? 1234 : 4321);
      let asm = '.section prog,"ax",@progbits\n.globl entry\n.type entry,@function\nentry:\n';
      for (let i = 0; i < 3000; i++) {
        const r = next() % 100;
        if (r < 3) asm += `LBB0_${i}:\n`;
        else if (r < 4) asm += `.type f${i},@function\nf${i}:\n`;
        else if (r < 5) asm += `.type d${i},@object\nd${i}:\n`;
        else if (r < 6) asm += `n${i}:\nm${i}:\n`;
        else if (r < 8) asm += bytesDirective(new Array(1 + (next() % 30)).fill(0));
        else if (r < 9) asm += bytesDirective(new Array(1 + (next() % 7)).fill(0x18));
        const w = randomWord(next);
        // Mostly jumps with short offsets, so targets land on and between symbols.
        if (r >= 50) w[0] = [0x05, 0x15, 0x1d, 0x26, 0xa6, 0xe5, 0x06, 0x18][next() % 8]!;
        if (r >= 50) [w[3], w[4]] = w[0] === 0x06 ? [0, (next() % 64) - 32] : [(next() % 64) - 32, w[4]];
        if (w[0] === 0x18 && r % 2 === 0) [w[1], w[2], w[3]] = [w[1] % 11, r % 4 === 0 ? 0 : w[2], 0];
        asm += bytesDirective(encode(w, le));
      }
      asm += bytesDirective([0x18, 0x01, 0, 0, 1, 0, 0, 0, 0x95]);
      asm += '.text\n' + bytesDirective([...encode([0xb7, 0, 0, 0, 0], le), ...encode([0x95, 0, 0, 0, 0], le)]);
      asm += '.data\n.type table,@object\ntable:\n' + bytesDirective([...encode([0x07, 1, 0, 0, 5], le), 1, 2, 3]);
      asm += '.bss\nzeros:\n.zero 16\n';
      asm += `.section after,"ax",@progbits\n.set beyond_end, .+64\n` + bytesDirective(encode([0x18, 1, 0, 0, 7], le));
      const obj = build(`random-${order}`, asm, le);
      const expected = llvm(obj);
      // The case covers what it claims to: elided zeros, undecodable bytes, labels, data dumps.
      for (const feature of ['\t\t...\n', '\t<unknown>\n', ' <LBB0_', '<entry+0x', ' ll\n', 'Disassembly of section .text:']) {
        expect(expected).toContain(feature);
      }
      expect(expected).toMatch(/^ +[0-9a-f]+:( [0-9a-f]{2})+ {9}/m);
      expect(ours(obj)).toBe(expected);
      expect(llvm(obj, ['-j', '.bss'])).toContain('...\n');
      for (const section of ['prog', '.data', '.bss', 'after', 'missing']) {
        expect(ours(obj, section)).toBe(llvm(obj, ['-j', section]));
      }
    });
  }

  it('data symbols in a code section are dumped as bytes', () => {
    let asm = '.text\n.type f,@function\nf:\n' + bytesDirective(encode([0x95, 0, 0, 0, 0], true));
    asm += '.type d,@object\nd:\n.ascii "hello, world! 0123456789"\n.type g,@function\ng:\n' + bytesDirective(encode([0x95, 0, 0, 0, 0], true));
    asm += '.type e,@object\ne:\n.byte 1,2,3,0x41,0x42,0x7f,0x80,0x20,9,10\n';
    const obj = build('data-in-code', asm, true);
    expect(ours(obj)).toBe(llvm(obj));
  });
});
