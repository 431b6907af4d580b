// `bpfts verify` over the whole corpus (every little-endian object of ebpf-samples, invalid/ aside,
// and bpf/build/bpfel): the total through verify(), then each entry program's walk alone
// (verifyProgram) beside the time the kernel's verifier takes for the same program, loaded alone
// with bpfts's loader in the same run (as root). The total is what a user gets, cold; the walks are
// timed warm, against the kernel's compiled verifier, and each walk is followed at once by the
// kernel's loads of the same program, so that a busy moment on a shared machine hits both alike.
// Each phase runs in a child process of its own, so that its peak RSS (VmHWM) is its own and a walk
// that never ends costs a timeout, not the run.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const corpus = process.env.BPFTS_CORPUS ?? resolve(repo, '..', 'shared', 'corpus');
const samples = join(corpus, 'ebpf-samples');
const own = join(repo, 'bpf', 'build', 'bpfel');

/** Runs of one program, per side: enough to steady a fast one, one for a program that takes seconds. */
const MAX_RUNS = 5;
const WALK_BUDGET_MS = 100;
/** Kernel loads also create the object's maps, some of them large and preallocated. */
const LOAD_BUDGET_MS = 200;
/** Programs walked once, untimed, before any is timed: every small one (a few seconds in all). */
const WARM_UP_PROCESSED = 2_000;
const PHASE_TIMEOUT_MS = 20 * 60_000;
const TARGET_TOTAL_S = 30;
const TARGET_RATIO = 10;
const BPF_LOG_STATS = 4;

function objectsUnder(dir, skip) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    if (path === skip) return [];
    return statSync(path).isDirectory() ? objectsUnder(path, skip) : name.endsWith('.o') ? [path] : [];
  });
}

const label = (path) => (path.startsWith(samples) ? relative(samples, path) : relative(repo, path));

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** The value at quantile q (nearest rank) of xs sorted ascending. */
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];

function vmHwmKiB() {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : process.resourceUsage().maxRSS;
}

// ---------------------------------------------------------------------------------------------
// Children.

