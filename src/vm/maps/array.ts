// BPF_MAP_TYPE_ARRAY and PERCPU_ARRAY: every index exists from creation and cannot be deleted. Each
// element is its own region (mapped on first use), so an access past a value faults.
import { BPF_F_RDONLY_PROG, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_NOEXIST, E2BIG, EEXIST, EINVAL } from '../../uapi/index.js';
import type { Memory } from '../memory.js';
import { BpfMap, roundUp8, type MapDef } from './map.js';

export function arrayIndex(key: Uint8Array): number {
  return key.length === 4 ? (key[0]! | (key[1]! << 8) | (key[2]! << 16) | (key[3]! << 24)) >>> 0 : -1;
}

export class ArrayMap extends BpfMap {
  readonly percpu: boolean;
  /** Per CPU: all elements back to back, valueSize apart. */
  private readonly data: Uint8Array[];
  private readonly pointers: (bigint | undefined)[][];

  constructor(def: MapDef, memory: Memory, cpus = 1) {
    super(def, memory, cpus);
    this.percpu = def.type === BPF_MAP_TYPE_PERCPU_ARRAY;
    const n = this.percpu ? cpus : 1;
    this.data = Array.from({ length: n }, () => new Uint8Array(def.valueSize * def.maxEntries));
    this.pointers = Array.from({ length: n }, () => []);
  }

  /** The live bytes of element `index` (CPU 0 unless given), e.g. to initialise .data/.rodata. */
  element(index: number, cpu = 0): Uint8Array {
    const size = this.def.valueSize;
    return this.data[this.percpu ? cpu : 0]!.subarray(index * size, (index + 1) * size);
  }

  /** Pointer to element `index` for `cpu`, mapping it on first use. */
  elementPointer(index: number, cpu = 0): bigint {
    const c = this.percpu ? cpu : 0;
    let p = this.pointers[c]![index];
    if (p === undefined) {
      const writable = (this.def.flags & BPF_F_RDONLY_PROG) === 0;
      p = this.memory.map(this.element(index, c), `${this.typeName} '${this.def.name}'[${index}]`, writable);
      this.pointers[c]![index] = p;
    }
    return p;
  }

  lookupPointer(key: Uint8Array, cpu: number): bigint {
    const i = arrayIndex(key);
    return i < 0 || i >= this.def.maxEntries ? 0n : this.elementPointer(i, cpu);
  }

  lookup(key: Uint8Array): Uint8Array | undefined {
    const i = arrayIndex(key);
    if (i < 0 || i >= this.def.maxEntries) return undefined;
    if (!this.percpu) return this.element(i).slice();
    const stride = roundUp8(this.def.valueSize);
    const out = new Uint8Array(stride * this.cpus);
    for (let c = 0; c < this.cpus; c++) out.set(this.element(i, c), c * stride);
    return out;
  }

  update(key: Uint8Array, value: Uint8Array, flags: number, cpu?: number): number {
    const bad = this.checkFlags(flags);
    if (bad) return bad;
    const i = arrayIndex(key);
    if (i < 0) return -EINVAL;
    if (i >= this.def.maxEntries) return -E2BIG;
    if (flags === BPF_NOEXIST) return -EEXIST;
    const size = this.def.valueSize;
    if (!this.percpu || cpu !== undefined) {
      if (value.length < size) return -EINVAL;
      this.element(i, cpu ?? 0).set(value.subarray(0, size));
      return 0;
    }
    const stride = roundUp8(size);
    if (value.length < stride * (this.cpus - 1) + size) return -EINVAL;
    for (let c = 0; c < this.cpus; c++) this.element(i, c).set(value.subarray(c * stride, c * stride + size));
    return 0;
  }

  delete(_key: Uint8Array): number {
    return -EINVAL;
  }

  nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    const i = key === undefined ? -1 : arrayIndex(key);
    const next = i < 0 || i >= this.def.maxEntries ? 0 : i + 1;
    if (next >= this.def.maxEntries) return undefined;
    return new Uint8Array(new Uint32Array([next]).buffer);
  }
}
