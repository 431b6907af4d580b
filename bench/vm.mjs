// Speed on a tight compute loop (5e7 executed instructions), compiled (the default from a program's
// second run) and on the interpreter alone.
import { Vm } from '../dist/vm/index.js';

function insn(code, dst, src, off, imm) {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  b[0] = code;
  b[1] = (src << 4) | dst;
  v.setInt16(2, off, true);
  v.setInt32(4, imm, true);
  return b;
}

// r0 = 0; r1 = 10000000; loop: r0 += r1; r0 ^= 0x5a5a; r0 <<= 1; r1 -= 1; if r1 != 0 goto loop; exit
const LOOP = [
  insn(0xb7, 0, 0, 0, 0),
  insn(0xb7, 1, 0, 0, 10_000_000),
  insn(0x0f, 0, 1, 0, 0),
  insn(0xa7, 0, 0, 0, 0x5a5a),
  insn(0x67, 0, 0, 0, 1),
  insn(0x17, 1, 0, 0, 1),
  insn(0x55, 1, 0, -5, 0),
  insn(0x95, 0, 0, 0, 0),
];
const EXPECTED = 0x81296f516d0e20en;

/** Best of three timed runs after a warm-up, on the interpreter alone or compiled (compile.ts). */
function measure(program, compile) {
  const vm = new Vm(program, { budget: 100_000_000, compile });
  for (let i = 0; i < 3; i++) vm.run();
  let best = Infinity;
  let executed = 0;
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    const res = vm.run();
    const ns = Number(process.hrtime.bigint() - t0);
    if (res.r0 !== EXPECTED) throw new Error(`vm bench: r0 = 0x${res.r0.toString(16)}, expected 0x${EXPECTED.toString(16)}`);
    executed = res.executed;
    best = Math.min(best, ns);
  }
  return { ns: best, executed };
}

export async function run() {
  const program = new Uint8Array(LOOP.length * 8);
  LOOP.forEach((b, i) => program.set(b, i * 8));
  const compiled = measure(program, true);
  const interpreted = measure(program, false);
  const perInsn = compiled.ns / compiled.executed;
  const interpretedPerInsn = interpreted.ns / interpreted.executed;
  console.log(`vm: compute loop ${compiled.executed} insns in ${(compiled.ns / 1e6).toFixed(1)} ms = ${perInsn.toFixed(2)} ns/insn compiled, ${interpretedPerInsn.toFixed(2)} ns/insn interpreted`);
  return { nsPerInsn: perInsn, interpretedNsPerInsn: interpretedPerInsn, executed: compiled.executed };
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
