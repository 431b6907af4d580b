// Maps of maps and statically initialised prog arrays (progs/map_in_map.c), against the C source's
// initialisers and against the kernel: the same user-space updates (map fds into outer maps, with the
// kernel's errno on a refused one) and packets go to both; return codes, packets, which map every
// outer slot holds, and every inner map's contents must agree.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadObject,
  mapCreate,
  mapDeleteElem,
  mapGetInfo,
  mapKeys,
  mapLookupElem,
  mapUpdateElem,
  progTestRun,
  SyscallError,
  type Fd,
  type LoadedObject,
} from '../../src/loader/raw.js';
import { Emulator, EmulatorError, VmFault, type MapDef } from '../../src/vm/index.js';
import { corpusDir, haveCorpus, haveRoot } from '../helpers/env.js';
import { clang, prog } from './progs.js';
import { hex } from './spec.js';

// include/uapi/linux/bpf.h
const HASH = 1, ARRAY = 2;
const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);

/** A 60-byte frame of an unassigned EtherType whose bytes 14.. are `knobs`. */
function frame(knobs: readonly number[]): Uint8Array {
  const f = new Uint8Array(60);
  f[12] = 0x88;
  f[13] = 0xb5;
  f.set(knobs, 14);
  return f;
}

/** Maps user space creates besides the object's: two that fit the inner definitions, three that do not. */
const EXTRA: Record<string, MapDef> = {
  extra_arr: { type: ARRAY, keySize: 4, valueSize: 8, maxEntries: 4 },
  // Hash inner maps may differ in max_entries (bpf_map_meta_equal), arrays may not (array_map_meta_equal).
  extra_hash: { type: HASH, keySize: 4, valueSize: 4, maxEntries: 2 },
  wide_arr: { type: ARRAY, keySize: 4, valueSize: 8, maxEntries: 5 },
  wide_hash: { type: HASH, keySize: 4, valueSize: 8, maxEntries: 8 },
  other_type: { type: HASH, keySize: 4, valueSize: 8, maxEntries: 4 },
};
const OBJECT_MAPS = ['arr_a', 'arr_b', 'hash_a', 'hash_b'];
const TARGETS = [...OBJECT_MAPS, ...Object.keys(EXTRA), 'outer_arr'];
const OUTERS = ['outer_arr', 'outer_hash'] as const;

