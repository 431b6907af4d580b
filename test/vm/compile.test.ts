// The compiled path against the interpreter, its reference: random well-formed programs (every ALU,
// jump, load/store width, ld_imm64, helper calls, exits, plus the instructions the compiled path hands
// back to the interpreter) run both ways must end alike: same registers, memory, stack and count, or
// the same fault at the same pc.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_COMPILED_SOURCE, translate } from '../../src/vm/compile.js';
import { conformanceHelpers, decodeProgram, Vm, VmFault } from '../../src/vm/index.js';
import { encode, exit, lddw, type Insn } from './asm.js';

const MEM_SIZE = 64;
const BUDGET = 400;

const ALU_OPS = [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xa0, 0xb0, 0xc0];
const JMP_OPS = [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0];
const SIZES = [0x00, 0x08, 0x10, 0x18];

/** Immediates that hit the edges of 32/64-bit arithmetic as well as small values. */
const imm = fc.oneof(
  fc.integer({ min: -4, max: 70 }),
  fc.constantFrom(0x7fffffff, -0x80000000, -1, 0xffff, 0x8000, 31, 32, 63, 64),
  fc.integer({ min: -0x80000000, max: 0x7fffffff }),
);
const reg = fc.integer({ min: 0, max: 9 });
const anyReg = fc.integer({ min: 0, max: 10 });

/** One instruction (or an ld_imm64 pair) at index `at` of a program of `len` instructions. */
function insnAt(at: number, len: number): fc.Arbitrary<Insn[]> {
  const jumpOff = fc.integer({ min: -at - 1, max: len - at - 2 }).filter((o) => at + 1 + o >= 0 && at + 1 + o < len);
  return fc.oneof(
    // ALU64 / ALU32, immediate and register, incl. signed div/mod and movsx
    { weight: 8, arbitrary: fc.record({ cls: fc.constantFrom(0x07, 0x04, 0x0f, 0x0c), op: fc.constantFrom(...ALU_OPS), dst: reg, src: anyReg, imm, sx: fc.boolean() })
      .map(({ cls, op, dst, src, imm, sx }) => {
        const x = (cls & 0x08) !== 0;
        const code = op | cls;
        let off = 0;
        if (sx && (op === 0x30 || op === 0x90)) off = 1;
        if (sx && op === 0xb0 && x) off = cls === 0x0f ? [8, 16, 32][Math.abs(imm) % 3]! : [8, 16][Math.abs(imm) % 2]!;
        return [{ code, dst, src: x ? src : 0, off, imm: x ? 0 : imm }];
      }) },
    fc.record({ cls: fc.constantFrom(0x07, 0x04), dst: reg }).map(({ cls, dst }) => [{ code: 0x80 | cls, dst }]),
    fc.record({ code: fc.constantFrom(0xd4, 0xdc, 0xd7), dst: reg, bits: fc.constantFrom(16, 32, 64) })
      .map(({ code, dst, bits }) => [{ code, dst, imm: bits }]),
    // conditional jumps, 64 and 32-bit, immediate and register; ja
    { weight: 3, arbitrary: fc.record({ cls: fc.constantFrom(0x05, 0x06, 0x0d, 0x0e), op: fc.constantFrom(...JMP_OPS), dst: anyReg, src: anyReg, imm, off: jumpOff })
      .map(({ cls, op, dst, src, imm, off }) => [{ code: op | cls, dst, src: cls & 0x08 ? src : 0, off, imm: cls & 0x08 ? 0 : imm }]) },
    jumpOff.map((off) => [{ code: 0x05, off }]),
    // loads and stores through the memory pointer (r1 at entry), the stack, or any register
    { weight: 3, arbitrary: fc.record({ base: fc.constantFrom(1, 10, 10, 2, 6), size: fc.constantFrom(...SIZES), kind: fc.constantFrom('ldx', 'ldsx', 'st', 'stx'),
      dst: reg, src: anyReg, off: fc.oneof(fc.integer({ min: -16, max: MEM_SIZE + 4 }), fc.integer({ min: -520, max: 0 })), imm })
      .map(({ base, size, kind, dst, src, off, imm }) => {
        if (kind === 'ldx') return [{ code: 0x61 | size, dst, src: base, off }];
        if (kind === 'ldsx') return [{ code: 0x81 | (size === 0x18 ? 0 : size), dst, src: base, off }];
        if (kind === 'st') return [{ code: 0x62 | size, dst: base, off, imm }];
        return [{ code: 0x63 | size, dst: base, src, off }];
      }) },
    fc.record({ dst: reg, value: fc.bigInt({ min: -(1n << 63n), max: (1n << 64n) - 1n }) }).map(({ dst, value }) => lddw(dst, value)),
    // helpers (the conformance ones: 5 with r1 = 0 ends the program) and exit
    fc.integer({ min: 0, max: 6 }).map((id) => [{ code: 0x85, imm: id }]),
    fc.constant<Insn[]>([exit]),
    // atomics and legacy packet loads (through Vm methods), bpf-to-bpf calls (handed to the interpreter)
    fc.record({ code: fc.constantFrom(0xc3, 0xdb), base: fc.constantFrom(1, 10), src: reg, off: fc.integer({ min: -16, max: MEM_SIZE }), op: fc.constantFrom(0x00, 0x01, 0x40, 0x51, 0xa0, 0xe1, 0xf1) })
      .map(({ code, base, src, off, op }) => [{ code, dst: base, src, off: off & ~7, imm: op }]),
    fc.record({ code: fc.constantFrom(0x20, 0x28, 0x30, 0x40, 0x48, 0x50), src: reg, imm: fc.integer({ min: -4, max: 40 }) })
      .map(({ code, src, imm }) => [{ code, src: code & 0x40 ? src : 0, imm }]),
    jumpOff.map((off) => [{ code: 0x85, src: 1, imm: off }]),
  );
}

