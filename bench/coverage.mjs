// The cost of coverage: the TCP/80 filter (bpf/build/bpfel/tc_drop_tcp80.o) on a 64-byte frame, ns
// per packet with coverage off and on, compiled (the instrumented translation against the plain one)
// and interpreted, measured in the same run. The aim is at most 2x compiled.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Emulator } from '../dist/vm/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const OBJECT = resolve(here, '..', 'bpf', 'build', 'bpfel', 'tc_drop_tcp80.o');
const PACKETS = 1_000_000;
const TC_ACT_SHOT = 2;

/** Ethernet + IPv4 + TCP to port 80, zero-padded to 64 bytes, as bench/filter.mjs sends. */
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

function measure(count, options) {
  const emu = Emulator.fromObject(readFileSync(OBJECT), options);
  const f = frame();
  for (let i = 0; i < 100_000; i++) emu.run(f);
  const t0 = process.hrtime.bigint();
  let shot = 0;
  for (let i = 0; i < count; i++) if (emu.run(f).retval === TC_ACT_SHOT) shot++;
  const ns = Number(process.hrtime.bigint() - t0);
  if (shot !== count) throw new Error(`coverage bench: ${shot} of ${count} packets dropped, expected all`);
  if (options.coverage) {
    const lines = emu.coverage().files[0].lines;
    if (!lines.some((l) => l.hits >= count)) throw new Error('coverage bench: no line counted every packet');
  }
  return ns / count;
}

export async function run() {
  // Alternated and the best of three each, so that neither side gets the warmer machine.
  const best = { off: Infinity, on: Infinity, offInterp: Infinity, onInterp: Infinity };
  for (let round = 0; round < 3; round++) {
    best.off = Math.min(best.off, measure(PACKETS, { compile: true }));
    best.on = Math.min(best.on, measure(PACKETS, { compile: true, coverage: true }));
    best.offInterp = Math.min(best.offInterp, measure(PACKETS / 4, { compile: false }));
    best.onInterp = Math.min(best.onInterp, measure(PACKETS / 4, { compile: false, coverage: true }));
  }
  console.log(`coverage: tc_drop_tcp80.o, 64-byte frame: compiled ${best.off.toFixed(0)} ns/packet without coverage, ` +
    `${best.on.toFixed(0)} with (${(best.on / best.off).toFixed(2)}x); interpreted ${best.offInterp.toFixed(0)} without, ` +
    `${best.onInterp.toFixed(0)} with (${(best.onInterp / best.offInterp).toFixed(2)}x)`);
  return { compiledNs: best.off, compiledCoverageNs: best.on, interpretedNs: best.offInterp, interpretedCoverageNs: best.onInterp };
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
