// Per-packet cost of three bpf/ programs on a 64-byte frame, beside the kernel's BPF_PROG_TEST_RUN
// average (repeat = 1e6) measured in the same run when root: the TCP/80 filter (no maps), the monitor
// (an array and a hash map on the path) and DNAT (a hash lookup, a hash update and three checksum
// helpers on the path). The emulator runs each frame through emu.run() (a RunOutput per packet) and
// through emu.runMany() over 1024 distinct copies of the frame (the batch path, which copies every
// frame in and allocates nothing per packet), compiled and on the interpreter alone. Times are the
// process's CPU time over the loop, as the kernel's test-run timer also leaves out the time the CPU
// spends elsewhere; on a shared machine wall time would charge the emulator for other processes.
// A child process then pushes 1M packets through runMany for the peak RSS and the heap allocated per
// packet.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Emulator } from '../dist/vm/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const build = resolve(here, '..', 'bpf', 'build', 'bpfel');
const PACKETS = 1_000_000;
const BATCH = 1024;
/** Batches per allocation window. */
const WINDOW = 50;
const TC_ACT_OK = 0;
const TC_ACT_SHOT = 2;

/** Ethernet + IPv4 + TCP (or UDP) from 10.0.0.1:40000 to dst:dport, zero-padded to 64 bytes. */
function frame(dst, dport, proto = 6) {
  const f = new Uint8Array(64);
  const v = new DataView(f.buffer);
  f.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1], 0);
  v.setUint16(12, 0x0800);
  f[14] = 0x45;
  v.setUint16(16, 40);
  f[22] = 64;
  f[23] = proto;
  f.set([10, 0, 0, 1, ...dst], 26);
  v.setUint16(34, 40000);
  v.setUint16(36, dport);
  if (proto === 6) f[46] = 0x50;
  else v.setUint16(38, 20);
  return f;
}

const endpoint = (addr, port) => Uint8Array.from([...addr, port >> 8, port & 0xff, 0, 0]);

/**
 * The kernel's repeats run on the skb the previous repeat left, so DNAT's rule maps 10.1.1.1:8080 to
 * itself: every repeat, like every emulated run, then takes the whole rewrite path.
 */
const CASES = [
  { name: 'TCP/80 filter', file: 'tc_drop_tcp80.o', frame: frame([10, 0, 0, 2], 80), retval: TC_ACT_SHOT },
  { name: 'monitor', file: 'monitor.o', program: 'monitor_ingress', frame: frame([10, 0, 0, 2], 53, 17), retval: TC_ACT_OK },
  {
    name: 'DNAT', file: 'dnat.o', program: 'dnat_ingress', frame: frame([10, 1, 1, 1], 8080), retval: TC_ACT_OK,
    seed: { dnat_rules: [[Uint8Array.from([10, 1, 1, 1, 0x1f, 0x90, 6, 0]), endpoint([10, 1, 1, 1], 8080)]] },
  },
];

function emulator(c, options = {}) {
  const emu = Emulator.fromObject(readFileSync(resolve(build, c.file)), { ...(c.program ? { program: c.program } : {}), ...options });
  for (const [name, entries] of Object.entries(c.seed ?? {})) for (const [k, v] of entries) emu.maps.get(name).update(k, v);
  return emu;
}

const cpuNs = (since) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) * 1000;
};

/** ns per packet through run(), best of three. */
function viaRun(c, count, options) {
  const emu = emulator(c, options);
  for (let i = 0; i < 20_000; i++) emu.run(c.frame);
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    let ok = 0;
    const t0 = process.cpuUsage();
    for (let i = 0; i < count; i++) if (emu.run(c.frame).retval === c.retval) ok++;
    best = Math.min(best, cpuNs(t0) / count);
    if (ok !== count) throw new Error(`filter bench: ${c.name}: ${count - ok} of ${count} runs did not return ${c.retval}`);
  }
  return best;
}

/** ns per packet through runMany() over BATCH distinct copies of the frame, best of three. */
function viaRunMany(c, count, options) {
  const emu = emulator(c, options);
  const frames = Array.from({ length: BATCH }, () => c.frame.slice());
  for (let i = 0; i < 20; i++) emu.runMany(frames);
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const batches = Math.ceil(count / BATCH);
    let ok = 0;
    const t0 = process.cpuUsage();
    for (let i = 0; i < batches; i++) ok += emu.runMany(frames).retvals.get(c.retval) ?? 0;
    best = Math.min(best, cpuNs(t0) / (batches * BATCH));
    if (ok !== batches * BATCH) throw new Error(`filter bench: ${c.name}: ${batches * BATCH - ok} runs through runMany did not return ${c.retval}`);
  }
  return best;
}

