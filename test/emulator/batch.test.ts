// Emulator.runMany(): every frame of a batch gets what BPF_PROG_TEST_RUN gives it (return code, output
// packet, and the maps after the batch), and the BatchRun a visitor sees carries that run's packet,
// skb fields and printk lines, not the previous run's.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadObject, mapKeys, mapLookupElem, mapUpdateElem, progTestRun } from '../../src/loader/raw.js';
import { arbEthernet, arbFrame, arbFrameOf, arbIpv4, arbTcp, arbUdp } from '../../src/testing/index.js';
import { Emulator, type BatchRun } from '../../src/vm/index.js';
import { haveRoot } from '../helpers/env.js';
import { hex, object } from './spec.js';

const frames = fc.oneof(
  arbFrameOf(arbEthernet(), arbIpv4({ dst: fc.constantFrom('10.1.1.1', '10.9.9.9') }), fc.oneof(arbTcp({ dport: fc.constantFrom(80, 8080) }), arbUdp({ dport: 53 }))),
  arbFrame(),
).map((f) => f.bytes).filter((b) => b.length >= 14 + 20);

const endpoint = (a: number[], port: number) => Uint8Array.from([...a, port >> 8, port & 0xff, 0, 0]);
const RULE = Uint8Array.from([10, 1, 1, 1, 0x1f, 0x90, 6, 0]);
const BACKEND = endpoint([10, 2, 2, 2], 80);

const TARGETS: { file: string; program?: string; seed?: [string, Uint8Array, Uint8Array][] }[] = [
  { file: 'tc_drop_tcp80.o' },
  { file: 'monitor.o', program: 'monitor_ingress' },
  { file: 'dnat.o', program: 'dnat_ingress', seed: [['dnat_rules', RULE, BACKEND]] },
];

describe.skipIf(!haveRoot())('runMany agrees with BPF_PROG_TEST_RUN frame by frame', () => {
  for (const t of TARGETS) {
    it(`${t.file}${t.program ? ` ${t.program}` : ''}`, () => {
      const batch = fc.sample(frames, { numRuns: 300, seed: 11 });
      const file = object(t.file);
      const loaded = loadObject(file, { ...(t.program ? { programs: [t.program] } : {}), objectName: 'batchtest' });
      try {
        for (const compile of [true, false]) {
          const emu = Emulator.fromObject(file, { ...(t.program ? { program: t.program } : {}), compile });
          for (const [map, k, v] of t.seed ?? []) emu.maps.get(map).update(k, v);
          const seen: { retval: number; packet: string }[] = [];
          const summary = emu.runMany(batch, (r: BatchRun) => {
            expect(r.index).toBe(seen.length);
            seen.push({ retval: r.retval, packet: hex(r.packet) });
          });
          if (compile) for (const [map, k, v] of t.seed ?? []) mapUpdateElem(loaded.maps.find((m) => m.spec.objectName === map)!.fd, k, v);
          const kernel = batch.map((f) => {
            const k = progTestRun(loaded.programs[0]!.fd, { dataIn: f });
            return { retval: k.retval, packet: hex(k.dataOut ?? new Uint8Array()) };
          });
          // The kernel runs the batch again for each pass; its maps are compared after the first.
          expect(seen).toEqual(kernel);
          expect(summary.runs).toBe(batch.length);
          const counts = new Map<number, number>();
          for (const k of kernel) counts.set(k.retval, (counts.get(k.retval) ?? 0) + 1);
          expect(new Map([...summary.retvals].sort())).toEqual(new Map([...counts].sort()));
          if (compile) {
            for (const m of loaded.maps) {
              const { keySize, valueSize, objectName } = m.spec;
              const inKernel = mapKeys(m.fd, keySize).map((k) => `${hex(k)}=${hex(mapLookupElem(m.fd, k, valueSize)!)}`).sort();
              const emulated = emu.maps.get(objectName).entries().map(([k, v]) => `${hex(k)}=${hex(v)}`).sort();
              expect(emulated).toEqual(inKernel);
            }
          }
        }
      } finally {
        loaded.close();
      }
    });
  }
});

describe('runMany and run() agree', () => {
  it('per-run printk lines, skb fields and executed counts are those of run() on the same frame', () => {
    const batch = fc.sample(frames, { numRuns: 50, seed: 5 });
    const one = Emulator.fromObject(object('printk.o'));
    const many = Emulator.fromObject(object('printk.o'));
    const expected = batch.map((f) => {
      const r = one.run(f);
      return { printk: r.printk, skb: r.skb, executed: r.executed, packet: hex(r.packet) };
    });
    const got: unknown[] = [];
    many.runMany(batch, (r) => {
      got.push({ printk: r.printk, skb: r.skb, executed: r.executed, packet: hex(r.output().packet) });
    });
    expect(got).toEqual(expected);
    // The kernel's own format, independent of the emulator: "pkt len=<frame length> ...".
    expect((got[0] as { printk: string[] }).printk[0]).toContain(`pkt len=${batch[0]!.length} `);
  });

  it('stops when the visitor returns false', () => {
    const emu = Emulator.fromObject(object('tc_drop_tcp80.o'));
    const batch = fc.sample(frames, { numRuns: 20, seed: 3 });
    let visits = 0;
    const s = emu.runMany(batch, () => ++visits < 5);
    expect(visits).toBe(5);
    expect(s.runs).toBe(5);
  });
});
