// The committed tracing test objects (test/emulator/progs/tracing/build) must be exactly what
// `make -C test/emulator/progs/tracing` builds from the sources today, so that the programs the
// tracing tests run are the ones the C files describe.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tool } from '../helpers/env.js';

const progsDir = join(dirname(fileURLToPath(import.meta.url)), 'progs', 'tracing');
const sources = (): string[] => readdirSync(progsDir).filter((f) => f.endsWith('.c')).map((f) => f.replace(/\.c$/, '')).sort();

describe('tracing test objects', () => {
  it('one committed object per source, and nothing else', () => {
    expect(readdirSync(join(progsDir, 'build')).sort()).toEqual(sources().map((n) => `${n}.o`));
  });

  it('rebuilding from source gives byte-identical objects', (ctx) => {
    const clang = tool('clang-19');
    const make = tool('make');
    if (!clang || !make) return ctx.skip();
    const out = mkdtempSync(join(tmpdir(), 'bpfts-tracing-progs-'));
    try {
      execFileSync(make, ['-s', '-C', progsDir, `CLANG=${clang}`, `BUILD=${out}`, 'all'], { stdio: 'pipe' });
      const stale = sources().filter((n) => !readFileSync(join(out, `${n}.o`)).equals(readFileSync(join(progsDir, 'build', `${n}.o`))));
      expect(stale, 'rebuild with `make -C test/emulator/progs/tracing` and commit its build/').toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