function progress(text) {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${text}`);
}

/** What `bpfts verify FILE` does for every file, in one process; the programs it saw, for the next phase. */
async function wholePhase({ paths, dist }) {
  const { readObject } = await import(`${dist}/object/index.js`);
  const { verify } = await import(`${dist}/doctor/index.js`);
  const programs = [];
  const objects = [];
  const unreadable = [];
  let bigEndian = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const [i, path] of paths.entries()) {
    progress(`verify bench: verify() [${i + 1}/${paths.length}] ${label(path)}`);
    const start = performance.now();
    let obj;
    try {
      obj = readObject(readFileSync(path));
    } catch (e) {
      unreadable.push(`${label(path)}: ${String(e?.message ?? e).split('\n')[0]}`);
      continue;
    }
    if (!obj.littleEndian) {
      bigEndian++;
      continue;
    }
    let report;
    try {
      report = verify(obj);
    } catch (e) {
      unreadable.push(`${label(path)}: verify threw: ${String(e?.message ?? e).split('\n')[0]}`);
      continue;
    }
    objects.push({ label: label(path), ms: performance.now() - start, programs: report.programs.length });
    for (const p of report.programs) {
      programs.push({ path, label: label(path), name: p.name, section: p.section, progType: p.progType, processed: p.processed, ok: p.ok });
    }
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  progress('');
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, objects, programs, unreadable, bigEndian, hwmKiB: vmHwmKiB() };
}

/** The kernel's statistics line at BPF_LOG_STATS: "verification time 123 usec". */
const VERIFICATION_TIME = /verification time (\d+) usec/;
const PROCESSED = /processed (\d+) insns/;

/** Each program's walk, timed alone, and (as root) the kernel loading it alone, one after the other. */
async function programsPhase({ programs, scratch, dist }) {
  const { readObject, matchSection } = await import(`${dist}/object/index.js`);
  const { verifyProgram } = await import(`${dist}/verifier/index.js`);
  const { helperCheck } = await import(`${dist}/doctor/index.js`);
  const { bpf_prog_type } = await import(`${dist}/uapi/index.js`);
  const kernel = scratch !== undefined;
  const loader = kernel ? await import(`${dist}/loader/raw.js`) : undefined;
  if (kernel) mkdirSync(scratch, { recursive: true });

  // verify()'s own helper check: without it the walk would go on past a call verify stops at, and
  // time a different walk.
  const loadOnce = (obj, p, type, dir) => {
    mkdirSync(dir, { recursive: true });
    const t0 = performance.now();
    try {
      const loaded = loader.loadObject(obj, { programs: [p.name], ...(type ? { type } : {}), objectName: 'bench', bpffsRoot: dir, logLevel: BPF_LOG_STATS });
      const ms = performance.now() - t0;
      const log = loaded.programs[0]?.log ?? '';
      loaded.close();
      return { verdict: 'loads', ms, log };
    } catch (e) {
      const ms = performance.now() - t0;
      if (e instanceof loader.ProgramRejectedError) return { verdict: 'rejects', ms, log: e.log };
      return { verdict: 'not loadable', ms, reason: String(e?.message ?? e).split('\n')[0] };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  let cached;
  const prepare = (q) => {
    if (cached?.path !== q.path) cached = { path: q.path, obj: readObject(readFileSync(q.path)) };
    const obj = cached.obj;
    const p = obj.programs.find((x) => x.kind === 'entry' && x.name === q.name);
    const known = p.section === '.text' ? undefined : matchSection(p.section, { libbpf: 'upstream' });
    const options = {
      progType: (q.progType && bpf_prog_type[q.progType]) ?? bpf_prog_type.BPF_PROG_TYPE_SCHED_CLS,
      expectedAttachType: known?.expectedAttachType ?? 0,
      helperCheck: helperCheck(obj, q.progType),
    };
    return { obj, p, known, options };
  };
  // The kernel's verifier is compiled code; without this the first objects' small programs would
  // be timed on V8's interpreter tier, cold, and their ratio would say more about V8 than the walk.
  for (const q of programs.filter((x) => x.processed <= WARM_UP_PROCESSED)) {
    const { obj, p, options } = prepare(q);
    try {
      verifyProgram(obj, p, options);
    } catch {
      // reported by the timed walk below
    }
  }

  const results = [];
  let loads = 0;
  try {
    for (const [i, q] of programs.entries()) {
      progress(`verify bench: per program [${i + 1}/${programs.length}] ${q.label} ${q.name}`);
      const { obj, p, known, options } = prepare(q);
      const walks = [];
      let processed;
      try {
        do {
          const t0 = performance.now();
          processed = verifyProgram(obj, p, options).processed;
          walks.push(performance.now() - t0);
        } while (walks.length < MAX_RUNS && walks.reduce((a, b) => a + b, 0) < WALK_BUDGET_MS);
      } catch (e) {
        // verify() walked it, so this is a bench bug or a verifier one: listed, not timed.
        results.push({ label: q.label, name: q.name, walkError: String(e?.message ?? e).split('\n')[0] });
        continue;
      }
      const row = { label: q.label, name: q.name, progType: q.progType, walkMs: median(walks), walkRuns: walks.length, processed, expectedProcessed: q.processed };
      if (kernel) {
        // The type verify walked it as: the section's own where libbpf knows the section.
        const type = known ? undefined : (q.progType ?? 'BPF_PROG_TYPE_SCHED_CLS');
        const runs = [];
        let spent = 0;
        let first;
        do {
          const r = loadOnce(obj, p, type, join(scratch, String(loads++)));
          spent += r.ms;
          first ??= r;
          if (r.verdict === 'not loadable') break;
          const us = VERIFICATION_TIME.exec(r.log ?? '');
          if (!us) {
            first = { ...r, verdict: 'not loadable', reason: `no "verification time" in the kernel's log (${r.verdict})` };
            break;
          }
          runs.push({ us: Number(us[1]), ms: r.ms, processed: Number(PROCESSED.exec(r.log)?.[1]) });
        } while (runs.length < MAX_RUNS && spent < LOAD_BUDGET_MS);
        row.kernel = runs.length === 0 || first.verdict === 'not loadable'
          ? { verdict: 'not loadable', reason: first.reason }
          : {
            verdict: first.verdict, runs: runs.length, verifyUs: median(runs.map((r) => r.us)), loadMs: median(runs.map((r) => r.ms)),
            firstLoadMs: runs[0].ms, processed: runs[0].processed,
          };
      }
      results.push(row);
    }
  } finally {
    if (kernel) rmSync(scratch, { recursive: true, force: true });
    progress('');
  }
  return { results, hwmKiB: vmHwmKiB() };
}

// ---------------------------------------------------------------------------------------------
// The parent.

function child(phase, input) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--phase', phase], {
    input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 1 << 28, timeout: PHASE_TIMEOUT_MS, stdio: ['pipe', 'pipe', 'inherit'],
  });
  if (r.error || r.status !== 0) {
    const why = r.error?.code === 'ETIMEDOUT' ? `did not finish in ${PHASE_TIMEOUT_MS / 60_000} min` : r.error?.message ?? `exit ${r.status ?? r.signal}`;
    throw new Error(`verify bench: the ${phase} phase failed: ${why}`);
  }
  return JSON.parse(r.stdout);
}

