// Map commands through our bpf() binding, checked against bpftool reading the same maps by id.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MapSizeError,
  SyscallError,
  mapCreate,
  mapDeleteElem,
  mapFreeze,
  mapGetFdById,
  mapGetInfo,
  mapGetNextId,
  mapGetNextKey,
  mapKeys,
  mapLookupElem,
  mapUpdateElem,
  type Fd,
} from '../../src/loader/raw.js';
import {
  BPF_EXIST, BPF_F_NO_PREALLOC, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, BPF_NOEXIST,
} from '../../src/uapi/bpf.js';
import { haveRoot, tool } from '../helpers/env.js';
import { json, thrown } from './fixtures.js';

const root = haveRoot();
const bpftool = root ? tool('bpftool') : undefined;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const u32 = (v: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
};

/** bpftool's view of a map without BTF: key/value byte arrays as "0x.." strings. */
function bpftoolDump(id: number): Map<string, string> {
  const rows = json<{ key: string[]; value: string[] }[]>(bpftool!, ['map', 'dump', 'id', String(id), '-j']);
  const parse = (bytes: string[]) => bytes.map((x) => x.slice(2).padStart(2, '0')).join('');
  return new Map(rows.map((r) => [parse(r.key), parse(r.value)]));
}

function withMap<T>(fd: Fd, fn: (fd: Fd) => T): T {
  try {
    return fn(fd);
  } finally {
    fd.close();
  }
}

