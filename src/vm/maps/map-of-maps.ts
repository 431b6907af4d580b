// BPF_MAP_TYPE_ARRAY_OF_MAPS and HASH_OF_MAPS (kernel/bpf/arraymap.c, hashtab.c, map_in_map.c). User
// space stores map fds; a program's lookup returns the inner map itself, which it then passes to the
// map helpers. Every inner map must match the template the outer map was created with.
import {
  BPF_ANY,
  BPF_EXIST,
  BPF_F_INNER_MAP,
  BPF_MAP_TYPE_ARRAY,
  BPF_MAP_TYPE_ARRAY_OF_MAPS,
  BPF_MAP_TYPE_PERCPU_ARRAY,
  BPF_NOEXIST,
  E2BIG,
  EBADF,
  EEXIST,
  EINVAL,
  ENOENT,
} from '../../uapi/index.js';
import type { Memory } from '../memory.js';
import { arrayIndex } from './array.js';
import { BpfMap, keyString, type MapDef } from './map.js';

/** How an outer map turns the fds user space gives into maps, and maps back into fds. */
export interface MapFds {
  fd(fd: number): BpfMap | undefined;
  fdOf(map: BpfMap): number | undefined;
}

/**
 * bpf_map_meta_equal(), and for arrays array_map_meta_equal(): the same type, sizes and flags, and for
 * an array template without BPF_F_INNER_MAP the same max_entries, since the verifier checked the
 * program's constant indexes against the template's.
 */
export function innerMapFits(template: MapDef, map: MapDef): boolean {
  if (template.type !== map.type || template.keySize !== map.keySize || template.valueSize !== map.valueSize) return false;
  if ((template.flags ?? 0) !== (map.flags ?? 0)) return false;
  const array = template.type === BPF_MAP_TYPE_ARRAY || template.type === BPF_MAP_TYPE_PERCPU_ARRAY;
  return !array || ((template.flags ?? 0) & BPF_F_INNER_MAP) !== 0 || template.maxEntries === map.maxEntries;
}

export class MapOfMapsMap extends BpfMap {
  readonly array: boolean;
  /** The inner map definition every stored map must fit. */
  readonly template: MapDef;
  private readonly fds: MapFds;
  /** Arrays: by index. Hashes: by key string, in insertion order. */
  private readonly slots = new Map<string | number, { key: Uint8Array; map: BpfMap }>();

  constructor(def: MapDef, template: MapDef, memory: Memory, fds: MapFds) {
    super(def, memory);
    this.array = def.type === BPF_MAP_TYPE_ARRAY_OF_MAPS;
    this.template = template;
    this.fds = fds;
  }

  private slot(key: Uint8Array): string | number | undefined {
    if (this.array) {
      const i = arrayIndex(key);
      return i < 0 || i >= this.def.maxEntries ? undefined : i;
    }
    return key.length === this.def.keySize ? keyString(key) : undefined;
  }

  /** The inner map stored under `key`. */
  inner(key: Uint8Array): BpfMap | undefined {
    const s = this.slot(key);
    return s === undefined ? undefined : this.slots.get(s)?.map;
  }

  lookupPointer(key: Uint8Array, _cpu: number): bigint {
    return this.inner(key)?.handle ?? 0n;
  }

  /** The stored map's fd, where the kernel answers with its map id. */
  lookup(key: Uint8Array): Uint8Array | undefined {
    const m = this.inner(key);
    const fd = m === undefined ? undefined : this.fds.fdOf(m);
    return fd === undefined ? undefined : new Uint8Array(new Uint32Array([fd]).buffer);
  }

  /** Store the map whose fd `value` holds (a u32). */
  update(key: Uint8Array, value: Uint8Array, flags: number): number {
    if (value.length < 4) return -EINVAL;
    const fd = new DataView(value.buffer, value.byteOffset, 4).getUint32(0, true);
    if (this.array) {
      // bpf_fd_array_map_update_elem: flags and index before the fd.
      if (flags !== BPF_ANY) return -EINVAL;
      const i = arrayIndex(key);
      if (i < 0) return -EINVAL;
      if (i >= this.def.maxEntries) return -E2BIG;
      const map = this.resolve(fd);
      if (typeof map === 'number') return map;
      this.slots.set(i, { key: key.slice(), map });
      return 0;
    }
    // bpf_fd_htab_map_update_elem: the fd first, then the hash table's own checks.
    const map = this.resolve(fd);
    if (typeof map === 'number') return map;
    const bad = this.checkFlags(flags);
    if (bad) return bad;
    if (key.length !== this.def.keySize) return -EINVAL;
    const k = keyString(key);
    const old = this.slots.get(k);
    if (old !== undefined && flags === BPF_NOEXIST) return -EEXIST;
    if (old === undefined && flags === BPF_EXIST) return -ENOENT;
    if (old === undefined && this.slots.size >= this.def.maxEntries) return -E2BIG;
    if (old !== undefined) old.map = map;
    else this.slots.set(k, { key: key.slice(), map });
    return 0;
  }

  private resolve(fd: number): BpfMap | number {
    const map = this.fds.fd(fd);
    if (map === undefined) return -EBADF;
    if (map instanceof MapOfMapsMap || !innerMapFits(this.template, map.def)) return -EINVAL;
    return map;
  }

  delete(key: Uint8Array): number {
    if (this.array) {
      const i = arrayIndex(key);
      if (i < 0) return -EINVAL;
      if (i >= this.def.maxEntries) return -E2BIG;
    }
    const s = this.slot(key);
    if (s === undefined) return -EINVAL;
    return this.slots.delete(s) ? 0 : -ENOENT;
  }

  nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    if (this.array) {
      const i = key === undefined ? -1 : arrayIndex(key);
      const next = i < 0 || i >= this.def.maxEntries ? 0 : i + 1;
      return next >= this.def.maxEntries ? undefined : new Uint8Array(new Uint32Array([next]).buffer);
    }
    const keys = [...this.slots.values()].map((e) => e.key);
    if (key === undefined) return keys[0]?.slice();
    const k = keyString(key);
    const i = keys.findIndex((x) => keyString(x) === k);
    return (i < 0 ? keys[0] : keys[i + 1])?.slice();
  }
}
