// Raw BTF dump of the running kernel's vmlinux BTF: bpfts in-process (parse + format) and as a whole
// process (`bpfts btf dump FILE > /dev/null`, Node start-up included), against
// `bpftool btf dump file FILE > /dev/null`, measured in the same run.
import { spawnSync } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const VMLINUX = '/sys/kernel/btf/vmlinux';
const REPS = 10;
/** Whole-process runs alternate between bpfts and bpftool, so a busy moment hits both alike. */
const PROCESS_REPS = 11;
const GNU_TIME = '/usr/bin/time';

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeShell(command) {
  const t0 = performance.now();
  const r = spawnSync('sh', ['-c', command]);
  return { ms: performance.now() - t0, ok: r.status === 0, stderr: String(r.stderr) };
}

/** Peak resident set of a command in MiB, from GNU time; undefined without it. */
function peakRssMiB(argv) {
  if (!existsSync(GNU_TIME)) return undefined;
  const r = spawnSync(GNU_TIME, ['-f', '%M', ...argv], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const kib = Number(r.stderr.trim().split('\n').pop());
  return r.status === 0 && Number.isFinite(kib) ? kib / 1024 : undefined;
}

const fmt = (ms) => ms.toFixed(1);

export async function run() {
  if (!existsSync(VMLINUX)) {
    console.log('btf bench: no /sys/kernel/btf/vmlinux, skipped');
    return;
  }
  // Whole processes first, while this process is small and the machine has not just churned
  // through the in-process runs' memory.
  const cli = new URL('../dist/cli/main.js', import.meta.url).pathname;
  const cliCommand = `"${process.execPath}" "${cli}" btf dump ${VMLINUX} > /dev/null`;
  const bpftoolCommand = `bpftool btf dump file ${VMLINUX} > /dev/null`;
  const wholeProcess = [];
  const theirs = [];
  let haveBpftool = true;
  for (let i = 0; i < PROCESS_REPS; i++) {
    const mine = timeShell(cliCommand);
    if (!mine.ok) throw new Error(`bpfts btf dump failed: ${mine.stderr}`);
    wholeProcess.push(mine.ms);
    if (!haveBpftool) continue;
    const other = timeShell(bpftoolCommand);
    if (!other.ok) {
      console.log('btf bench: bpftool failed, comparison skipped');
      haveBpftool = false;
      continue;
    }
    theirs.push(other.ms);
  }
  const { btfFromFile, dumpRawBytes } = await import('../dist/btf/index.js');
  const devnull = openSync('/dev/null', 'w');
  const ours = [];
  let peakRss = 0;
  try {
    for (let i = 0; i < REPS; i++) {
      const t0 = performance.now();
      const out = dumpRawBytes(btfFromFile(readFileSync(VMLINUX)));
      writeSync(devnull, out);
      ours.push(performance.now() - t0);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
  } finally {
    closeSync(devnull);
  }
  // The first in-process run is the cold one a command-line user gets; the rest are warm.
  const warm = median(ours.slice(1));
  const w = median(wholeProcess);
  console.log(`btf raw dump of vmlinux: bpfts in-process ${fmt(warm)} ms warm (median of ${REPS - 1}), first run ${fmt(ours[0])} ms`);
  console.log(`btf raw dump of vmlinux: bpfts CLI ${fmt(w)} ms (median of ${PROCESS_REPS}, min ${fmt(Math.min(...wholeProcess))}, whole process incl. Node start-up)`);
  if (theirs.length) {
    const t = median(theirs);
    console.log(`btf raw dump of vmlinux: bpftool ${fmt(t)} ms (median of ${theirs.length}, min ${fmt(Math.min(...theirs))}, whole process)`);
    console.log(`btf raw dump ratio bpfts/bpftool: ${(warm / t).toFixed(2)} in-process (warm), ${(w / t).toFixed(2)} whole process (target <= 1.0)`);
  }
  const cliRss = peakRssMiB([process.execPath, cli, 'btf', 'dump', VMLINUX]);
  const bpftoolRss = haveBpftool ? peakRssMiB(['bpftool', 'btf', 'dump', 'file', VMLINUX]) : undefined;
  console.log(`btf bench peak RSS: in-process ${(peakRss / 2 ** 20).toFixed(0)} MiB` +
    (cliRss === undefined ? '' : `, bpfts CLI ${cliRss.toFixed(0)} MiB`) +
    (bpftoolRss === undefined ? '' : `, bpftool ${bpftoolRss.toFixed(0)} MiB`));
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
