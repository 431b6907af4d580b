// Runs vitest, then prints one closing line "N passed, N failed, N skipped" that CI reads,
// and exits non-zero when anything failed. A test file that fails to load counts as one failure:
// vitest reports it without tests, so its tests would otherwise vanish from the counts. So does a
// test file that skips tests without saying why (scripts/loud-skips.mjs).
// Extra arguments go to vitest (e.g. a test path).
// Without arguments the end-to-end network tests run last, on their own: they time real traffic
// through veth pairs, which CPU-heavy test files running alongside could delay.
// Tests that touch the system must leave it as they found it: BPF pins and network namespaces that
// appear during the run and are still there afterwards count as one more failure, and so (as root,
// with bpftool) do kernel programs, maps and links that appear and stay. Objects a still-running
// process holds open are not counted: the suite's own processes have ended by then, so those belong
// to something else on the machine.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
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

const KINDS = ['prog', 'map', 'link'];

/** The kernel's programs, maps and links by id (bpftool -j KIND list), or undefined when not root or without bpftool. */
function kernelObjects() {
  if (process.getuid?.() !== 0) return undefined;
  const out = {};
  for (const kind of KINDS) {
    const r = spawnSync('bpftool', ['-j', kind, 'list'], { encoding: 'utf8' });
    if (r.status !== 0) return undefined;
    out[kind] = new Map(JSON.parse(r.stdout || '[]').map((o) => [o.id, o]));
  }
  return out;
}

/** Ids some running process holds a descriptor of (from /proc/PID/fdinfo), with the programs and maps those hold in turn. */
function heldIds(objects) {
  const held = { prog: new Set(), map: new Set(), link: new Set() };
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let fds = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (!readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('anon_inode:bpf')) continue;
        for (const m of readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8').matchAll(/^(prog|map|link)_id:\s+(\d+)$/gm)) held[m[1]].add(Number(m[2]));
      } catch {
        continue;
      }
    }
  }
  for (const [id, l] of objects.link) if (held.link.has(id)) held.prog.add(l.prog_id);
  for (const [id, p] of objects.prog) if (held.prog.has(id)) for (const m of p.map_ids ?? []) held.map.add(m);
  return held;
}

const describeObject = {
  prog: (p) => `program id ${p.id}: ${p.type} ${p.name ?? ''}`,
  map: (m) => `map id ${m.id}: ${m.type} ${m.name ?? ''}`,
  link: (l) => `link id ${l.id}: ${l.type} of program id ${l.prog_id}`,
};

/**
 * Objects that appeared during the run and are still there. Programs taken off tc hooks are freed
 * after an RCU grace period and their maps after a workqueue runs, which can take seconds on a
 * busy machine, so up to 20 s are allowed.
 */
function leakedObjects(objectsBefore) {
  let left = [];
  for (let attempt = 0; attempt < 40; attempt++) {
    const now = kernelObjects();
    if (!now) return [];
    const held = heldIds(now);
    left = KINDS.flatMap((kind) => [...now[kind].values()]
      .filter((o) => !objectsBefore[kind].has(o.id) && !held[kind].has(o.id))
      .map((o) => describeObject[kind](o).trim()));
    if (left.length === 0) break;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
  }
  return left;
}

const objectsBefore = kernelObjects();
if (process.getuid?.() === 0 && !objectsBefore) console.log('note: bpftool is missing, so the kernel objects left behind are not checked');

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
if (objectsBefore) leaked.push(...leakedObjects(objectsBefore));
if (leaked.length > 0) {
  console.log(`\nFAIL: the tests left system state behind:\n  ${leaked.join('\n  ')}`);
  totals.failed += 1;
  status = 1;
}
if (totals.total === 0) status = 1;
console.log(`\nvitest: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(status);
