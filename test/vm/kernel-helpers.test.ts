// Programs calling kernel helpers over emulated maps, with map references resolved from ld_imm64.
import { describe, expect, it } from 'vitest';
import { decodeProgram, KernelEnv, Memory, MapRegistry, Vm, VmFault, type ArrayMap, type PerfEventArrayMap, type ProgArrayMap, type RingBufMap } from '../../src/vm/index.js';
import { encode, exit, lddw, mov64, movImm, type Insn } from './asm.js';

// Helper ids and constants from include/uapi/linux/bpf.h, restated as the oracle.
const LOOKUP = 1, UPDATE = 2, KTIME = 5, PRINTK = 6, PRANDOM = 7, TAIL_CALL = 12, PERF_OUT = 25;
const RB_OUTPUT = 130, RB_RESERVE = 131, RB_SUBMIT = 132, RB_DISCARD = 133;
const HASH = 1, ARRAY = 2, PROG_ARRAY = 3, PERF = 4, RINGBUF = 27;
const PSEUDO_MAP_FD = 1, PSEUDO_MAP_VALUE = 2;

const call = (id: number): Insn => ({ code: 0x85, imm: id });
const mapRef = (dst: number, fd: number) => lddw(dst, BigInt(fd), PSEUDO_MAP_FD);
/** r2 = r10 - off */
const stackPtr = (dst: number, off: number): Insn[] => [mov64(dst, 10), { code: 0x07, dst, imm: -off }];

function setup(compile: boolean) {
  const memory = new Memory();
  const maps = new MapRegistry(memory);
  const env = new KernelEnv(maps, { seed: 42, startNs: 1000n, tickNs: 5n });
  const vm = (insns: Insn[]) => new Vm(encode(insns), { memory, helpers: env.helpers(), resolveLdImm64: maps.resolveLdImm64, compile });
  return { memory, maps, env, vm };
}

