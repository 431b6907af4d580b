// Runs vitest, then prints one closing line "N passed, N failed, N skipped" that CI reads,
// and exits non-zero when anything failed. A test file that fails to load counts as one failure:
// vitest reports it without tests, so its tests would otherwise vanish from the counts. So does a
// test file that skips tests without saying why (scripts/loud-skips.mjs).
// Extra arguments go to vitest (e.g. a test path).
// Without arguments the end-to-end network tests run last, on their own: they time real traffic
// through veth pairs, which CPU-heavy test files running alongside could delay.
// Tests that touch the system must leave it as they found it: BPF pins and network namespaces that
// appear during the run and are still there afterwards count as one more failure.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// Unprivileged users cannot list /sys/fs/bpf; their tests cannot pin anything there either.
function list(path) {
  try {
    return new Set(readdirSync(path));
  } catch {
    return new Set();
  }
}

const places = ['/sys/fs/bpf', '/var/run/netns'];
const before = new Map(places.map((p) => [p, list(p)]));

const args = process.argv.slice(2);
const phases = args.length > 0 ? [args] : [['--exclude', 'test/e2e/**'], ['test/e2e']];

const loudSkips = join(dirname(fileURLToPath(import.meta.url)), 'loud-skips.mjs');
const dir = mkdtempSync(join(tmpdir(), 'bpfts-vitest-'));
const totals = { passed: 0, failed: 0, skipped: 0, total: 0 };
let status = 0;
phases.forEach((phase, i) => {
  const results = join(dir, `results-${i}.json`);
  const silentSkips = join(dir, `silent-skips-${i}.json`);
  const run = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`, `--reporter=${loudSkips}`, ...phase],
    { stdio: 'inherit', env: { ...process.env, BPFTS_SILENT_SKIPS: silentSkips } });
  if (run.status !== 0) status = 1;
  try {
    const r = JSON.parse(readFileSync(results, 'utf8'));
    const unloaded = r.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0);
    for (const f of unloaded) console.log(`\nFAIL: ${relative(process.cwd(), f.name)} did not load: ${f.message.split('\n')[0]}`);
    const silent = JSON.parse(readFileSync(silentSkips, 'utf8'));
    for (const f of silent) console.log(`\nFAIL: ${relative(process.cwd(), f)} skipped tests without a *** SKIPPING line saying why`);
    totals.passed += r.numPassedTests;
    totals.failed += r.numFailedTests + unloaded.length + silent.length;
    if (unloaded.length + silent.length > 0) status = 1;
    totals.skipped += r.numPendingTests + r.numTodoTests;
    totals.total += r.numTotalTests;
  } catch {
    console.log(`\nvitest wrote no results for ${phase.join(' ')}`);
    totals.failed += 1;
    status = 1;
  }
});
rmSync(dir, { recursive: true, force: true });

const leaked = places.flatMap((p) => [...list(p)].filter((n) => !before.get(p).has(n)).map((n) => `${p}/${n}`));
if (leaked.length > 0) {
  console.log(`\nFAIL: the tests left system state behind:\n  ${leaked.join('\n  ')}`);
  totals.failed += 1;
  status = 1;
}
if (totals.total === 0) status = 1;
console.log(`\nvitest: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(status);
