// bpfts/testing/vitest-coverage: a vitest global setup that gathers the C source coverage of every
// emulator of a test run into one report, beside vitest's own coverage of the TypeScript:
//   test: { globalSetup: ['bpfts/testing/vitest-coverage'], setupFiles: ['bpfts/testing/vitest'] }
// BPFTS_COVERAGE names the directory (default coverage-bpf), BPFTS_COVERAGE_SOURCE_ROOT where the
// paths in line_info start. Each test file leaves its report there (see vitest.ts); the teardown
// merges them into DIR/lcov.info and DIR/index.html.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mergeCoverage, type CoverageReport } from '../vm/index.js';
import { COVERAGE_PARTS, writeCoverage } from './coverage-files.js';

export function setup(): void {
  // Workers inherit the environment, so they learn the directory, absolute, from here.
  const dir = resolve(process.env.BPFTS_COVERAGE || 'coverage-bpf');
  process.env.BPFTS_COVERAGE = dir;
  rmSync(join(dir, COVERAGE_PARTS), { recursive: true, force: true });
}

export function teardown(): void {
  const dir = process.env.BPFTS_COVERAGE!;
  const parts = join(dir, COVERAGE_PARTS);
  if (!existsSync(parts)) return;
  const reports = readdirSync(parts).filter((f) => f.endsWith('.json')).sort()
    .map((f) => JSON.parse(readFileSync(join(parts, f), 'utf8')) as CoverageReport);
  const root = process.env.BPFTS_COVERAGE_SOURCE_ROOT;
  writeCoverage(dir, mergeCoverage(...reports), { ...(root ? { sourceRoot: root } : {}), title: 'bpfts coverage of the test run' });
  rmSync(parts, { recursive: true, force: true });
}