// Interpreted (the reference) and compiled (compile.ts) alike.
describe.each([false, true])('kernel helpers (compiled: %s)', (compile) => {
  it('count with lookup + atomic add on an array map, across runs', () => {
    const { maps, vm } = setup(compile);
    const { fd, map } = maps.create({ type: ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, name: 'counter' });
    const prog = vm([
      { code: 0x62, dst: 10, off: -4, imm: 0 },
      ...mapRef(1, fd), ...stackPtr(2, 4), call(LOOKUP),
      { code: 0x15, dst: 0, off: 2, imm: 0 },
      movImm(1, 1), { code: 0xdb, dst: 0, src: 1, imm: 0x00 },
      movImm(0, 0), exit,
    ]);
    for (let i = 0; i < 3; i++) prog.run();
    expect((map as ArrayMap).element(0)[0]).toBe(3);
  });

  it('update returns -EEXIST for a second BPF_NOEXIST insert, and lookup of a missing key gives NULL', () => {
    const { maps, vm } = setup(compile);
    const { fd } = maps.create({ type: HASH, keySize: 4, valueSize: 4, maxEntries: 8 });
    const update = [
      { code: 0x62, dst: 10, off: -4, imm: 7 }, { code: 0x62, dst: 10, off: -8, imm: 99 },
      ...mapRef(1, fd), ...stackPtr(2, 4), ...stackPtr(3, 8), movImm(4, 1), call(UPDATE), exit,
    ];
    expect(vm(update).run().r0).toBe(0n);
    expect(BigInt.asIntN(64, vm(update).run().r0)).toBe(-17n);
    const lookupMissing = [{ code: 0x62, dst: 10, off: -4, imm: 8 }, ...mapRef(1, fd), ...stackPtr(2, 4), call(LOOKUP), exit];
    expect(vm(lookupMissing).run().r0).toBe(0n);
  });

  it('reads global data through BPF_PSEUDO_MAP_VALUE and honours read-only maps', () => {
    const { maps, vm } = setup(compile);
    const { fd, map } = maps.create({ type: ARRAY, keySize: 4, valueSize: 16, maxEntries: 1, flags: 1 << 7, name: '.rodata' });
    (map as ArrayMap).element(0).set([0, 0, 0, 0, 0x44, 0x33, 0x22, 0x11]);
    expect(vm([...lddw(1, BigInt(fd) | (4n << 32n), PSEUDO_MAP_VALUE), { code: 0x61, dst: 0, src: 1 }, exit]).run().r0).toBe(0x11223344n);
    const write = vm([...lddw(1, BigInt(fd), PSEUDO_MAP_VALUE), { code: 0x62, dst: 1, imm: 1 }, exit]);
    expect(() => write.run()).toThrow(VmFault);
  });

  it('trace_printk formats up to three arguments into the captured trace', () => {
    const { env, vm } = setup(compile);
    const program = (format: string) => {
      const fmt = new TextEncoder().encode(`${format}\0`);
      const words: Insn[] = [];
      const put = (bytes: Uint8Array, at: number) => bytes.forEach((b, i) => words.push({ code: 0x72, dst: 10, off: -at + i, imm: b }));
      put(fmt, 64);
      put(new TextEncoder().encode('hi\0'), 8);
      return vm([...words, ...stackPtr(1, 64), movImm(2, fmt.length), movImm(3, -5), movImm(4, -1), ...stackPtr(5, 8), call(PRINTK), exit]);
    };
    const line = 'n=-5 x=ffffffff s=hi%\n';
    expect(program('n=%d x=%08x s=%s%%\n').run().r0).toBe(BigInt(line.length));
    program('[%lu] [%-4d] [%5s]').run();
    expect(env.trace).toEqual([line, '[18446744073709551611] [-1  ] [   hi]']);
    // A fourth conversion has no argument: -EINVAL, nothing printed.
    expect(BigInt.asIntN(64, program('%d %d %d %d').run().r0)).toBe(-22n);
    expect(env.trace).toHaveLength(2);
  });

  it('ktime follows the controllable clock and prandom is deterministic for a seed', () => {
    const a = setup(compile);
    const b = setup(compile);
    const prog = (s: typeof a) => s.vm([call(PRANDOM), mov64(6, 0), call(PRANDOM), { code: 0x67, dst: 0, imm: 32 }, { code: 0x4f, dst: 0, src: 6 }, exit]);
    expect(prog(a).run().r0).toBe(prog(b).run().r0);
    const clock = a.vm([call(KTIME), mov64(6, 0), call(KTIME), { code: 0x1f, dst: 0, src: 6 }, exit]);
    expect(clock.run().r0).toBe(5n);
    a.env.nowNs = 5_000_000_000n;
    expect(a.vm([call(KTIME), exit]).run().r0).toBe(5_000_000_000n);
  });

  it('ring buffer reserve/submit/discard/output deliver records, and a submitted record cannot be touched', () => {
    const { maps, vm } = setup(compile);
    const { fd, map } = maps.create({ type: RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 });
    const reserveWrite = (commit: number, after: Insn[] = []) => vm([
      ...mapRef(1, fd), movImm(2, 8), movImm(3, 0), call(RB_RESERVE),
      { code: 0x55, dst: 0, off: 2, imm: 0 }, movImm(0, 1), exit,
      mov64(6, 0), { code: 0x7a, dst: 6, imm: 0x0102 },
      mov64(1, 6), movImm(2, 0), call(commit), ...after, movImm(0, 0), exit,
    ]);
    reserveWrite(RB_SUBMIT).run();
    reserveWrite(RB_DISCARD).run();
    vm([{ code: 0x62, dst: 10, off: -4, imm: 0x0a0b0c0d }, ...mapRef(1, fd), ...stackPtr(2, 4), movImm(3, 4), movImm(4, 0), call(RB_OUTPUT), exit]).run();
    const records = (map as RingBufMap).drain();
    expect(records.map((r) => [...r])).toEqual([[2, 1, 0, 0, 0, 0, 0, 0], [0x0d, 0x0c, 0x0b, 0x0a]]);
    const f = (() => {
      try {
        reserveWrite(RB_SUBMIT, [{ code: 0x79, dst: 0, src: 6 }]).run();
      } catch (e) {
        return e;
      }
    })();
    expect(f).toBeInstanceOf(VmFault);
    expect((f as VmFault).kind).toBe('memory');
  });

  it('perf_event_output: -ENOENT with no event open; once open, slot i takes output from CPU i only', () => {
    const memory = new Memory();
    const maps = new MapRegistry(memory, 2);
    const env = new KernelEnv(maps);
    const { fd, map } = maps.create({ type: PERF, keySize: 4, valueSize: 4, maxEntries: 3 });
    const perf = map as PerfEventArrayMap;
    const out = (flags: bigint, cpu: number) => {
      const v = new Vm(encode([{ code: 0x62, dst: 10, off: -4, imm: 0x11 }, ...mapRef(2, fd), ...lddw(3, flags), ...stackPtr(4, 4), movImm(5, 4), call(PERF_OUT), exit]), {
        memory, helpers: env.helpers(), resolveLdImm64: maps.resolveLdImm64, compile,
      });
      v.cpu = cpu;
      return BigInt.asIntN(64, v.run().r0);
    };
    // kernel/trace/bpf_trace.c __bpf_perf_event_output: E2BIG past max_entries, ENOENT for an empty
    // slot, EOPNOTSUPP for an event bound to another CPU, EINVAL for flags outside the index.
    expect([out(0xffffffffn, 0), out(0n, 0), out(3n, 0), out(1n << 52n, 0)]).toEqual([-2n, -2n, -7n, -22n]);
    expect(perf.records).toEqual([]);
    perf.eventsOpen = true;
    expect([out(0xffffffffn, 1), out(0n, 0), out(1n, 0), out(2n, 0), out(3n, 1)]).toEqual([0n, 0n, -95n, -2n, -7n]);
    expect(perf.records).toEqual([{ cpu: 1, data: Uint8Array.from([0x11, 0, 0, 0]) }, { cpu: 0, data: Uint8Array.from([0x11, 0, 0, 0]) }]);
  });

  it('tail calls replace the program, fall through when the slot is empty, and stop after 33', () => {
    const { maps, vm, memory, env } = setup(compile);
    const { fd, map } = maps.create({ type: PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 4 });
    const caller = [...mapRef(2, fd), movImm(3, 1), call(TAIL_CALL), movImm(0, 1), exit];
    (map as ProgArrayMap).setProgram(1, decodeProgram(encode([movImm(0, 42), exit])));
    expect(vm(caller).run().r0).toBe(42n);
    (map as ProgArrayMap).setProgram(1, undefined);
    expect(vm(caller).run().r0).toBe(1n);
    // A program that tail-calls itself and counts in r6 (registers survive a tail call).
    const self = decodeProgram(encode([{ code: 0x07, dst: 6, imm: 1 }, ...mapRef(2, fd), movImm(3, 2), call(TAIL_CALL), mov64(0, 6), exit]), {
      resolveLdImm64: maps.resolveLdImm64,
    });
    (map as ProgArrayMap).setProgram(2, self);
    expect(new Vm(self, { memory, helpers: env.helpers(), compile }).run().r0).toBe(34n);
  });

  it('fails with the helper name for helpers the emulator lacks', () => {
    const { vm } = setup(compile);
    expect(() => vm([call(14), exit]).run()).toThrow(/bpf_get_current_pid_tgid \(#14\)/);
  });
});
