// Building the small BPF programs the loader tests need (CO-RE, kfuncs, externs) with clang-19
// into a temporary directory, the way their authors would: -g -O2 -target bpf.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/env.js';

function multiarch(): string {
  try {
    return execFileSync('gcc', ['-dumpmachine'], { encoding: 'utf8' }).trim();
  } catch {
    return `${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
  }
}

/** A temporary directory with `name`.o built from `srcDir`/`name`.c; `cleanup` removes it. */
export function buildTestObject(clang: string, name: string, extraFlags: string[] = [], srcDir = join(repoRoot, 'test', 'loader', 'src')): { path: string; dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'bpfts-clang-'));
  const path = join(dir, `${name}.o`);
  execFileSync(clang, ['-g', '-O2', '-target', 'bpf', `-I/usr/include/${multiarch()}`, ...extraFlags,
    '-c', join(srcDir, `${name}.c`), '-o', path], { stdio: 'pipe' });
  return { path, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
