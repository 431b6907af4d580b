// Raw BTF dump of the running kernel's vmlinux BTF: bpfts (in-process parse + format) against
// `bpftool btf dump file /sys/kernel/btf/vmlinux > /dev/null` (whole process), same run.
import { spawnSync } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const VMLINUX = '/sys/kernel/btf/vmlinux';
const REPS = 5;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function run() {
  if (!existsSync(VMLINUX)) {
    console.log('btf bench: no /sys/kernel/btf/vmlinux, skipped');
    return;
  }
  const { btfFromFile, dumpRawBytes } = await import('../dist/btf/index.js');
  const devnull = openSync('/dev/null', 'w');
  const ours = [];
  let peakRss = 0;
  let peakHeap = 0;
  try {
    for (let i = 0; i < REPS; i++) {
      const t0 = performance.now();
      const out = dumpRawBytes(btfFromFile(new Uint8Array(readFileSync(VMLINUX))));
      writeSync(devnull, out);
      ours.push(performance.now() - t0);
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    }
  } finally {
    closeSync(devnull);
  }
  const cli = new URL('../dist/cli/main.js', import.meta.url).pathname;
  const wholeProcess = [];
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now();
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${cli}" btf dump ${VMLINUX} > /dev/null`]);
    if (r.status !== 0) throw new Error(`bpfts btf dump failed: ${r.stderr}`);
    wholeProcess.push(performance.now() - t0);
  }
  const theirs = [];
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now();
    const r = spawnSync('sh', ['-c', `bpftool btf dump file ${VMLINUX} > /dev/null`]);
    if (r.status !== 0) {
      console.log('btf bench: bpftool failed, comparison skipped');
      break;
    }
    theirs.push(performance.now() - t0);
  }
  const o = median(ours);
  console.log(`btf raw dump of vmlinux: bpfts ${o.toFixed(1)} ms (median of ${REPS}; runs ${ours.map((x) => x.toFixed(0)).join('/')})`);
  if (theirs.length) {
    const t = median(theirs);
    console.log(`btf raw dump of vmlinux: bpftool ${t.toFixed(1)} ms (median of ${theirs.length}, whole process)`);
    const w = median(wholeProcess);
    console.log(`btf raw dump of vmlinux: bpfts CLI ${w.toFixed(1)} ms (median of ${REPS}, whole process incl. Node start-up)`);
    console.log(`btf raw dump ratio bpfts/bpftool: ${(o / t).toFixed(2)} in-process, ${(w / t).toFixed(2)} whole process (target <= 1.0)`);
  }
  console.log(`btf bench peak: rss ${(peakRss / 2 ** 20).toFixed(0)} MiB, heap used ${(peakHeap / 2 ** 20).toFixed(0)} MiB`);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
