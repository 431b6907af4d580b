// Hand-made BPF programs for the verify tests: instruction bytes encoded here from the uapi layout
// (not by src/isa), wrapped into an ELF object by llvm-mc-19.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/** One little-endian instruction slot: opcode, dst, src, off, imm (include/uapi/linux/bpf.h struct bpf_insn). */
export function ins(op: number, dst: number, src: number, off: number, imm: number): number[] {
  const b = Buffer.alloc(8);
  b[0] = op;
  b[1] = (src << 4) | dst;
  b.writeInt16LE(off, 2);
  b.writeInt32LE(imm, 4);
  return [...b];
}
export const EXIT = ins(0x95, 0, 0, 0, 0);
export const MOV_R0 = (imm: number): number[] => ins(0xb7, 0, 0, 0, imm);
export const CALL = (id: number): number[] => ins(0x85, 0, 0, 0, id);

const tmp = mkdtempSync(join(tmpdir(), 'bpfts-verify-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Assembles `code` into an object with one program `prog` in `section` and the given license. */
export function assemble(mc: string, name: string, code: number[][], o: { section?: string; license?: string } = {}): string {
  const src = join(tmp, `${name.replace(/\W+/g, '_')}.s`);
  const obj = src.replace(/\.s$/, '.o');
  writeFileSync(src, [
    `\t.section ${o.section ?? 'xdp'},"ax",@progbits`, '\t.globl prog', '\t.type prog,@function', 'prog:',
    ...code.flat().map((b) => `\t.byte ${b}`), '.Lend:', '\t.size prog, .Lend-prog',
    '\t.section license,"aw",@progbits', `\t.asciz "${o.license ?? 'GPL'}"`,
  ].join('\n') + '\n');
  execFileSync(mc, ['-triple', 'bpfel', '-filetype=obj', src, '-o', obj]);
  return obj;
}
