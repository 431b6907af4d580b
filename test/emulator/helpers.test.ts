// Helper semantics and faults, on small programs compiled here with clang-19 (progs/*.c): faults are
// checked against what the source does; helper results, error returns, packet changes and array map
// contents against the kernel's BPF_PROG_TEST_RUN on the same frames. bpf_perf_event_output() with no
// perf event open (the test run's case) is compared with the kernel; the records it captures with
// perfEventsOpen are checked against what the source writes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadObject, mapLookupElem, progTestRun } from '../../src/loader/raw.js';
import { arbAnyFrame, arbFrame } from '../../src/testing/index.js';
import { Emulator, EmulatorError, VmFault } from '../../src/vm/index.js';
import { haveRoot } from '../helpers/env.js';
import { clang, prog as obj } from './progs.js';
import { ETHERTYPE, hex, outerEtherType } from './spec.js';

function fault(run: () => unknown): VmFault {
  try {
    run();
  } catch (e) {
    if (e instanceof VmFault) return e;
    throw e;
  }
  throw new Error('expected a fault');
}

const frame = (len: number, fill = 0x11) => {
  const b = new Uint8Array(len).fill(fill);
  b[12] = 0x88;
  b[13] = 0xb5;
  return b;
};

describe.skipIf(!clang)('compiled programs', () => {
  describe('faults carry the instruction and the C source line', () => {
    it('a store to .rodata faults as a read-only write', () => {
      const f = fault(() => Emulator.fromObject(obj('faults'), { program: 'store_rodata' }).run(frame(60)));
      expect(f.kind).toBe('memory');
      expect(f.message).toMatch(/invalid write of 4 bytes .*read-only/);
      expect(f.insnText).toMatch(/^\*\(u32 \*\)/);
      expect(f.sourceLine).toMatch(/faults\.c:\d+: \*\(volatile __u32 \*\)&frozen = skb->len;/);
    });

    it('a packet read past data_end faults', () => {
      const f = fault(() => Emulator.fromObject(obj('faults'), { program: 'unchecked_read' }).run(frame(60)));
      expect(f.kind).toBe('memory');
      expect(f.message).toMatch(/invalid read of 1 bytes/);
      expect(f.sourceLine).toContain('return data[skb->len + 3];');
    });

    it('a store to __sk_buff->len is refused', () => {
      const f = fault(() => Emulator.fromObject(obj('faults'), { program: 'write_len' }).run(frame(60)));
      expect(f.message).toMatch(/len is not writable/);
      expect(f.sourceLine).toContain('skb->len = 1;');
    });

    it('a kfunc call is "unsupported: kfunc NAME" only on the path that reaches it', () => {
      const emu = Emulator.fromObject(obj('faults'), { program: 'call_kfunc' });
      expect(emu.run(frame(60)).retval).toBe(0);
      const f = fault(() => emu.run(frame(1200)));
      expect(f.message).toMatch(/unsupported: kfunc bpf_fictional_kfunc \(program call_kfunc, instruction \d+\)/);
    });

    it('tail calls reach the program installed in the prog array, and fall through when the slot is empty', () => {
      const emu = Emulator.fromObject(obj('faults'), { program: 'tail_caller' });
      emu.setTailCall('jump', 1, 'tail_target');
      for (let len = 60; len < 64; len++) expect(emu.run(frame(len)).retval).toBe((len & 3) === 1 ? 42 : 7);
    });

    it('bpf_perf_event_output() with events open records the data and, by the flags, the first bytes of the packet', () => {
      const emu = Emulator.fromObject(obj('helpers'), { program: 'perf_out', perfEventsOpen: true });
      const f = frame(60);
      f[0] = 0xab;
      const r = emu.run(f);
      expect(r.retval).toBe(0);
      expect(r.perf.events).toEqual([{ cpu: 0, data: Uint8Array.from([...f.subarray(0, 4), ...f]) }]);
    });

    it('bpf_perf_event_output() without an open event returns -ENOENT and records nothing', () => {
      const r = Emulator.fromObject(obj('helpers'), { program: 'perf_out' }).run(frame(60));
      expect(r.retval | 0).toBe(-2);
      expect(r.perf.events).toEqual([]);
    });

    it('stores to the writable __sk_buff fields come back in RunOutput.skb, truncated where the kernel keeps u16', () => {
      const emu = Emulator.fromObject(obj('helpers'), { program: 'ctx_fields' });
      const f = frame(60);
      f[14] = 0x34;
      f[15] = 0x92;
      const v = 0x9234;
      expect(emu.run(f).skb).toMatchObject({
        mark: v, priority: v * 3, tc_index: (v * 5) & 0xffff, tc_classid: (v * 11) & 0xffff, queue_mapping: v & 0xff,
        cb: [0, 0, v * 7, 0, 0],
      });
    });

    it('fields set for one run do not leak into the next, and earlier outputs keep their own values', () => {
      const emu = Emulator.fromObject(obj('helpers'), { program: 'ctx_fields' });
      const f = frame(60);
      const first = emu.run(f, { ingress_ifindex: 77, hash: 0x55, tstamp: 9n, cb: [1, 2, 3, 4, 5] });
      const second = emu.run(f);
      const third = emu.run(f);
      const fresh = Emulator.fromObject(obj('helpers'), { program: 'ctx_fields' }).run(f);
      expect([second.retval, second.skb, third.retval, third.skb]).toEqual([fresh.retval, fresh.skb, fresh.retval, fresh.skb]);
      expect(first.skb).toMatchObject({ ingress_ifindex: 77, hash: 0x55, tstamp: 9n });
      const cb = first.skb!.cb as number[];
      expect([cb[0], cb[1], cb[3], cb[4]]).toEqual([1, 2, 4, 5]);
      expect(first.retval).not.toBe(fresh.retval);
    });

    it('the object needs a program name when it has several', () => {
      expect(() => Emulator.fromObject(obj('faults'))).toThrow(EmulatorError);
      expect(() => Emulator.fromObject(obj('faults'), { program: 'nope' })).toThrow(/no program 'nope'/);
    });
  });

  /** Frames the kernel accepts, with the bytes the programs read their knobs from varied widely. */
  const frames = fc
    .oneof(arbFrame({ maxPayload: 80 }), arbAnyFrame(), fc.uint8Array({ minLength: 14, maxLength: 200 }).map((bytes) => ({ bytes, layers: [] })))
    .filter((f) => {
      if (f.bytes.length < 14) return false;
      if (f.layers.length === 0) {
        const type = (f.bytes[12]! << 8) | f.bytes[13]!;
        return !(type === ETHERTYPE.ipv4 && f.bytes.length < 34) && !(type === ETHERTYPE.ipv6 && f.bytes.length < 54);
      }
      const type = outerEtherType(f.layers);
      return !(type === ETHERTYPE.ipv4 && f.bytes.length < 34) && !(type === ETHERTYPE.ipv6 && f.bytes.length < 54);
    });

  describe.skipIf(!haveRoot())('helpers agree with the kernel', () => {
    const cases: [string, string][] = [
      ['helpers', 'load_store'], ['helpers', 'csums'], ['helpers', 'diff'], ['helpers', 'reshape'], ['helpers', 'ctx_fields'],
      ['helpers', 'cg_view'], ['helpers', 'sock_view'], ['xdp_adjust', 'adjust'], ['xdp_adjust', 'view'],
      ['helpers', 'perf_out'],
    ];
    for (const [file, program] of cases) {
      it(`${file}.c ${program}`, () => {
        const bytes = obj(file);
        const loaded = loadObject(bytes, { programs: [program], objectName: 'helpertest' });
        try {
          const emu = Emulator.fromObject(bytes, { program });
          fc.assert(
            fc.property(frames, (f) => {
              const k = progTestRun(loaded.programs[0]!.fd, { dataIn: f.bytes, dataSizeOut: 4096 });
              const e = emu.run(f.bytes);
              const out = e.meta ? Uint8Array.from([...e.meta, ...e.packet]) : e.packet;
              expect({ retval: e.retval, packet: hex(out) }).toEqual({ retval: k.retval, packet: hex(k.dataOut ?? new Uint8Array()) });
              for (const m of loaded.maps.filter((x) => x.spec.type === 2)) {
                const key = new Uint8Array(4);
                expect(hex(emu.maps.get(m.spec.objectName).lookup(key)!)).toBe(hex(mapLookupElem(m.fd, key, m.spec.valueSize)!));
              }
            }),
            { numRuns: Number(process.env.HELPER_RUNS ?? 300) },
          );
        } finally {
          loaded.close();
        }
      });
    }
  });
});