const program = fc.integer({ min: 1, max: 28 }).chain((len) =>
  fc.tuple(...Array.from({ length: len }, (_, i) => insnAt(i, len))).map((parts) => parts.flat()));

interface State {
  lo: number[];
  hi: number[];
  mem: number[];
  stack: number[];
}
type Outcome = State & ({ fault: string; pc: number; message: string } | { r0: bigint; executed: number });

function runOnce(bytes: Uint8Array, compile: boolean, args: readonly bigint[], budget = BUDGET): Outcome | undefined {
  let vm: Vm;
  try {
    vm = new Vm(bytes, { helpers: conformanceHelpers(), budget, compile });
  } catch (e) {
    if (e instanceof VmFault) return undefined;
    throw e;
  }
  const mem = new Uint8Array(MEM_SIZE).map((_, i) => (i * 37 + 11) & 0xff);
  const pointer = vm.memory.map(mem, 'mem');
  // Legacy loads read the first 32 bytes of the memory as the packet.
  vm.setLegacyPacket(pointer, MEM_SIZE / 2);
  const state = (): State => ({ lo: [...vm.lo], hi: [...vm.hi], mem: [...mem], stack: [...vm.memory.stackFrame(0)] });
  try {
    const r = vm.run([pointer, BigInt(MEM_SIZE), ...args]);
    return { r0: r.r0, executed: r.executed, ...state() };
  } catch (e) {
    if (!(e instanceof VmFault)) throw e;
    return { fault: e.kind, pc: e.pc, message: e.message, ...state() };
  }
}

describe('compiled programs', () => {
  it('end exactly as the interpreter ends them', () => {
    let compared = 0;
    let completed = 0;
    fc.assert(
      fc.property(program, fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { minLength: 3, maxLength: 3 }), (insns, args) => {
        const bytes = encode([...insns, exit]);
        const interpreted = runOnce(bytes, false, args);
        const compiled = runOnce(bytes, true, args);
        expect(compiled).toEqual(interpreted);
        if (interpreted !== undefined) compared++;
        if (interpreted !== undefined && 'r0' in interpreted) completed++;
      }),
      { numRuns: 4000 },
    );
    // The generator must reach both ends: programs that run to exit and programs that fault.
    expect(compared).toBeGreaterThan(3000);
    expect(completed).toBeGreaterThan(500);
  });

  it('run a tight loop to the same instruction budget fault', () => {
    // r0 += 1; goto -2 (forever)
    const bytes = encode([{ code: 0x07, dst: 0, imm: 1 }, { code: 0x05, off: -2 }, exit]);
    const faults = [false, true].map((compile) => {
      const vm = new Vm(bytes, { budget: 1001, compile });
      try {
        vm.run();
      } catch (e) {
        return [(e as VmFault).kind, (e as VmFault).pc, vm.lo[0]];
      }
      return undefined;
    });
    expect(faults[0]).toEqual(['budget', 1, 501]);
    expect(faults[1]).toEqual(faults[0]);
  });
});

describe('the stack between runs', () => {
  // Each run starts on a zeroed stack (RFC 9669 leaves it undefined; the emulator promises zero),
  // however the previous run wrote it: a store, or a helper writing through a stack pointer.
  it.each([false, true])('is zero again whatever wrote it (compiled: %s)', (compile) => {
    const byStore = encode([
      { code: 0x79, dst: 0, src: 10, off: -8 }, // r0 = *(u64 *)(r10 - 8)
      { code: 0x7a, dst: 10, off: -8, imm: 0x1234 }, // *(u64 *)(r10 - 8) = 0x1234
      exit,
    ]);
    const byHelper = encode([
      { code: 0xbf, dst: 1, src: 10 }, // r1 = r10
      { code: 0x07, dst: 1, imm: -8 }, // r1 -= 8
      { code: 0xb7, dst: 2, imm: 8 }, // r2 = 8
      { code: 0x85, imm: 1 }, // memfrob(r1, r2): xor 42 in place
      { code: 0x79, dst: 0, src: 10, off: -8 },
      exit,
    ]);
    const store = new Vm(byStore, { compile });
    expect([store.run().r0, store.run().r0, store.run().r0]).toEqual([0n, 0n, 0n]);
    const helper = new Vm(byHelper, { helpers: conformanceHelpers(), compile });
    expect([helper.run().r0, helper.run().r0]).toEqual([0x2a2a2a2a2a2a2a2an, 0x2a2a2a2a2a2a2a2an]);
  });
});