const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
const msf = (ms) => (ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(1) : ms.toFixed(3));
const mib = (kib) => `${(kib / 1024).toFixed(0)} MiB`;
const x = (r) => `${r.toFixed(r >= 10 ? 0 : 1)}x`;

export async function run() {
  const paths = [...objectsUnder(samples, join(samples, 'invalid')), ...objectsUnder(own)];
  if (paths.length === 0) {
    console.log(`verify bench: no objects under ${samples} or ${own}, skipped`);
    return;
  }
  console.log(`verify bench: ${paths.length} objects from ${samples} (invalid/ aside) and bpf/build/bpfel; ` +
    `${cpus().length} CPUs, load average ${loadavg()[0].toFixed(1)} at start`);

  // Others may rebuild dist/ while this runs for minutes: both phases import one copy of it.
  const snapshot = mkdtempSync(join(tmpdir(), 'bpfts-bench-verify-'));
  try {
    cpSync(join(repo, 'dist'), join(snapshot, 'dist'), { recursive: true });
    writeFileSync(join(snapshot, 'package.json'), '{ "type": "module" }\n');
    symlinkSync(join(repo, 'node_modules'), join(snapshot, 'node_modules'));
    await measure(paths, pathToFileURL(join(snapshot, 'dist')).href);
  } finally {
    rmSync(snapshot, { recursive: true, force: true });
  }
}

