// The TCP/80 filter (bpf/build/bpfel/tc_drop_tcp80.o) on a 64-byte frame: ns per packet in the
// emulator beside the kernel's BPF_PROG_TEST_RUN average (repeat = 1e6) measured in the same run when
// root, and the peak RSS of a process pushing 1M packets through the emulator.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Emulator } from '../dist/vm/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const OBJECT = resolve(here, '..', 'bpf', 'build', 'bpfel', 'tc_drop_tcp80.o');
const PACKETS = 1_000_000;
const TC_ACT_SHOT = 2;

/** Ethernet + IPv4 + TCP to port 80, zero-padded to 64 bytes (the Ethernet minimum plus FCS room). */
function frame() {
  const f = new Uint8Array(64);
  const v = new DataView(f.buffer);
  f.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1], 0);
  v.setUint16(12, 0x0800);
  f[14] = 0x45;
  v.setUint16(16, 40);
  f[22] = 64;
  f[23] = 6;
  f.set([10, 0, 0, 1, 10, 0, 0, 2], 26);
  v.setUint16(34, 40000);
  v.setUint16(36, 80);
  f[46] = 0x50;
  return f;
}

function emulate(count, options = {}) {
  const emu = Emulator.fromObject(readFileSync(OBJECT), options);
  const f = frame();
  for (let i = 0; i < 100_000; i++) emu.run(f);
  const t0 = process.hrtime.bigint();
  let shot = 0;
  for (let i = 0; i < count; i++) if (emu.run(f).retval === TC_ACT_SHOT) shot++;
  const ns = Number(process.hrtime.bigint() - t0);
  if (shot !== count) throw new Error(`filter bench: ${shot} of ${count} packets dropped, expected all`);
  return ns / count;
}

async function kernel() {
  if (process.getuid?.() !== 0) return undefined;
  const { loadObject, progTestRun } = await import('../dist/loader/raw.js');
  const loaded = loadObject(readFileSync(OBJECT), { objectName: 'bench' });
  try {
    const r = progTestRun(loaded.programs[0].fd, { dataIn: frame(), repeat: 1_000_000 });
    if (r.retval !== TC_ACT_SHOT) throw new Error(`filter bench: kernel retval ${r.retval}`);
    return r.duration;
  } finally {
    loaded.close();
  }
}

export async function run() {
  const emulated = emulate(PACKETS);
  const interpreted = emulate(PACKETS / 4, { compile: false });
  const inKernel = await kernel();
  const rss = JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--rss'], { encoding: 'utf8' }));
  console.log(`filter: tc_drop_tcp80.o, 64-byte frame: emulator ${emulated.toFixed(0)} ns/packet` +
    (inKernel === undefined ? ' (kernel: not root, not measured)' : `, kernel BPF_PROG_TEST_RUN ${inKernel} ns/packet (emulator ${(emulated / inKernel).toFixed(1)}x)`) +
    `; interpreter alone ${interpreted.toFixed(0)} ns/packet`);
  console.log(`filter: peak RSS for ${PACKETS} packets through the emulator: ${(rss.maxRssKb / 1024).toFixed(1)} MiB`);
  return { emulatorNsPerPacket: emulated, interpretedNsPerPacket: interpreted, kernelNsPerPacket: inKernel, peakRssMiB: rss.maxRssKb / 1024 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv[2] === '--rss') {
    emulate(PACKETS);
    process.stdout.write(JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS }));
  } else {
    await run();
  }
}
