// The vitest kit as a user's project uses it: bpfts/testing/vitest in setupFiles and
// bpfts/testing/vitest-coverage as global setup, by package name; two test files' emulators end in
// one lcov report that genhtml reads; the matchers typecheck; bpfts itself never loads vitest.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { repoRoot, tool } from '../helpers/env.js';
import { ensureBuilt } from '../cli/run-cli.js';

beforeAll(ensureBuilt);

const genhtml = tool('genhtml');

/** A project directory under the repository (so that `bpfts` resolves to this package), removed afterwards. */
function project(files: Record<string, string>): string {
  mkdirSync(join(repoRoot, 'tmp'), { recursive: true });
  const dir = mkdtempSync(join(repoRoot, 'tmp', `kit-${process.pid}-`));
  copyFileSync(join(repoRoot, 'bpf', 'build', 'bpfel', 'tc_drop_tcp80.o'), join(dir, 'tc_drop_tcp80.o'));
  copyFileSync(join(repoRoot, 'bpf', 'tc_drop_tcp80.c'), join(dir, 'tc_drop_tcp80.c'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const testFile = (frame: string, matcher: string) => `
import { expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Emulator } from 'bpfts';
import { packet } from 'bpfts/testing';

it('runs', () => {
  const emu = Emulator.fromObject(readFileSync('tc_drop_tcp80.o'));
  expect(emu.run(${frame})).${matcher}();
});
`;

describe('bpfts/testing/vitest in a project', () => {
  it('gathers the coverage of every test file into one report', () => {
    const dir = project({
      'vitest.config.mjs': `export default { test: { globalSetup: ['bpfts/testing/vitest-coverage'], setupFiles: ['bpfts/testing/vitest'] } };\n`,
      'arp.test.ts': testFile('packet().eth().arp().build()', 'toPass'),
      'web.test.ts': testFile('packet().eth().ipv4().tcp({ dport: 80 }).build()', 'toDrop'),
    });
    try {
      const vitest = join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs');
      const env = { ...process.env, BPFTS_COVERAGE: '', BPFTS_COVERAGE_SOURCE_ROOT: '' };
      const r = spawnSync(process.execPath, [vitest, 'run', '--root', dir, '--reporter=json'], { cwd: dir, encoding: 'utf8', env });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ numTotalTests: 2, numPassedTests: 2 });
      const info = readFileSync(join(dir, 'coverage-bpf', 'lcov.info'), 'utf8');
      const source = readFileSync(join(dir, 'tc_drop_tcp80.c'), 'utf8').split('\n');
      const line = (text: string) => source.findIndex((l) => l.includes(text)) + 1;
      expect(info).toContain(`SF:${join(dir, 'tc_drop_tcp80.c')}\n`);
      // Both frames reach the EtherType test; only the TCP segment reaches the port test.
      expect(info).toContain(`DA:${line('if (eth->h_proto != bpf_htons(ETH_P_IP)')},2\n`);
      expect(info).toContain(`DA:${line('if (tcp->dest == bpf_htons(80))')},1\n`);
      expect(info).toContain('FNDA:2,drop_tcp80\n');
      expect(existsSync(join(dir, 'coverage-bpf', 'index.html'))).toBe(true);
      expect(existsSync(join(dir, 'coverage-bpf', '.parts'))).toBe(false);
      if (genhtml) {
        const g = spawnSync(genhtml, ['--branch-coverage', '-o', join(dir, 'html'), join(dir, 'coverage-bpf', 'lcov.info')], { encoding: 'utf8' });
        expect(g.status, g.stderr).toBe(0);
        expect(g.stdout + g.stderr).not.toMatch(/WARNING/i);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('typechecks the matchers through vitest\'s Assertion and keeps toReturn() for mocks', () => {
    const dir = project({
      'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] }, include: ['*.ts'] }),
      'typed.ts': `
import { expect, vi } from 'vitest';
import { Emulator } from 'bpfts';
import 'bpfts/testing/vitest';
declare const emu: Emulator;
const run = emu.run(new Uint8Array(64));
expect(run).toDrop();
expect(run).not.toPass();
expect(run).toRedirectTo(3);
expect(run).toReturn('XDP_TX');
expect(run).toReturn(2);
expect(run).toHaveRewritten({ ipv4: { dst: '10.0.0.9' }, tcp: { dport: 8080 } });
expect(run).toHaveValidChecksums();
expect(run).toHaveEmitted('events', 1);
expect(emu).toHaveMapEntry('conn_track', { saddr: '0a000009' }, 5);
expect(vi.fn()).toReturn();
`,
      'wrong.ts': `
import { expect } from 'vitest';
import 'bpfts/testing/vitest';
declare const run: unknown;
expect(run).toHaveRewritten({ ipv4: { dst: 9 } });
`,
    });
    try {
      const tsc = resolve(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
      const good = spawnSync(process.execPath, [tsc, '-p', dir, '--pretty', 'false'], { cwd: dir, encoding: 'utf8' });
      // wrong.ts must fail, and alone: a string field given a number.
      expect(good.stdout.trim().split('\n').every((l) => l.startsWith('wrong.ts(')), good.stdout).toBe(true);
      expect(good.stdout).toMatch(/wrong\.ts\(5,\d+\): error TS2322/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the main entry points', () => {
  /** Every module a dist entry imports, transitively, by relative path or package name. */
  function imports(entry: string): Set<string> {
    const seen = new Set<string>();
    const todo = [entry];
    while (todo.length) {
      const file = todo.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const m of readFileSync(file, 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
        const spec = m[1] ?? m[2]!;
        if (spec.startsWith('.')) todo.push(resolve(dirname(file), spec));
        else seen.add(spec);
      }
    }
    return seen;
  }

  it('bpfts and bpfts/testing never import vitest; bpfts/testing/vitest does', () => {
    const dist = join(repoRoot, 'dist');
    expect([...imports(join(dist, 'index.js'))].filter((s) => s.includes('vitest'))).toEqual([]);
    expect([...imports(join(dist, 'testing', 'index.js'))].filter((s) => s.includes('vitest'))).toEqual([]);
    expect(imports(join(dist, 'testing', 'vitest.js'))).toContain('vitest');
  });
});
