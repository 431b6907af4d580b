// Speed on a tight compute loop (100,000 iterations, 500,003 executed instructions), compiled (the
// default from a program's second run) and on the interpreter alone, beside the kernel's JIT running
// the same instructions: loaded as a socket filter (the verifier walks all iterations, well under its
// million-instruction limit) and run with BPF_PROG_TEST_RUN in the same run when root. The emulator's
// figures are CPU time, as the kernel's test-run timer also leaves out time spent descheduled.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Vm } from '../dist/vm/index.js';

const ITERATIONS = 100_000;
const TARGET_INTERPRETED = 25;
const TARGET_COMPILED = 3;

function insn(code, dst, src, off, imm) {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  b[0] = code;
  b[1] = (src << 4) | dst;
  v.setInt16(2, off, true);
  v.setInt32(4, imm, true);
  return b;
}

// r0 = 0; r1 = ITERATIONS; loop: r0 += r1; r0 ^= 0x5a5a; r0 <<= 1; r1 -= 1; if r1 != 0 goto loop; exit
const LOOP = [
  insn(0xb7, 0, 0, 0, 0),
  insn(0xb7, 1, 0, 0, ITERATIONS),
  insn(0x0f, 0, 1, 0, 0),
  insn(0xa7, 0, 0, 0, 0x5a5a),
  insn(0x67, 0, 0, 0, 1),
  insn(0x17, 1, 0, 0, 1),
  insn(0x55, 1, 0, -5, 0),
  insn(0x95, 0, 0, 0, 0),
];
const EXECUTED = 2 + 5 * ITERATIONS + 1;

/** What the loop leaves in r0, computed here in plain BigInt arithmetic. */
function expected() {
  let r0 = 0n;
  for (let r1 = BigInt(ITERATIONS); r1 !== 0n; r1--) r0 = BigInt.asUintN(64, ((r0 + r1) ^ 0x5a5an) << 1n);
  return r0;
}

const program = new Uint8Array(LOOP.length * 8);
LOOP.forEach((b, i) => program.set(b, i * 8));

/** CPU ns per executed instruction, best of five timed runs of `runs` each after a warm-up. */
function measure(compile, runs) {
  const vm = new Vm(program, { budget: 10_000_000, compile });
  const want = expected();
  for (let i = 0; i < 3; i++) vm.run();
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < runs; i++) {
      const res = vm.run();
      if (res.r0 !== want || res.executed !== EXECUTED) throw new Error(`vm bench: r0 = 0x${res.r0.toString(16)} after ${res.executed} insns, expected 0x${want.toString(16)} after ${EXECUTED}`);
    }
    const u = process.cpuUsage(t0);
    best = Math.min(best, ((u.user + u.system) * 1000) / (runs * EXECUTED));
  }
  return best;
}

/** ns per executed instruction of the kernel's JIT, from BPF_PROG_TEST_RUN's average over 200 runs. */
async function kernel() {
  if (process.getuid?.() !== 0) return undefined;
  const { progLoad, progTestRun, bpf_prog_type } = await import('../dist/loader/raw.js');
  const loaded = progLoad({ type: bpf_prog_type.BPF_PROG_TYPE_SOCKET_FILTER, insns: program, license: 'GPL', name: 'bench_loop' });
  try {
    const r = progTestRun(loaded.fd, { dataIn: new Uint8Array(64), repeat: 200 });
    const want = Number(expected() & 0xffffffffn);
    if (r.retval !== want) throw new Error(`vm bench: kernel retval 0x${r.retval.toString(16)}, expected 0x${want.toString(16)}`);
    return r.duration / EXECUTED;
  } finally {
    loaded.fd.close();
  }
}

/** The emulator's figures, in a child process of its own so that its peak RSS is its own. */
function child() {
  return { compiled: measure(true, 20), interpreted: measure(false, 2), maxRssKb: process.resourceUsage().maxRSS };
}

export async function run() {
  const { compiled, interpreted, maxRssKb } = JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child'], { encoding: 'utf8' }));
  const jit = await kernel();
  const vs = (ns, target) => (jit === undefined ? '' : ` (${(ns / jit).toFixed(1)}x the kernel JIT; target ${target}x)`);
  console.log(`vm: compute loop, ${EXECUTED} insns per run, ns/insn: ` +
    (jit === undefined ? 'kernel JIT not measured (not root)' : `kernel JIT (BPF_PROG_TEST_RUN) ${jit.toFixed(3)}`) +
    `; compiled ${compiled.toFixed(2)}${vs(compiled, TARGET_COMPILED)}; interpreter ${interpreted.toFixed(2)}${vs(interpreted, TARGET_INTERPRETED)}` +
    `; peak RSS ${(maxRssKb / 1024).toFixed(1)} MiB`);
  return { nsPerInsn: compiled, interpretedNsPerInsn: interpreted, kernelJitNsPerInsn: jit, peakRssMiB: maxRssKb / 1024 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv[2] === '--child') process.stdout.write(JSON.stringify(child()));
  else await run();
}