describe.skipIf(!clang)('maps of maps in the emulator', () => {
  it('the static initialisers fill the slots the source names, and tail calls reach the initialised programs', () => {
    const emu = Emulator.fromObject(prog('map_in_map'), { program: 'tail_caller' });
    const slots = (outer: string) => emu.maps.get(outer).entries().map(([k]) => [k[0], emu.maps.get(outer).inner(k)?.name]);
    expect(slots('outer_arr')).toEqual([[0, 'arr_a'], [2, 'arr_b']]);
    expect(slots('outer_hash').sort()).toEqual([[1, 'hash_a'], [3, 'hash_b']]);
    // tail_one returns 100 + byte 20, tail_three 300, the caller 7 when the slot is empty.
    expect([0, 1, 2, 3].map((i) => emu.run(frame([0, 0, 0, 0, 0, i, 9])).retval)).toEqual([7, 109, 7, 300]);
  });

  it('inner maps from user space: setInner checks them against the inner definition', () => {
    const emu = Emulator.fromObject(prog('map_in_map'), { program: 'lookup_inner' });
    const outer = emu.maps.get('outer_arr');
    expect(outer.innerDef).toMatchObject({ type: ARRAY, keySize: 4, valueSize: 8, maxEntries: 4 });
    const extra = emu.maps.create('extra', outer.innerDef!);
    extra.update(u32(2), new Uint8Array(8).fill(1));
    outer.setInner(u32(1), extra);
    // Outer index 1, inner index 2, value 4: the counter goes up by 5.
    expect(emu.run(frame([1, 2, 0, 0, 4])).retval & 3).toBe(3);
    expect(hex(extra.lookup(u32(2))!)).toBe('0601010101010101');
    expect(() => outer.setInner(u32(3), 'hash_a')).toThrow(EmulatorError);
    expect(() => outer.setInner(u32(4), 'arr_a')).toThrow(/errno 7/);
    outer.setInner(u32(1), undefined);
    expect(outer.inner(u32(1))).toBeUndefined();
    expect(() => emu.maps.get('arr_a').setInner(u32(0), 'arr_b')).toThrow(/not a map of maps/);
  });

  describe.skipIf(!haveRoot())('agree with the kernel (BPF_PROG_TEST_RUN)', () => {
    let loaded: LoadedObject;
    const extras = new Map<string, Fd>();
    const bytes = () => prog('map_in_map');
    beforeAll(() => {
      loaded = loadObject(bytes(), { objectName: 'mimtest' });
      for (const [name, d] of Object.entries(EXTRA)) extras.set(name, mapCreate({ ...d, name }));
    });
    afterAll(() => {
      loaded?.close();
      for (const fd of extras.values()) fd.close();
    });

    const kernelFd = (name: string): Fd => extras.get(name) ?? loaded.maps.find((m) => m.spec.objectName === name)!.fd;
    const program = (name: string) => loaded.programs.find((p) => p.name === name)!.fd;
    const errno = (f: () => unknown): number => {
      try {
        f();
        return 0;
      } catch (e) {
        if (e instanceof SyscallError) return -e.errno;
        throw e;
      }
    };

    type Cmd =
      | { op: 'run'; knobs: number[] }
      | { op: 'set'; outer: (typeof OUTERS)[number]; key: number; target: string; flags: number }
      | { op: 'delete'; outer: (typeof OUTERS)[number]; key: number };
    const cmd: fc.Arbitrary<Cmd> = fc.oneof(
      { weight: 3, arbitrary: fc.record({ op: fc.constant('run' as const), knobs: fc.array(fc.nat(255), { minLength: 5, maxLength: 5 }) }) },
      fc.record({ op: fc.constant('set' as const), outer: fc.constantFrom(...OUTERS), key: fc.nat(5), target: fc.constantFrom(...TARGETS), flags: fc.constantFrom(0, 0, 1, 2) }),
      fc.record({ op: fc.constant('delete' as const), outer: fc.constantFrom(...OUTERS), key: fc.nat(5) }),
    );

    it('lookups through ARRAY_OF_MAPS and HASH_OF_MAPS, with inner maps swapped from user space', () => {
      // The interpreter (the reference) and the compiled program, each with its own maps.
      const emus = [false, true].map((compile) => {
        const emu = Emulator.fromObject(bytes(), { program: 'lookup_inner', compile });
        for (const [name, d] of Object.entries(EXTRA)) emu.maps.create(name, d);
        return emu;
      });
      const ids = new Map([...OBJECT_MAPS, ...Object.keys(EXTRA), ...OUTERS].map((n) => [mapGetInfo(kernelFd(n)).id, n]));
      const lookup = program('lookup_inner');

      const kernelState = () => ({
        slots: Object.fromEntries(OUTERS.map((o) => [o, mapKeys(kernelFd(o), 4).flatMap((k) => {
          const v = mapLookupElem(kernelFd(o), k, 4);
          return v === undefined ? [] : [`${hex(k)}=${ids.get(new DataView(v.buffer, v.byteOffset).getUint32(0, true))}`];
        }).sort()])),
        contents: Object.fromEntries([...OBJECT_MAPS, 'extra_arr', 'extra_hash'].map((n) => {
          const size = n.includes('arr') ? 8 : 4;
          return [n, mapKeys(kernelFd(n), 4).map((k) => `${hex(k)}=${hex(mapLookupElem(kernelFd(n), k, size)!)}`).sort()];
        })),
      });
      const emulatorState = (emu: Emulator) => ({
        slots: Object.fromEntries(OUTERS.map((o) => {
          const m = emu.maps.get(o);
          return [o, m.entries().map(([k]) => `${hex(k)}=${m.inner(k)!.name}`).sort()];
        })),
        contents: Object.fromEntries([...OBJECT_MAPS, 'extra_arr', 'extra_hash'].map((n) => [n, emu.maps.get(n).entries().map(([k, v]) => `${hex(k)}=${hex(v)}`).sort()])),
      });

      expect(emulatorState(emus[0]!).slots).toEqual(kernelState().slots);
      fc.assert(
        fc.property(fc.array(cmd, { minLength: 1, maxLength: 24 }), (cmds) => {
          for (const c of cmds) {
            if (c.op === 'run') {
              const f = frame(c.knobs);
              const k = progTestRun(lookup, { dataIn: f });
              for (const emu of emus) {
                const e = emu.run(f);
                expect({ c, retval: e.retval, packet: hex(e.packet) }).toEqual({ c, retval: k.retval, packet: hex(k.dataOut ?? new Uint8Array()) });
              }
            } else if (c.op === 'set') {
              const k = errno(() => mapUpdateElem(kernelFd(c.outer), u32(c.key), u32(kernelFd(c.target).value), c.flags));
              for (const emu of emus) {
                const e = emu.maps.get(c.outer).raw.update(u32(c.key), u32(emu.maps.get(c.target).fd), c.flags);
                expect({ c, errno: e }).toEqual({ c, errno: k });
              }
            } else {
              const k = errno(() => {
                if (!mapDeleteElem(kernelFd(c.outer), u32(c.key))) throw new SyscallError('BPF_MAP_DELETE_ELEM', 2, 'no such key');
              });
              for (const emu of emus) expect({ c, errno: emu.maps.get(c.outer).raw.delete(u32(c.key)) }).toEqual({ c, errno: k });
            }
          }
          const inKernel = kernelState();
          for (const emu of emus) expect(emulatorState(emu)).toEqual(inKernel);
        }),
        { numRuns: Number(process.env.DIFF_RUNS ?? 120) },
      );
    });

    it('tail calls through the statically initialised prog array', () => {
      const tail = program('tail_caller');
      const emus = [false, true].map((compile) => Emulator.fromObject(bytes(), { program: 'tail_caller', compile }));
      fc.assert(
        fc.property(fc.array(fc.nat(255), { minLength: 7, maxLength: 7 }), (knobs) => {
          const f = frame(knobs);
          const k = progTestRun(tail, { dataIn: f });
          for (const emu of emus) expect(emu.run(f).retval).toBe(k.retval);
        }),
        { numRuns: 100 },
      );
    });
  });
});