async function measure(paths, dist) {
  const whole = child('whole', { paths, dist });
  const slowest = [...whole.objects].sort((a, b) => b.ms - a.ms).slice(0, 3).map((o) => `${o.label} ${s(o.ms)}`).join(', ');
  console.log(`verify: whole corpus through verify() (readObject + verify, what \`bpfts verify\` does): ${whole.objects.length} objects, ` +
    `${whole.programs.length} programs in ${s(whole.ms)} wall, ${s(whole.cpuMs)} CPU, peak RSS ${mib(whole.hwmKiB)} (target < ${TARGET_TOTAL_S} s)`);
  console.log(`verify: slowest objects: ${slowest}` +
    (whole.bigEndian ? `; ${whole.bigEndian} big-endian objects skipped` : '') +
    (whole.unreadable.length ? `; not verified: ${whole.unreadable.join('; ')}` : ''));

  // A program whose structural checks failed is never walked by verify (nor past check_cfg by the kernel).
  const walked = whole.programs.filter((p) => p.processed !== undefined);
  const root = process.getuid?.() === 0 && existsSync('/sys/fs/bpf');
  const scratch = root ? `/sys/fs/bpf/bpfts-bench-verify-${process.pid}` : undefined;
  let phase;
  try {
    phase = child('programs', { programs: walked, scratch, dist });
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
  const failed = phase.results.filter((r) => r.walkError !== undefined);
  for (const r of failed) console.log(`verify: walking ${r.label} ${r.name} alone threw: ${r.walkError}`);
  const rows = phase.results.filter((r) => r.walkError === undefined);
  if (rows.length === 0) return;
  const byWalk = [...rows].sort((a, b) => a.walkMs - b.walkMs);
  const slowestWalk = byWalk[byWalk.length - 1];
  console.log(`verify: per-program walk (verifyProgram, median of up to ${MAX_RUNS} runs) over ${rows.length} programs ` +
    `(${whole.programs.length - walked.length} not walked: structural errors found first): ` +
    `median ${msf(quantile(byWalk, 0.5).walkMs)} ms, p90 ${msf(quantile(byWalk, 0.9).walkMs)} ms, ` +
    `max ${msf(slowestWalk.walkMs)} ms (${slowestWalk.label} ${slowestWalk.name})`);
  // The same walk as inside verify() processes the same count: a check that the two time one thing.
  const drift = rows.filter((r) => r.processed !== r.expectedProcessed);
  console.log(`verify: per-program phase peak RSS ${mib(phase.hwmKiB)}${root ? ' (with the loader)' : ''}; ` +
    `warm-up: one untimed walk of each program up to ${WARM_UP_PROCESSED} insns; ` + (drift.length === 0
    ? 'every walk alone processed as many insns as inside verify()'
    : `${drift.length} walks alone processed a different count than inside verify(), e.g. ` +
      drift.slice(0, 3).map((r) => `${r.label} ${r.name} ${r.processed} vs ${r.expectedProcessed}`).join(', ')));
  if (!root) {
    console.log('verify: kernel: not root (or no /sys/fs/bpf), not measured');
    return;
  }

  const comparable = rows.filter((r) => r.kernel.verdict !== 'not loadable');
  const notComparable = rows.filter((r) => r.kernel.verdict === 'not loadable');
  if (comparable.length === 0) {
    console.log(`kernel: none of the ${rows.length} programs loaded here (first reason: ${notComparable[0]?.kernel.reason}), no ratio`);
    return;
  }
  const byKernel = [...comparable].sort((a, b) => a.kernel.verifyUs - b.kernel.verifyUs);
  const slowestKernel = byKernel[byKernel.length - 1];
  const kernelUs = (r) => Math.max(1, r.kernel.verifyUs);
  const firstLoads = comparable.reduce((a, r) => a + r.kernel.firstLoadMs, 0);
  console.log(`kernel: ${comparable.length} programs loaded alone (BPF_PROG_LOAD, log level ${BPF_LOG_STATS}; ` +
    `${comparable.filter((r) => r.kernel.verdict === 'rejects').length} rejected), "verification time" median of up to ${MAX_RUNS} loads: ` +
    `median ${msf(quantile(byKernel, 0.5).kernel.verifyUs / 1000)} ms, p90 ${msf(quantile(byKernel, 0.9).kernel.verifyUs / 1000)} ms, ` +
    `max ${msf(slowestKernel.kernel.verifyUs / 1000)} ms (${slowestKernel.label} ${slowestKernel.name})`);
  console.log(`kernel: the ${comparable.length} first loads (maps, BTF and program) took ${s(firstLoads)} in all, ` +
    `beside verify()'s ${s(whole.ms)} for the whole corpus`);
  if (notComparable.length) {
    const reasons = new Map();
    for (const r of notComparable) {
      // The reason without names and map shapes, and without the errno's explanation after it.
      const key = (r.kernel.reason ?? '').replace(/'[^']*'/g, "'…'").replace(/\(.*?\)/g, '(…)').split(': ').slice(0, 3).join(': ').slice(0, 110);
      reasons.set(key, [...(reasons.get(key) ?? []), r]);
    }
    console.log(`kernel: ${notComparable.length} programs not comparable (the kernel cannot load them here):`);
    for (const [why, rs] of [...reasons].sort((a, b) => b[1].length - a[1].length)) {
      console.log(`  ${String(rs.length).padStart(4)}  ${why}\n          ${rs.slice(0, 3).map((r) => `${r.label} ${r.name}`).join(', ')}${rs.length > 3 ? ', ...' : ''}`);
    }
  }

  // The kernel prints whole microseconds: under one counts as one, so that a ratio stays finite.
  const ratios = comparable.map((r) => ({ r, ratio: r.walkMs / (kernelUs(r) / 1000) })).sort((a, b) => a.ratio - b.ratio);
  const over = ratios.filter((q) => q.ratio > TARGET_RATIO);
  const walkSum = comparable.reduce((a, r) => a + r.walkMs, 0);
  const kernelSum = comparable.reduce((a, r) => a + kernelUs(r) / 1000, 0);
  console.log(`ratio bpfts walk / kernel verification time, per program over ${ratios.length}: ` +
    `median ${x(quantile(ratios, 0.5).ratio)}, p90 ${x(quantile(ratios, 0.9).ratio)}, max ${x(ratios[ratios.length - 1].ratio)}; ` +
    `over ${TARGET_RATIO}x: ${over.length} (target 0)`);
  console.log('worst 10 (ratio, bpfts walk, kernel verification, processed insns bpfts/kernel):');
  for (const { r, ratio } of ratios.slice(-10).reverse()) {
    console.log(`  ${x(ratio).padStart(6)}  ${msf(r.walkMs).padStart(7)} ms  ${msf(r.kernel.verifyUs / 1000).padStart(7)} ms  ` +
      `${String(r.processed).padStart(7)}/${String(r.kernel.processed).padEnd(7)}  ${r.label} ${r.name}`);
  }
  console.log(`ratio total: bpfts walks ${s(walkSum)} / kernel verification ${s(kernelSum)} = ${x(walkSum / kernelSum)} ` +
    `over the ${comparable.length} comparable programs`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--phase');
  if (i >= 0) {
    const input = JSON.parse(readFileSync(0, 'utf8'));
    const out = process.argv[i + 1] === 'whole' ? await wholePhase(input) : await programsPhase(input);
    process.stdout.write(JSON.stringify(out));
  } else {
    await run();
  }
}
