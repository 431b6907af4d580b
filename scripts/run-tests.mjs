// Runs vitest, then prints one closing line "N passed, N failed, N skipped" that CI reads,
// and exits with vitest's status. Extra arguments go to vitest (e.g. a test path).
// Tests that touch the system must leave it as they found it: BPF pins and network namespaces that
// appear during the run and are still there afterwards count as one more failure.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const places = ['/sys/fs/bpf', '/var/run/netns'];
// Unprivileged users cannot list /sys/fs/bpf; their tests cannot pin anything there either.
function list(path) {
  try {
    return new Set(readdirSync(path));
  } catch {
    return new Set();
  }
}
const before = new Map(places.map((p) => [p, list(p)]));

const dir = mkdtempSync(join(tmpdir(), 'bpfts-vitest-'));
const results = join(dir, 'results.json');
const run = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`, ...process.argv.slice(2)], { stdio: 'inherit' });
let status = run.status ?? 1;
try {
  const r = JSON.parse(readFileSync(results, 'utf8'));
  const skipped = r.numPendingTests + r.numTodoTests;
  const leaked = places.flatMap((p) => [...list(p)].filter((n) => !before.get(p).has(n)).map((n) => `${p}/${n}`));
  if (leaked.length > 0) {
    console.log(`\nFAIL: the tests left system state behind:\n  ${leaked.join('\n  ')}`);
    status = 1;
  }
  console.log(`\nvitest: ${r.numPassedTests} passed, ${r.numFailedTests + (leaked.length > 0 ? 1 : 0)} failed, ${skipped} skipped`);
  if (r.numTotalTests === 0) status = 1;
} catch {
  console.log('\nvitest: 0 passed, 1 failed (no results were written)');
  status = 1;
}
rmSync(dir, { recursive: true, force: true });
process.exit(status);