describe.skipIf(!haveCorpus())('the corpus map-in-map objects', () => {
  const file = (name: string) => readFileSync(join(corpusDir, 'ebpf-samples', 'build', `${name}.o`));
  // .text programs without a section type: run as tc classifiers.
  for (const name of ['map_in_map', 'map_in_map_anonymous', 'map_in_map_typedef']) {
    it.skipIf(!haveRoot())(`${name}.o runs as in the kernel, with the same outer slots`, () => {
      const bytes = file(name);
      const emu = Emulator.fromObject(bytes, { type: 'sched_cls' });
      const loaded = loadObject(bytes, { programs: ['func'], type: 'sched_cls', objectName: 'mimcorpus' });
      try {
        const f = frame([]);
        expect(emu.run(f).retval).toBe(progTestRun(loaded.programs[0]!.fd, { dataIn: f }).retval);
        for (const m of loaded.maps) {
          // Outer maps hold fds in the emulator and ids in the kernel: which slots are filled is compared.
          const outer = m.spec.type === 12 || m.spec.type === 13;
          const show = (k: Uint8Array, v: Uint8Array) => (outer ? hex(k) : `${hex(k)}=${hex(v)}`);
          const inKernel = mapKeys(m.fd, 4).flatMap((k) => {
            const v = mapLookupElem(m.fd, k, m.spec.valueSize);
            return v === undefined ? [] : [show(k, v)];
          });
          expect(emu.maps.get(m.spec.objectName).entries().map(([k, v]) => show(k, v))).toEqual(inKernel);
        }
      } finally {
        loaded.close();
      }
    });
  }

  it('map_in_map_legacy.o takes its inner definition from inner_map_idx', () => {
    const emu = Emulator.fromObject(file('map_in_map_legacy'), { type: 'sched_cls' });
    // maps/inner_map's bpf_map_def: BPF_MAP_TYPE_ARRAY, 4-byte keys, 8-byte values, 1 entry.
    expect(emu.maps.get('array_of_maps').innerDef).toMatchObject({ type: ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
    expect(emu.run(frame([])).retval).toBe(0);
  });

  // One `maps/NAME` section per map: inner_map_idx 1 counts the object's maps, not array_of_maps' own section.
  it.skipIf(!haveRoot())('map_in_map_legacy.o loads with the same inner template, which the kernel takes inner_map against', () => {
    const bytes = file('map_in_map_legacy');
    const emu = Emulator.fromObject(bytes, { type: 'sched_cls' });
    const loaded = loadObject(bytes, { programs: ['func'], type: 'sched_cls', objectName: 'mimlegacy' });
    try {
      const outer = loaded.maps.find((m) => m.spec.objectName === 'array_of_maps')!;
      const inner = loaded.maps.find((m) => m.spec.objectName === 'inner_map')!;
      const { type, keySize, valueSize, maxEntries } = outer.spec.inner!;
      expect(emu.maps.get('array_of_maps').innerDef).toMatchObject({ type, keySize, valueSize, maxEntries });
      // The kernel compares an inner map with the template the outer was created with (bpf_map_meta_equal).
      mapUpdateElem(outer.fd, u32(0), u32(inner.fd.value));
      expect(emu.maps.get('array_of_maps').raw.update(u32(0), u32(emu.maps.get('inner_map').fd!), 0)).toBe(0);
      const f = frame([]);
      expect(emu.run(f).retval).toBe(progTestRun(loaded.programs[0]!.fd, { dataIn: f }).retval);
    } finally {
      loaded.close();
    }
  });

  it('ringbuf_in_map.o builds; its lookup in a ring buffer, which the verifier refuses, faults', () => {
    const emu = Emulator.fromObject(file('ringbuf_in_map'), { type: 'sched_cls' });
    expect(emu.maps.get('array_of_maps').innerDef?.type).toBe(27);
    expect(() => emu.run(frame([]))).toThrow(VmFault);
  });
});
