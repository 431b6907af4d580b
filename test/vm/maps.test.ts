// Map semantics from the bpf() documentation (include/uapi/linux/bpf.h): model-based properties and
// the documented errno returns.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Memory, MapError, MapRegistry, type ArrayMap, type HashMap, type LpmTrieMap, type QueueStackMap, type RingBufMap } from '../../src/vm/index.js';

// Values of include/uapi/linux/bpf.h and errno-base.h, restated here as the oracle.
const HASH = 1, ARRAY = 2, PERCPU_HASH = 5, PERCPU_ARRAY = 6, LRU_HASH = 9, LPM = 11, QUEUE = 22, STACK = 23, RINGBUF = 27;
const ANY = 0, NOEXIST = 1, EXIST = 2;
const ENOENT = 2, E2BIG = 7, EEXIST = 17, EINVAL = 22, ENOSPC = 28;

const u32le = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);

describe('hash map', () => {
  it('behaves like a bounded dictionary with ANY/NOEXIST/EXIST (model-based)', () => {
    const op = fc.record({
      kind: fc.constantFrom('update', 'delete', 'lookup'),
      key: fc.integer({ min: 0, max: 7 }),
      value: fc.integer({ min: 0, max: 255 }),
      flags: fc.constantFrom(ANY, NOEXIST, EXIST),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const reg = new MapRegistry(new Memory());
        const m = reg.create({ type: HASH, keySize: 4, valueSize: 1, maxEntries: 4 }).map as HashMap;
        const model = new Map<number, number>();
        for (const o of ops) {
          const key = u32le(o.key);
          if (o.kind === 'update') {
            let want = 0;
            if (model.has(o.key) && o.flags === NOEXIST) want = -EEXIST;
            else if (!model.has(o.key) && o.flags === EXIST) want = -ENOENT;
            else if (!model.has(o.key) && model.size >= 4) want = -E2BIG;
            expect(m.update(key, new Uint8Array([o.value]), o.flags)).toBe(want);
            if (want === 0) model.set(o.key, o.value);
          } else if (o.kind === 'delete') {
            expect(m.delete(key)).toBe(model.delete(o.key) ? 0 : -ENOENT);
          } else {
            const got = m.lookup(key);
            expect(got === undefined ? undefined : got[0]).toBe(model.get(o.key));
          }
        }
        const keys: number[] = [];
        for (let k = m.nextKey(undefined); k !== undefined; k = m.nextKey(k)) keys.push(new Uint32Array(k.slice().buffer)[0]!);
        expect(keys.sort()).toEqual([...model.keys()].sort());
      }),
    );
  });

  it('refuses unknown flags and wrong key sizes with -EINVAL', () => {
    const m = new MapRegistry(new Memory()).create({ type: HASH, keySize: 4, valueSize: 4, maxEntries: 4 }).map;
    expect(m.update(u32le(1), u32le(1), 8)).toBe(-EINVAL);
    expect(m.update(new Uint8Array(3), u32le(1), ANY)).toBe(-EINVAL);
  });

  it('a value pointer dies with its element', () => {
    const mem = new Memory();
    const m = new MapRegistry(mem).create({ type: HASH, keySize: 4, valueSize: 4, maxEntries: 4 }).map;
    m.update(u32le(1), u32le(7), ANY);
    const p = m.lookupPointer(u32le(1), 0);
    expect(mem.slice(Number(p >> 32n), 0, 4, false)).toEqual(u32le(7));
    m.delete(u32le(1));
    expect(mem.slice(Number(p >> 32n), 0, 4, false)).toBeUndefined();
  });

  it('LRU hash evicts the least recently used element instead of failing', () => {
    const m = new MapRegistry(new Memory()).create({ type: LRU_HASH, keySize: 4, valueSize: 1, maxEntries: 3 }).map;
    for (const k of [1, 2, 3]) expect(m.update(u32le(k), new Uint8Array([k]), ANY)).toBe(0);
    m.lookupPointer(u32le(1), 0); // 1 is now the most recent; 2 is the oldest
    expect(m.update(u32le(4), new Uint8Array([4]), ANY)).toBe(0);
    expect(m.lookup(u32le(2))).toBeUndefined();
    for (const k of [1, 3, 4]) expect(m.lookup(u32le(k))?.[0]).toBe(k);
  });

  it('per-CPU hash keeps one value per CPU; user space sees them all, 8-byte aligned', () => {
    const m = new MapRegistry(new Memory(), 2).create({ type: PERCPU_HASH, keySize: 4, valueSize: 4, maxEntries: 2 }).map;
    const both = new Uint8Array(16);
    both.set(u32le(10), 0);
    both.set(u32le(20), 8);
    expect(m.update(u32le(1), both, ANY)).toBe(0);
    expect(m.update(u32le(1), u32le(21), EXIST, 1)).toBe(0);
    expect([...m.lookup(u32le(1))!]).toEqual([10, 0, 0, 0, 0, 0, 0, 0, 21, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('array maps', () => {
  it('exist at every index, cannot be deleted, refuse NOEXIST and out-of-range indexes', () => {
    const m = new MapRegistry(new Memory()).create({ type: ARRAY, keySize: 4, valueSize: 4, maxEntries: 3 }).map as ArrayMap;
    expect(m.lookup(u32le(2))).toEqual(new Uint8Array(4));
    expect(m.lookup(u32le(3))).toBeUndefined();
    expect(m.update(u32le(3), u32le(1), ANY)).toBe(-E2BIG);
    expect(m.update(u32le(0), u32le(1), NOEXIST)).toBe(-EEXIST);
    expect(m.update(u32le(0), u32le(9), EXIST)).toBe(0);
    expect(m.delete(u32le(0))).toBe(-EINVAL);
    expect(m.lookup(u32le(0))).toEqual(u32le(9));
    expect(m.nextKey(undefined)).toEqual(u32le(0));
    expect(m.nextKey(u32le(1))).toEqual(u32le(2));
    expect(m.nextKey(u32le(2))).toBeUndefined();
  });

  it('per-CPU arrays separate CPUs', () => {
    const m = new MapRegistry(new Memory(), 3).create({ type: PERCPU_ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 }).map;
    m.update(u32le(0), new Uint8Array([5, 0, 0, 0, 0, 0, 0, 0]), ANY, 2);
    expect([...m.lookup(u32le(0))!].filter((b) => b !== 0)).toEqual([5]);
    expect(m.lookup(u32le(0))![16]).toBe(5);
  });

  it('refuse bad definitions', () => {
    expect(() => new MapRegistry(new Memory()).create({ type: ARRAY, keySize: 8, valueSize: 4, maxEntries: 1 })).toThrow(MapError);
    expect(() => new MapRegistry(new Memory()).create({ type: 12345, keySize: 4, valueSize: 4, maxEntries: 1 })).toThrow(MapError);
  });
});

describe('LPM trie', () => {
  const key = (prefixlen: number, a: number, b: number, c: number, d: number) => new Uint8Array([...u32le(prefixlen), a, b, c, d]);
  it('returns the longest matching prefix (checked against a brute-force model)', () => {
    const prefix = fc.record({ len: fc.integer({ min: 0, max: 32 }), addr: fc.integer({ min: 0, max: 0xffffffff }), v: fc.integer({ min: 1, max: 255 }) });
    fc.assert(
      fc.property(fc.array(prefix, { maxLength: 12 }), fc.integer({ min: 0, max: 0xffffffff }), (prefixes, probe) => {
        const m = new MapRegistry(new Memory()).create({ type: LPM, keySize: 8, valueSize: 1, maxEntries: 64 }).map as LpmTrieMap;
        const model = new Map<string, { len: number; net: number; v: number }>();
        const mask = (len: number) => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);
        const be = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff] as const;
        for (const p of prefixes) {
          expect(m.update(key(p.len, ...be(p.addr)), new Uint8Array([p.v]), ANY)).toBe(0);
          const net = (p.addr & mask(p.len)) >>> 0;
          model.set(`${p.len}/${net}`, { len: p.len, net, v: p.v });
        }
        let best: { len: number; v: number } | undefined;
        for (const e of model.values()) {
          if (((probe & mask(e.len)) >>> 0) === e.net && (best === undefined || e.len > best.len)) best = e;
        }
        expect(m.lookup(key(32, ...be(probe)))?.[0]).toBe(best?.v);
      }),
    );
  });

  it('refuses prefixes longer than the data and reports ENOSPC when full', () => {
    const m = new MapRegistry(new Memory()).create({ type: LPM, keySize: 8, valueSize: 1, maxEntries: 1 }).map;
    expect(m.update(key(33, 1, 2, 3, 4), new Uint8Array([1]), ANY)).toBe(-EINVAL);
    expect(m.update(key(8, 10, 0, 0, 0), new Uint8Array([1]), ANY)).toBe(0);
    expect(m.update(key(16, 10, 1, 0, 0), new Uint8Array([1]), ANY)).toBe(-ENOSPC);
    expect(m.delete(key(16, 10, 1, 0, 0))).toBe(-ENOENT);
    expect(m.delete(key(8, 10, 99, 0, 0))).toBe(0);
  });
});

describe('queue and stack', () => {
  it('are FIFO and LIFO, bounded, and BPF_EXIST overwrites the oldest', () => {
    for (const [type, order] of [[QUEUE, [2, 3, 4]], [STACK, [4, 3, 2]]] as const) {
      const m = new MapRegistry(new Memory()).create({ type, keySize: 0, valueSize: 1, maxEntries: 3 }).map as QueueStackMap;
      for (const v of [1, 2, 3]) expect(m.push(new Uint8Array([v]), ANY)).toBe(0);
      expect(m.push(new Uint8Array([9]), ANY)).toBe(-E2BIG);
      expect(m.push(new Uint8Array([4]), EXIST)).toBe(0);
      expect(m.push(new Uint8Array([4]), NOEXIST)).toBe(-EINVAL);
      const got: number[] = [];
      for (let v = m.take(true); v !== undefined; v = m.take(true)) got.push(v[0]!);
      expect(got).toEqual(order);
    }
  });
});

describe('ring buffer', () => {
  it('accounts 8-byte headers and 8-byte rounding against its size', () => {
    const m = new MapRegistry(new Memory()).create({ type: RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 }).map as RingBufMap;
    // 4096 / (8 + 8) = 256 records of 5 bytes fit.
    for (let i = 0; i < 256; i++) expect(m.output(new Uint8Array(5))).toBe(0);
    expect(m.output(new Uint8Array(1))).toBeLessThan(0);
    expect(m.reserve(1)).toBe(0n);
    expect(m.drain()).toHaveLength(256);
    expect(m.reserve(4088)).not.toBe(0n);
  });
  it('refuses sizes that are not a power of two multiple of 4096', () => {
    expect(() => new MapRegistry(new Memory()).create({ type: RINGBUF, keySize: 0, valueSize: 0, maxEntries: 5000 })).toThrow(MapError);
  });
});

describe('maps of maps', () => {
  const ARRAY_OF_MAPS = 12, HASH_OF_MAPS = 13, EBADF = 9, BPF_F_INNER_MAP = 1 << 12;
  const inner = { type: ARRAY, keySize: 4, valueSize: 8, maxEntries: 4 };

  it('store fds of maps that fit the inner definition; lookups from programs give the inner map', () => {
    const reg = new MapRegistry(new Memory());
    const outer = reg.create({ type: ARRAY_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 2, inner }).map;
    const a = reg.create(inner);
    const longer = reg.create({ ...inner, maxEntries: 5 });
    const hash = reg.create({ type: HASH, keySize: 4, valueSize: 8, maxEntries: 4 });
    // kernel/bpf/arraymap.c bpf_fd_array_map_update_elem: flags other than BPF_ANY, then the index, then the fd.
    expect(outer.update(u32le(0), u32le(a.fd), NOEXIST)).toBe(-EINVAL);
    expect(outer.update(u32le(2), u32le(a.fd), ANY)).toBe(-E2BIG);
    expect(outer.update(u32le(0), u32le(99), ANY)).toBe(-EBADF);
    // map_in_map.c / array_map_meta_equal: the type, sizes, flags, and for arrays max_entries, must match.
    expect(outer.update(u32le(0), u32le(longer.fd), ANY)).toBe(-EINVAL);
    expect(outer.update(u32le(0), u32le(hash.fd), ANY)).toBe(-EINVAL);
    expect(outer.update(u32le(1), u32le(a.fd), ANY)).toBe(0);
    expect(outer.lookupPointer(u32le(1), 0)).toBe(a.map.handle);
    expect(outer.lookupPointer(u32le(0), 0)).toBe(0n);
    expect(reg.byHandle(outer.lookupPointer(u32le(1), 0))).toBe(a.map);
    expect(outer.delete(u32le(0))).toBe(-ENOENT);
    expect(outer.delete(u32le(1))).toBe(0);
  });

  it('an array template with BPF_F_INNER_MAP takes inner arrays of any size; hash inner maps may differ in max_entries', () => {
    const reg = new MapRegistry(new Memory());
    const flexible = { ...inner, flags: BPF_F_INNER_MAP };
    const arrays = reg.create({ type: ARRAY_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 1, inner: flexible }).map;
    expect(arrays.update(u32le(0), u32le(reg.create({ ...flexible, maxEntries: 9 }).fd), ANY)).toBe(0);
    const hashInner = { type: HASH, keySize: 4, valueSize: 4, maxEntries: 8 };
    const hashes = reg.create({ type: HASH_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 1, inner: hashInner }).map;
    const small = reg.create({ ...hashInner, maxEntries: 1 }).fd;
    expect(hashes.update(u32le(5), u32le(small), EXIST)).toBe(-ENOENT);
    expect(hashes.update(u32le(5), u32le(small), ANY)).toBe(0);
    expect(hashes.update(u32le(6), u32le(small), ANY)).toBe(-E2BIG);
    expect(hashes.update(u32le(5), u32le(small), NOEXIST)).toBe(-EEXIST);
  });

  it('need an inner definition, of one level only', () => {
    const reg = new MapRegistry(new Memory());
    expect(() => reg.create({ type: ARRAY_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 1 })).toThrow(MapError);
    const nested = { type: ARRAY_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 1, inner };
    expect(() => reg.create({ type: HASH_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 1, inner: nested })).toThrow(/one level/);
  });
});