async function kernel(c) {
  if (process.getuid?.() !== 0) return undefined;
  const { loadObject, mapUpdateElem, progTestRun } = await import('../dist/loader/raw.js');
  const loaded = loadObject(readFileSync(resolve(build, c.file)), { ...(c.program ? { programs: [c.program] } : {}), objectName: 'bench' });
  try {
    for (const [name, entries] of Object.entries(c.seed ?? {})) {
      const m = loaded.maps.find((x) => x.spec.objectName === name);
      for (const [k, v] of entries) mapUpdateElem(m.fd, k, v);
    }
    const r = progTestRun(loaded.programs[0].fd, { dataIn: c.frame, repeat: 1_000_000 });
    if (r.retval !== c.retval) throw new Error(`filter bench: ${c.name}: kernel retval ${r.retval}`);
    return r.duration;
  } finally {
    loaded.close();
  }
}

/** In a child: 1M packets of each case through runMany; peak RSS, and heap bytes allocated per packet. */
async function child() {
  const out = {};
  const gcs = [];
  const obs = new PerformanceObserver((list) => gcs.push(...list.getEntries().map((e) => e.startTime)));
  obs.observe({ entryTypes: ['gc'] });
  const collections = async (from, to) => {
    // Entries reach the observer only once the event loop turns.
    await new Promise((r) => setTimeout(r, 50));
    return gcs.filter((t) => t >= from && t <= to).length;
  };
  for (const c of CASES) {
    const emu = emulator(c);
    const frames = Array.from({ length: BATCH }, () => c.frame.slice());
    for (let i = 0; i < 200; i++) emu.runMany(frames);
    // The heap's growth over a window without a collection is what the runs allocated (the least of
    // three windows, so that code V8 optimizes meanwhile is not counted).
    let grown = Infinity;
    for (let w = 0; w < 3; w++) {
      globalThis.gc();
      const t0 = performance.now();
      const before = process.memoryUsage().heapUsed;
      for (let i = 0; i < WINDOW; i++) emu.runMany(frames);
      const after = process.memoryUsage().heapUsed;
      if ((await collections(t0, performance.now())) === 0) grown = Math.min(grown, after - before);
    }
    const t0 = performance.now();
    for (let i = 0; i < PACKETS / BATCH; i++) emu.runMany(frames);
    out[c.name] = { bytesPerPacket: grown / (WINDOW * BATCH), gcs: await collections(t0, performance.now()) };
  }
  obs.disconnect();
  out.maxRssKb = process.resourceUsage().maxRSS;
  return out;
}

export async function run() {
  const figures = {};
  const mem = JSON.parse(execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child'], { encoding: 'utf8' }));
  for (const c of CASES) {
    const batch = viaRunMany(c, PACKETS);
    const single = viaRun(c, PACKETS / 2);
    const interpreted = viaRunMany(c, PACKETS / 8, { compile: false });
    const inKernel = await kernel(c);
    const vs = (ns) => (inKernel === undefined ? '' : ` (${(ns / inKernel).toFixed(2)}x)`);
    console.log(`packet: ${c.name} (${c.file}${c.program ? ` ${c.program}` : ''}), 64-byte frame, ns/packet: ` +
      (inKernel === undefined ? 'kernel not measured (not root)' : `kernel BPF_PROG_TEST_RUN ${inKernel}`) +
      `; emulator runMany ${batch.toFixed(0)}${vs(batch)}, run() ${single.toFixed(0)}${vs(single)}, interpreter alone (runMany) ${interpreted.toFixed(0)}${vs(interpreted)}`);
    const m = mem[c.name];
    const growth = m.bytesPerPacket === null ? 'not measurable (a collection in every window)' : `${m.bytesPerPacket.toFixed(2)} bytes/packet (${WINDOW * BATCH} packets)`;
    console.log(`packet: ${c.name}: runMany heap growth ${growth}, ` +
      `${m.gcs} garbage collections in ${PACKETS} packets`);
    figures[c.name] = { kernelNs: inKernel, runManyNs: batch, runNs: single, interpretedNs: interpreted, ...m };
  }
  console.log(`packet: peak RSS of a process pushing ${PACKETS} packets of each program through runMany: ${(mem.maxRssKb / 1024).toFixed(1)} MiB`);
  return { ...figures, peakRssMiB: mem.maxRssKb / 1024 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv[2] === '--child') process.stdout.write(JSON.stringify(await child()));
  else await run();
}
