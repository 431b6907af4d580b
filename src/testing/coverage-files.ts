// Coverage reports on disk: DIR/lcov.info and DIR/index.html, with the C sources found through the
// paths line_info records (relative to where clang ran, so to `sourceRoot` when the object was built
// elsewhere).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
// The writers alone, so that bpfts/testing does not load the emulator.
import { toCoverageHtml } from '../vm/coverage-html.js';
import { toLcov } from '../vm/coverage-lcov.js';
import type { CoverageReport } from '../vm/coverage-report.js';

export interface WriteCoverageOptions {
  /** Directory the relative paths in line_info are taken from; default the working directory. */
  sourceRoot?: string;
  /** lcov TN: line. */
  testName?: string;
  /** HTML page title. */
  title?: string;
}

/** Under a coverage directory: the reports of single test files, which the global teardown merges. */
export const COVERAGE_PARTS = '.parts';

/** Where the file of a report is on disk: absolute paths as they are, relative ones under `sourceRoot`. */
export function resolveSourcePath(file: string, sourceRoot?: string): string {
  return isAbsolute(file) ? file : resolve(sourceRoot ?? process.cwd(), file);
}

/** Write DIR/lcov.info and DIR/index.html (DIR is created); returns their paths. */
export function writeCoverage(dir: string, report: CoverageReport, options: WriteCoverageOptions = {}): { lcov: string; html: string } {
  mkdirSync(dir, { recursive: true });
  const path = (file: string) => resolveSourcePath(file, options.sourceRoot);
  const lcov = join(dir, 'lcov.info');
  const html = join(dir, 'index.html');
  // A missing source keeps its line_info path, so the report still names it and counts its lines.
  writeFileSync(lcov, toLcov(report, { path: (f) => (existsSync(path(f)) ? path(f) : f), ...(options.testName ? { testName: options.testName } : {}) }));
  writeFileSync(html, toCoverageHtml(report, {
    source: (f) => (existsSync(path(f)) ? readFileSync(path(f), 'utf8') : undefined),
    ...(options.title ? { title: options.title } : {}),
  }));
  return { lcov, html };
}
