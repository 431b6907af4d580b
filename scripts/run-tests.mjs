// Runs vitest, then prints one closing line "N passed, N failed, N skipped" that CI reads,
// and exits with vitest's status. Extra arguments go to vitest (e.g. a test path).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'bpfts-vitest-'));
const results = join(dir, 'results.json');
const run = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`, ...process.argv.slice(2)], { stdio: 'inherit' });
let status = run.status ?? 1;
try {
  const r = JSON.parse(readFileSync(results, 'utf8'));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`\nvitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
  if (r.numTotalTests === 0) status = 1;
} catch {
  console.log('\nvitest: 0 passed, 1 failed (no results were written)');
  status = 1;
}
rmSync(dir, { recursive: true, force: true });
process.exit(status);
