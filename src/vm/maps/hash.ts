// BPF_MAP_TYPE_HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH. Each value lives in its own region, so
// a pointer kept after delete faults instead of reading another element.
import {
  BPF_EXIST,
  BPF_MAP_TYPE_LRU_HASH,
  BPF_MAP_TYPE_LRU_PERCPU_HASH,
  BPF_MAP_TYPE_PERCPU_HASH,
  BPF_NOEXIST,
  E2BIG,
  EEXIST,
  EINVAL,
  ENOENT,
} from '../../uapi/index.js';
import type { Memory } from '../memory.js';
import { BpfMap, keyString, roundUp8, type MapDef } from './map.js';

interface Entry {
  key: Uint8Array;
  /** One value per CPU (one for the shared maps). */
  values: Uint8Array[];
  pointers: bigint[];
}

export class HashMap extends BpfMap {
  private readonly entries = new Map<string, Entry>();
  readonly percpu: boolean;
  readonly lru: boolean;

  constructor(def: MapDef, memory: Memory, cpus = 1) {
    super(def, memory, cpus);
    this.percpu = def.type === BPF_MAP_TYPE_PERCPU_HASH || def.type === BPF_MAP_TYPE_LRU_PERCPU_HASH;
    this.lru = def.type === BPF_MAP_TYPE_LRU_HASH || def.type === BPF_MAP_TYPE_LRU_PERCPU_HASH;
  }

  get size(): number {
    return this.entries.size;
  }

  private find(key: Uint8Array): Entry | undefined {
    if (key.length !== this.def.keySize) return undefined;
    const k = keyString(key);
    const e = this.entries.get(k);
    if (e !== undefined && this.lru) {
      // Most recently used last: Map keeps insertion order.
      this.entries.delete(k);
      this.entries.set(k, e);
    }
    return e;
  }

  lookupPointer(key: Uint8Array, cpu: number): bigint {
    const e = this.find(key);
    return e === undefined ? 0n : e.pointers[this.percpu ? cpu : 0]!;
  }

  lookup(key: Uint8Array): Uint8Array | undefined {
    const e = this.find(key);
    if (e === undefined) return undefined;
    if (!this.percpu) return e.values[0]!.slice();
    const stride = roundUp8(this.def.valueSize);
    const out = new Uint8Array(stride * this.cpus);
    e.values.forEach((v, i) => out.set(v, i * stride));
    return out;
  }

  update(key: Uint8Array, value: Uint8Array, flags: number, cpu?: number): number {
    const bad = this.checkFlags(flags);
    if (bad) return bad;
    if (key.length !== this.def.keySize) return -EINVAL;
    const stride = roundUp8(this.def.valueSize);
    const fromProgram = cpu !== undefined;
    const expected = this.percpu && !fromProgram ? stride * this.cpus : this.def.valueSize;
    if (value.length < (this.percpu && !fromProgram ? stride * (this.cpus - 1) + this.def.valueSize : expected)) {
      return -EINVAL;
    }
    const k = keyString(key);
    let e = this.entries.get(k);
    if (e !== undefined && flags === BPF_NOEXIST) return -EEXIST;
    if (e === undefined && flags === BPF_EXIST) return -ENOENT;
    if (e === undefined) {
      if (this.entries.size >= this.def.maxEntries) {
        if (!this.lru) return -E2BIG;
        const oldest = this.entries.keys().next().value as string;
        this.remove(oldest);
      }
      const values: Uint8Array[] = [];
      const pointers: bigint[] = [];
      for (let c = 0; c < (this.percpu ? this.cpus : 1); c++) {
        const v = new Uint8Array(this.def.valueSize);
        values.push(v);
        pointers.push(this.memory.map(v, `${this.typeName} '${this.def.name}' value`));
      }
      e = { key: key.slice(), values, pointers };
    } else {
      this.entries.delete(k);
    }
    this.entries.set(k, e);
    if (!this.percpu) e.values[0]!.set(value.subarray(0, this.def.valueSize));
    else if (fromProgram) e.values[cpu]!.set(value.subarray(0, this.def.valueSize));
    else e.values.forEach((v, i) => v.set(value.subarray(i * stride, i * stride + this.def.valueSize)));
    return 0;
  }

  delete(key: Uint8Array): number {
    if (key.length !== this.def.keySize) return -EINVAL;
    const k = keyString(key);
    if (!this.entries.has(k)) return -ENOENT;
    this.remove(k);
    return 0;
  }

  private remove(k: string): void {
    const e = this.entries.get(k)!;
    for (const p of e.pointers) this.memory.unmap(p);
    this.entries.delete(k);
  }

  nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    const keys = [...this.entries.values()].map((e) => e.key);
    if (key === undefined) return keys[0]?.slice();
    const k = keyString(key);
    const i = keys.findIndex((x) => keyString(x) === k);
    return (i < 0 ? keys[0] : keys[i + 1])?.slice();
  }
}
