// The small programs in progs/*.c, compiled with clang-19 once per test file into a temporary
// directory that is removed when the process exits.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tool } from '../helpers/env.js';

const here = dirname(fileURLToPath(import.meta.url));
export const clang = tool('clang-19');

let multiarch: string | undefined;

function includeMultiarch(): string {
  try {
    multiarch ??= execFileSync('gcc', ['-print-multiarch'], { encoding: 'utf8' }).trim();
  } catch {
    multiarch = 'x86_64-linux-gnu';
  }
  return `-I/usr/include/${multiarch}`;
}

let dir: string | undefined;
const built = new Map<string, Uint8Array>();

/** progs/NAME.c as a little-endian object. */
export function prog(name: string): Uint8Array {
  let b = built.get(name);
  if (b === undefined) {
    if (dir === undefined) {
      const d = mkdtempSync(join(tmpdir(), 'bpfts-emu-'));
      dir = d;
      process.once('exit', () => rmSync(d, { recursive: true, force: true }));
    }
    const out = join(dir, `${name}.o`);
    execFileSync(clang!, ['-O2', '-g', '-target', 'bpfel', includeMultiarch(), '-c', join(here, 'progs', `${name}.c`), '-o', out]);
    b = readFileSync(out);
    built.set(name, b);
  }
  return b;
}
