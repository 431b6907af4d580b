// The emulator's maps with keys and values as C values, through the same BTF codec as
// bpfts/loader's maps, so that a test of the emulator reads like the program that runs on the kernel.
import { BtfCodec, type Btf, type CValue, type Encodable } from '../btf/index.js';
import type { BpfObject } from '../object/index.js';
import { PERCPU_MAP_TYPES } from '../uapi/index.js';
import type { EmulatedMap } from './emulator.js';
import { EmulatorError } from './object.js';

export class TypedEmulatedMap<K = CValue, V = CValue> {
  readonly #keys: BtfCodec;
  readonly #values: BtfCodec;
  readonly #perCpu: boolean;

  /** @internal */
  constructor(
    readonly raw: EmulatedMap,
    btf: Btf | undefined,
    keyTypeId: number,
    valueTypeId: number,
  ) {
    this.#keys = new BtfCodec(btf, keyTypeId, raw.keySize);
    this.#values = new BtfCodec(btf, valueTypeId, raw.valueSize);
    this.#perCpu = PERCPU_MAP_TYPES.has(raw.raw.def.type);
  }

  get name(): string {
    return this.raw.name;
  }

  /** CPUs a per-CPU map keeps values for (each value then an array of that length); else undefined. */
  get cpus(): number | undefined {
    return this.#perCpu ? this.raw.raw.cpus : undefined;
  }

  #key(k: Encodable<K>): Uint8Array {
    return this.#keys.encode(k as CValue, { path: `map '${this.name}' key` });
  }

  #value(v: Encodable<V>): Uint8Array {
    if (v instanceof Uint8Array) return v;
    const cpus = this.cpus;
    if (cpus === undefined) return this.#values.encode(v as CValue, { path: `map '${this.name}' value` });
    if (!Array.isArray(v) || v.length !== cpus) throw new EmulatorError(`map '${this.name}' is per-CPU: give an array of ${cpus} values`);
    const stride = (this.raw.valueSize + 7) & ~7;
    const out = new Uint8Array(stride * cpus);
    (v as CValue[]).forEach((x, c) => out.set(this.#values.encode(x, { path: `map '${this.name}' value[cpu ${c}]` }), c * stride));
    return out;
  }

  #decode(bytes: Uint8Array): V {
    const cpus = this.cpus;
    if (cpus === undefined) return this.#values.decode(bytes) as V;
    const stride = (this.raw.valueSize + 7) & ~7;
    return Array.from({ length: cpus }, (_, c) => this.#values.decode(bytes.subarray(c * stride, c * stride + this.raw.valueSize))) as V;
  }

  get(key: Encodable<K>): V | undefined {
    const v = this.raw.lookup(this.#key(key));
    return v === undefined ? undefined : this.#decode(v);
  }

  /** Per-CPU maps take an array of one value per CPU. `flags` as bpfts/loader's: any, noexist, exist. */
  set(key: Encodable<K>, value: Encodable<V>, options: { flags?: 'any' | 'noexist' | 'exist' } = {}): void {
    this.raw.update(this.#key(key), this.#value(value), { any: 0, noexist: 1, exist: 2 }[options.flags ?? 'any']);
  }

  delete(key: Encodable<K>): boolean {
    return this.raw.delete(this.#key(key));
  }

  has(key: Encodable<K>): boolean {
    return this.raw.lookup(this.#key(key)) !== undefined;
  }

  *keys(): IterableIterator<K> {
    for (const [k] of this.raw.entries()) yield this.#keys.decode(k) as K;
  }

  *entries(): IterableIterator<[K, V]> {
    for (const [k, v] of this.raw.entries()) yield [this.#keys.decode(k) as K, this.#decode(v)];
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }
}

/** The BTF type ids of the keys and values of the object's map or data section `name` (0: none). */
export function mapTypeIds(obj: BpfObject, btf: Btf | undefined, name: string): { key: number; value: number } {
  const def = obj.maps.find((m) => m.name === name);
  if (def) return { key: def.keyTypeId ?? 0, value: def.valueTypeId ?? 0 };
  const datasec = obj.globals.some((g) => g.section === name) ? btf?.find(name, 'DATASEC') : undefined;
  return { key: 0, value: datasec?.id ?? 0 };
}