describe.skipIf(!root || !bpftool)('bpf() map commands (oracle: bpftool)', () => {
  it('creates a named hash map whose info matches bpftool map show', () => {
    withMap(mapCreate({ type: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries: 32, name: 'bpfts_hash', flags: BPF_F_NO_PREALLOC }), (m) => {
      const info = mapGetInfo(m);
      const shown = json<Record<string, unknown>>(bpftool!, ['map', 'show', 'id', String(info.id), '-j']);
      expect(shown).toMatchObject({
        id: info.id,
        type: 'hash',
        name: 'bpfts_hash',
        bytes_key: 4,
        bytes_value: 8,
        max_entries: 32,
        flags: BPF_F_NO_PREALLOC,
      });
      expect(info).toMatchObject({ type: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries: 32, name: 'bpfts_hash' });
    });
  });

  it('update / lookup / get_next_key / delete round trip agrees with bpftool map dump', () => {
    withMap(mapCreate({ type: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries: 16 }), (m) => {
      const id = mapGetInfo(m).id;
      const entries = [1, 7, 0xdeadbeef, 42].map((k, i) => [u32(k), Uint8Array.from({ length: 8 }, (_, j) => (i * 31 + j * 7) & 0xff)] as const);
      for (const [k, v] of entries) mapUpdateElem(m, k, v);
      const dumped = bpftoolDump(id);
      expect(dumped.size).toBe(entries.length);
      for (const [k, v] of entries) {
        expect(dumped.get(hex(k))).toBe(hex(v));
        expect(hex(mapLookupElem(m, k, 8)!)).toBe(hex(v));
      }
      expect(new Set(mapKeys(m, 4).map(hex))).toEqual(new Set(dumped.keys()));
      expect(mapLookupElem(m, u32(99), 8)).toBeUndefined();
      expect(mapDeleteElem(m, u32(7))).toBe(true);
      expect(mapDeleteElem(m, u32(7))).toBe(false);
      expect(bpftoolDump(id).has(hex(u32(7)))).toBe(false);
    });
  });

  it('honours BPF_NOEXIST / BPF_EXIST with EEXIST / ENOENT errors that name the command', () => {
    withMap(mapCreate({ type: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 4, maxEntries: 4 }), (m) => {
      mapUpdateElem(m, u32(1), u32(10), BPF_NOEXIST);
      const dup = (() => {
        try {
          mapUpdateElem(m, u32(1), u32(11), BPF_NOEXIST);
        } catch (e) {
          return e;
        }
      })();
      expect(dup).toBeInstanceOf(SyscallError);
      expect(dup).toMatchObject({ errnoName: 'EEXIST', command: 'BPF_MAP_UPDATE_ELEM' });
      expect(() => mapUpdateElem(m, u32(2), u32(20), BPF_EXIST)).toThrow(/BPF_MAP_UPDATE_ELEM failed with ENOENT/);
      for (let k = 2; k <= 4; k++) mapUpdateElem(m, u32(k), u32(k));
      expect(() => mapUpdateElem(m, u32(5), u32(5))).toThrow(/E2BIG|ENOSPC/);
    });
  });

  it('matches a model and bpftool over random update/delete sequences', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 0xffff })), { maxLength: 40 }),
        (ops) => {
          withMap(mapCreate({ type: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 4, maxEntries: 16 }), (m) => {
            const model = new Map<string, string>();
            for (const [del, k, v] of ops) {
              if (del) expect(mapDeleteElem(m, u32(k))).toBe(model.delete(hex(u32(k))));
              else {
                mapUpdateElem(m, u32(k), u32(v));
                model.set(hex(u32(k)), hex(u32(v)));
              }
            }
            const ours = new Map(mapKeys(m, 4).map((k) => [hex(k), hex(mapLookupElem(m, k, 4)!)]));
            expect(ours).toEqual(model);
            expect(bpftoolDump(mapGetInfo(m).id)).toEqual(model);
          });
        },
      ),
      { numRuns: 15 },
    );
  });

  it('reads an array map in index order and refuses deletes with EINVAL', () => {
    withMap(mapCreate({ type: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 4, maxEntries: 3 }), (m) => {
      mapUpdateElem(m, u32(2), u32(0x01020304));
      expect(mapKeys(m, 4).map(hex)).toEqual([0, 1, 2].map((i) => hex(u32(i))));
      expect([...bpftoolDump(mapGetInfo(m).id).values()]).toEqual(['00000000', '00000000', '04030201']);
      expect(() => mapDeleteElem(m, u32(0))).toThrow(/EINVAL/);
    });
  });

  it('freezes a map so that user-space updates fail with EPERM', () => {
    withMap(mapCreate({ type: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 }), (m) => {
      mapUpdateElem(m, u32(0), u32(5));
      mapFreeze(m);
      expect(() => mapUpdateElem(m, u32(0), u32(6))).toThrow(/BPF_MAP_UPDATE_ELEM failed with EPERM: the map is frozen/);
      expect(hex(mapLookupElem(m, u32(0), 4)!)).toBe(hex(u32(5)));
      expect(json<{ frozen?: number }>(bpftool!, ['map', 'show', 'id', String(mapGetInfo(m).id), '-j']).frozen).toBe(1);
    });
  });

  it('finds a map by id and opens a second descriptor to it', () => {
    withMap(mapCreate({ type: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, name: 'by_id' }), (m) => {
      const id = mapGetInfo(m).id;
      const ids: number[] = [];
      for (let i = mapGetNextId(0); i !== undefined; i = mapGetNextId(i)) ids.push(i);
      expect(ids).toContain(id);
      const listed = json<{ id: number }[]>(bpftool!, ['map', 'show', '-j']).map((x) => x.id);
      expect(ids.filter((i) => i <= id)).toEqual(listed.filter((i) => i <= id).sort((a, b) => a - b));
      withMap(mapGetFdById(id), (again) => {
        expect(again.value).not.toBe(m.value);
        mapUpdateElem(again, u32(0), u32(77));
        expect(hex(mapLookupElem(m, u32(0), 4)!)).toBe(hex(u32(77)));
      });
    });
  });

  it('explains invalid arguments: EINVAL for a zero key size in a hash map', () => {
    let err: unknown;
    try {
      mapCreate({ type: BPF_MAP_TYPE_HASH, keySize: 0, valueSize: 4, maxEntries: 1 }).close();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SyscallError);
    expect(err).toMatchObject({ command: 'BPF_MAP_CREATE', errno: 22, errnoName: 'EINVAL' });
    expect((err as SyscallError).message).toMatch(/wrong key\/value size/);
  });
  // A 1 KiB per-CPU array looked up with a value_size buffer once let the kernel write
  // 1 KiB per possible CPU into it: node aborted with "malloc(): invalid size".
  it('sizes per-CPU lookups from the map info: one 8-byte aligned slot per possible CPU, as bpftool dumps them', () => {
    withMap(mapCreate({ type: BPF_MAP_TYPE_PERCPU_ARRAY, keySize: 4, valueSize: 1024, maxEntries: 2, name: 'pcpu_1k' }), (m) => {
      const id = mapGetInfo(m).id;
      const rows = json<{ key: string[]; values: { cpu: number; value: string[] }[] }[]>(bpftool!, ['map', 'dump', 'id', String(id), '-j']);
      const cpus = rows[0]!.values.length;
      const e = thrown(() => mapLookupElem(m, u32(0), 1024));
      expect(e).toBeInstanceOf(MapSizeError);
      expect(e).toMatchObject({ map: 'pcpu_1k', what: 'value', expected: 1024 * cpus, given: 1024 });
      const all = new Uint8Array(1024 * cpus);
      for (let c = 0; c < cpus; c++) all.fill(c + 1, c * 1024, c * 1024 + 1024);
      expect(thrown(() => mapUpdateElem(m, u32(1), all.subarray(0, 1024)))).toMatchObject({ expected: 1024 * cpus, given: 1024 });
      mapUpdateElem(m, u32(1), all);
      const got = mapLookupElem(m, u32(1))!;
      expect(got.byteLength).toBe(1024 * cpus);
      const dumped = json<{ key: string[]; values: { cpu: number; value: string[] }[] }[]>(bpftool!, ['map', 'dump', 'id', String(id), '-j']);
      const one = dumped.find((r) => r.key.map(Number).join() === '1,0,0,0')!;
      expect(one.values.map((v) => v.value.map(Number))).toEqual(Array.from({ length: cpus }, (_, c) => [...got.subarray(c * 1024, c * 1024 + 1024)]));
      expect(one.values.map((v) => v.value[0])).toEqual(Array.from({ length: cpus }, (_, c) => `0x${(c + 1).toString(16).padStart(2, '0')}`));
    });
  });

  it('pads per-CPU values of odd sizes to 8 bytes per CPU', () => {
    withMap(mapCreate({ type: BPF_MAP_TYPE_PERCPU_HASH, keySize: 4, valueSize: 12, maxEntries: 4 }), (m) => {
      const id = mapGetInfo(m).id;
      const probe = new Uint8Array(0);
      const e = thrown(() => mapUpdateElem(m, u32(3), probe)) as MapSizeError;
      expect(e).toBeInstanceOf(MapSizeError);
      expect(e.expected % 16).toBe(0);
      const all = Uint8Array.from({ length: e.expected }, (_, i) => i % 16 < 12 ? (i % 251) + 1 : 0);
      mapUpdateElem(m, u32(3), all);
      const dumped = json<{ values: { value: string[] }[] }[]>(bpftool!, ['map', 'dump', 'id', String(id), '-j']);
      expect(dumped[0]!.values.length * 16).toBe(e.expected);
      expect(dumped[0]!.values.map((v) => v.value.map(Number))).toEqual(dumped[0]!.values.map((_, c) => [...all.subarray(c * 16, c * 16 + 12)]));
    });
  });

  it('refuses keys of the wrong size before the kernel reads or writes past them', () => {
    withMap(mapCreate({ type: BPF_MAP_TYPE_HASH, keySize: 16, valueSize: 4, maxEntries: 4, name: 'k16' }), (m) => {
      mapUpdateElem(m, new Uint8Array(16).fill(7), u32(1));
      expect(thrown(() => mapGetNextKey(m, undefined, 4))).toMatchObject({ name: 'MapSizeError', map: 'k16', what: 'key', expected: 16, given: 4 });
      expect(thrown(() => mapGetNextKey(m, new Uint8Array(4)))).toMatchObject({ what: 'key', expected: 16, given: 4 });
      expect(thrown(() => mapLookupElem(m, new Uint8Array(4)))).toMatchObject({ what: 'key', expected: 16, given: 4 });
      expect(thrown(() => mapDeleteElem(m, new Uint8Array(4)))).toMatchObject({ what: 'key', expected: 16, given: 4 });
      expect(thrown(() => mapUpdateElem(m, new Uint8Array(4), u32(1)))).toMatchObject({ what: 'key', expected: 16, given: 4 });
      expect(hex(mapGetNextKey(m, undefined)!)).toBe('07'.repeat(16));
      expect(mapKeys(m).map(hex)).toEqual([...bpftoolDump(mapGetInfo(m).id).keys()]);
    });
  });
});