describe('programs too large to optimize as one function', () => {
  // 300 stores and loads through the stack: V8 would never optimize their translation as one
  // function, so it is split into regions, each short enough, and ends as the interpreter ends it.
  const insns: Insn[] = [];
  for (let i = 0; i < 150; i++) {
    insns.push({ code: 0x7b, dst: 10, src: 1, off: -8 * (1 + (i % 60)) }, { code: 0x79, dst: 0, src: 10, off: -8 * (1 + ((i * 7) % 60)) });
  }
  const bytes = encode([{ code: 0xb7, dst: 1, imm: 5 }, ...insns, exit]);

  it('are split into regions V8 can optimize and end alike', () => {
    const { sources } = translate(decodeProgram(bytes));
    expect(sources.length).toBeGreaterThan(1);
    for (const src of sources) expect(src.length).toBeLessThanOrEqual(MAX_COMPILED_SOURCE);
    const results = [false, true].map((compile) => new Vm(bytes, { compile }).run());
    expect(results[1]).toEqual(results[0]);
    expect(results[0]).toEqual({ r0: 5n, executed: 302 });
  });

  it('while a small one is one function', () => {
    expect(translate(decodeProgram(encode([{ code: 0xb7, dst: 0, imm: 5 }, exit]))).sources).toHaveLength(1);
  });

  it('jump, call and fault between regions exactly as the interpreter runs them', () => {
    // Long random programs (jumps anywhere, so across regions), with a budget that lets them go far;
    // one slot per instruction (ld_imm64 becomes a mov), or most jumps would land inside an ld_imm64.
    const long = fc.integer({ min: 500, max: 700 }).chain((len) =>
      fc.tuple(...Array.from({ length: len }, (_, i) => insnAt(i, len)))
        .map((parts) => parts.flatMap((p) => (p.length === 2 ? [{ code: 0xb7, dst: p[0]!.dst, imm: p[0]!.imm }] : p))));
    // And programs that mostly loop until the budget runs out: ALU, jumps and stack traffic only.
    const looping = fc.integer({ min: 500, max: 700 }).chain((len) => fc.tuple(...Array.from({ length: len }, (_, at) => fc.oneof(
      { weight: 4, arbitrary: fc.record({ op: fc.constantFrom(...ALU_OPS), cls: fc.constantFrom(0x07, 0x04, 0x0f), dst: reg, src: reg, imm })
        .map(({ op, cls, dst, src, imm }) => ({ code: op | cls, dst, src: cls === 0x0f ? src : 0, imm: cls === 0x0f ? 0 : imm })) },
      { weight: 2, arbitrary: fc.record({ op: fc.constantFrom(...JMP_OPS), dst: reg, imm, to: fc.integer({ min: 0, max: len - 1 }) })
        .map(({ op, dst, imm, to }) => ({ code: op | 0x05, dst, imm, off: to - at - 1 })) },
      { weight: 2, arbitrary: fc.record({ store: fc.boolean(), r: reg, slot: fc.integer({ min: 1, max: 64 }) })
        .map(({ store, r, slot }) => (store ? { code: 0x7b, dst: 10, src: r, off: -8 * slot } : { code: 0x79, dst: r, src: 10, off: -8 * slot })) },
    ))));
    let split = 0;
    let far = 0;
    fc.assert(
      fc.property(fc.oneof(long, looping), fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { minLength: 3, maxLength: 3 }), (insns, args) => {
        const bytes = encode([...insns, exit]);
        let program;
        try {
          program = decodeProgram(bytes);
        } catch (e) {
          if (e instanceof VmFault) return;
          throw e;
        }
        if (translate(program).sources.length > 1) split++;
        const interpreted = runOnce(bytes, false, args, 5000);
        expect(runOnce(bytes, true, args, 5000)).toEqual(interpreted);
        if (interpreted !== undefined && ('r0' in interpreted ? interpreted.executed > 1000 : interpreted.fault === 'budget')) far++;
      }),
      { numRuns: 40 },
    );
    expect(split).toBeGreaterThan(20);
    // Runs that went through more than 1000 instructions (or all 5000 of the budget), across regions.
    expect(far).toBeGreaterThan(5);
  });
});
