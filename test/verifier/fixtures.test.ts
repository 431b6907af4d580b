// The verifier suite's committed objects (test/verifier/progs/build) must be exactly what
// `make -C test/verifier/progs` builds from the sources today, so that the suite the tests load is
// the suite the C files describe.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tool } from '../helpers/env.js';

const progsDir = join(dirname(fileURLToPath(import.meta.url)), 'progs');
const sources = (): string[] => readdirSync(progsDir).filter((f) => f.endsWith('.c')).map((f) => f.replace(/\.c$/, '')).sort();

describe('verifier suite objects', () => {
  it('one committed object per source, and nothing else', () => {
    const committed = readdirSync(join(progsDir, 'build')).sort();
    expect(committed).toEqual(sources().map((n) => `${n}.o`));
  });

  it('rebuilding from source gives byte-identical objects', (ctx) => {
    const clang = tool('clang-19');
    const make = tool('make');
    if (!clang || !make) return ctx.skip();
    const out = mkdtempSync(join(tmpdir(), 'bpfts-verifier-progs-'));
    try {
      execFileSync(make, ['-s', '-C', progsDir, `CLANG=${clang}`, `BUILD=${out}`, 'all'], { stdio: 'pipe' });
      const stale = sources().filter((n) => !readFileSync(join(out, `${n}.o`)).equals(readFileSync(join(progsDir, 'build', `${n}.o`))));
      expect(stale, 'rebuild with `make -C test/verifier/progs` and commit test/verifier/progs/build').toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
