// The lcov tracefile format (geninfo(1) "TRACEFILE FORMAT"), as genhtml, Codecov and editor gutters
// read it. Each conditional jump is one BRDA block of two branches: 0 the jump to its target, 1 the
// fall-through; "-" for both when the jump never ran.
import type { CoverageReport } from './coverage-report.js';

export interface LcovOptions {
  /** TN: the test name (letters, digits and underscores); default "bpfts". */
  testName?: string;
  /** SF: the path written for a file of the report, e.g. resolved against a source root; default as is. */
  path?: (file: string) => string;
}

export function toLcov(report: CoverageReport, options: LcovOptions = {}): string {
  const out: string[] = [];
  const testName = (options.testName ?? 'bpfts').replace(/[^A-Za-z0-9_]/g, '_');
  for (const f of report.files) {
    out.push(`TN:${testName}`, `SF:${options.path?.(f.file) ?? f.file}`);
    for (const fn of f.functions) out.push(`FN:${fn.line},${fn.name}`);
    for (const fn of f.functions) out.push(`FNDA:${fn.hits},${fn.name}`);
    out.push(`FNF:${f.functions.length}`, `FNH:${f.functions.filter((fn) => fn.hits > 0).length}`);
    let brf = 0;
    let brh = 0;
    for (const l of f.lines) {
      l.branches.forEach((b, block) => {
        const ran = b.taken + b.notTaken > 0;
        out.push(`BRDA:${l.line},${block},0,${ran ? b.taken : '-'}`, `BRDA:${l.line},${block},1,${ran ? b.notTaken : '-'}`);
        brf += 2;
        brh += (b.taken > 0 ? 1 : 0) + (b.notTaken > 0 ? 1 : 0);
      });
    }
    out.push(`BRF:${brf}`, `BRH:${brh}`);
    for (const l of f.lines) out.push(`DA:${l.line},${l.hits}`);
    out.push(`LF:${f.lines.length}`, `LH:${f.lines.filter((l) => l.hits > 0).length}`, 'end_of_record');
  }
  return out.length ? out.join('\n') + '\n' : '';
}
