// A map handle: keys and values as plain JS values through the BTF codec (or raw bytes), every
// buffer sized from the kernel's own view of the map.
import { BtfCodec, type Btf, type CValue, type Encodable } from '../btf/index.js';
import { BpfError } from '../errors.js';
import {
  BPF_ANY, BPF_EXIST, BPF_F_LOCK, BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS, BPF_MAP_TYPE_NAMES,
  BPF_MAP_TYPE_PROG_ARRAY, BPF_MAP_TYPE_QUEUE, BPF_MAP_TYPE_STACK, BPF_NOEXIST,
} from '../uapi/index.js';
import type { MapSpec } from './object/maps.js';
import { MapReader, type ReaderOptions } from './readers-typed.js';
import {
  mapDeleteElem, mapElemSizes, mapGetFdById, mapGetInfo, mapGetNextKey, mapLookupAndDeleteElem, mapLookupBatch,
  mapLookupElem, mapUpdateElem, type MapElemSizes,
} from './sys/bpf.js';
import { MapSizeError } from './sys/errors.js';
import type { Fd } from './sys/fd.js';

/** How `set` treats an existing element: BPF_ANY, BPF_NOEXIST, BPF_EXIST. */
export type UpdateMode = 'any' | 'noexist' | 'exist';

export interface SetOptions {
  /** Default 'any'. */
  flags?: UpdateMode;
  /** BPF_F_LOCK: update under the value's bpf_spin_lock. */
  lock?: boolean;
}

/** Something whose descriptor can go into a prog array or a map of maps. */
interface HasFd { readonly fd: Fd }

/** A map operation the map's type does not have (push on a hash, get on a queue). */
export class MapOperationError extends BpfError {}

const UPDATE_FLAGS: Record<UpdateMode, number> = { any: BPF_ANY, noexist: BPF_NOEXIST, exist: BPF_EXIST };
const EMPTY = new Uint8Array(0);

/** The user-facing type name: "percpu_hash", "lru_hash", "queue". */
export function mapTypeName(type: number): string {
  return BPF_MAP_TYPE_NAMES[type]?.replace(/^BPF_MAP_TYPE_/, '').toLowerCase() ?? `type ${type}`;
}

/**
 * A BPF map. `K` and `V` are what keys and values decode to (`bpfts gen types` names them; by
 * default any C value); a per-CPU map's `get` gives one V per possible CPU. Raw `Uint8Array` keys and
 * values are accepted everywhere.
 */
export class BpfMap<K = CValue, V = CValue> {
  readonly #sizes: MapElemSizes;
  readonly #keys: BtfCodec;
  readonly #values: BtfCodec;
  readonly #inner: MapSpec | undefined;
  readonly #btf: Btf | undefined;
  readonly #readers = new Set<MapReader<unknown>>();

  /** Wraps an open map descriptor; `btf` and the type ids give its keys and values their C types. */
  constructor(
    readonly fd: Fd,
    options: { name?: string; btf?: Btf | undefined; keyTypeId?: number | undefined; valueTypeId?: number | undefined; inner?: MapSpec | undefined } = {},
  ) {
    this.#sizes = mapElemSizes(fd);
    this.name = options.name ?? this.#sizes.name;
    this.#btf = options.btf;
    this.#keys = new BtfCodec(options.btf, options.keyTypeId ?? 0, this.#sizes.keySize);
    this.#values = new BtfCodec(options.btf, options.valueTypeId ?? 0, this.#sizes.valueSize);
    this.#inner = options.inner;
  }

  /** The map's name in the object (its symbol, or the data section for global data). */
  readonly name: string;

  /** enum bpf_map_type. */
  get type(): number {
    return this.#sizes.type;
  }

  get typeName(): string {
    return mapTypeName(this.#sizes.type);
  }

  get keySize(): number {
    return this.#sizes.keySize;
  }

  get valueSize(): number {
    return this.#sizes.valueSize;
  }

  /** For per-CPU maps, the number of possible CPUs (the length of each value's array); else undefined. */
  get cpus(): number | undefined {
    return this.#sizes.cpus;
  }

  get id(): number {
    return mapGetInfo(this.fd).id;
  }

  get maxEntries(): number {
    return mapGetInfo(this.fd).maxEntries;
  }

  #where(): string {
    return `map '${this.name}'`;
  }

  #encodeKey(key: Encodable<K>): Uint8Array {
    return this.#keys.encode(key as CValue, { path: `${this.#where()} key` });
  }

  #decodeKey(bytes: Uint8Array): K {
    return this.#keys.decode(bytes) as K;
  }

  #encodeValue(value: Encodable<V> | HasFd): Uint8Array {
    if (this.#holdsFds()) {
      const fd = (value as HasFd).fd;
      if (fd === undefined && !(value instanceof Uint8Array)) {
        throw new MapOperationError(`${this.#where()} is a ${this.typeName} map: give a ${this.type === BPF_MAP_TYPE_PROG_ARRAY ? 'Program' : 'map'} handle`);
      }
      if (fd !== undefined) {
        const out = new Uint8Array(4);
        new DataView(out.buffer).setUint32(0, fd.value, true);
        return out;
      }
    }
    if (value instanceof Uint8Array) return value;
    const cpus = this.#sizes.cpus;
    if (cpus === undefined) return this.#values.encode(value as CValue, { path: `${this.#where()} value` });
    if (!Array.isArray(value) || value.length !== cpus) {
      throw new MapSizeError(this.name, 'value', cpus, Array.isArray(value) ? value.length : 1, {
        hint: `a per-CPU map takes one value per possible CPU: an array of ${cpus} (map.cpus)`,
      });
    }
    const stride = Math.ceil(this.#sizes.valueSize / 8) * 8;
    const out = new Uint8Array(stride * cpus);
    (value as CValue[]).forEach((v, c) => out.set(this.#values.encode(v, { path: `${this.#where()} value[cpu ${c}]` }), c * stride));
    return out;
  }

  #decodeValue(bytes: Uint8Array): V {
    const cpus = this.#sizes.cpus;
    if (cpus === undefined) return this.#values.decode(bytes) as V;
    const stride = Math.ceil(this.#sizes.valueSize / 8) * 8;
    return Array.from({ length: cpus }, (_, c) => this.#values.decode(bytes.subarray(c * stride, c * stride + this.#sizes.valueSize))) as V;
  }

  #holdsFds(): boolean {
    return this.type === BPF_MAP_TYPE_PROG_ARRAY || this.type === BPF_MAP_TYPE_ARRAY_OF_MAPS || this.type === BPF_MAP_TYPE_HASH_OF_MAPS;
  }

  #notQueue(op: string): void {
    if (this.type === BPF_MAP_TYPE_QUEUE || this.type === BPF_MAP_TYPE_STACK) {
      throw new MapOperationError(`${this.#where()} is a ${this.typeName}: it has push, pop and peek, not ${op}`);
    }
  }

  /**
   * The value under `key`, or undefined. For prog arrays the program id; for maps of maps use
   * `inner(key)`, which opens the inner map.
   */
  get(key: Encodable<K>): V | undefined {
    this.#notQueue('get');
    const v = mapLookupElem(this.fd, this.#encodeKey(key));
    if (v === undefined) return undefined;
    if (this.#holdsFds()) return new DataView(v.buffer).getUint32(0, true) as V;
    return this.#decodeValue(v);
  }

  /** The raw bytes under `key` (per-CPU maps: one 8-byte aligned slot per CPU), or undefined. */
  getBytes(key: Encodable<K>): Uint8Array | undefined {
    this.#notQueue('getBytes');
    return mapLookupElem(this.fd, this.#encodeKey(key));
  }

  /**
   * Stores `value` under `key`. Per-CPU maps take an array of one value per possible CPU; prog
   * arrays a Program; maps of maps a map handle.
   */
  set(key: Encodable<K>, value: Encodable<V> | HasFd, options: SetOptions = {}): void {
    this.#notQueue('set');
    const flags = UPDATE_FLAGS[options.flags ?? 'any'] | (options.lock ? BPF_F_LOCK : 0);
    mapUpdateElem(this.fd, this.#encodeKey(key), this.#encodeValue(value), flags);
  }

  /** Deletes `key`; false when it was not there. */
  delete(key: Encodable<K>): boolean {
    this.#notQueue('delete');
    return mapDeleteElem(this.fd, this.#encodeKey(key));
  }

  has(key: Encodable<K>): boolean {
    this.#notQueue('has');
    return mapLookupElem(this.fd, this.#encodeKey(key)) !== undefined;
  }

  /** The keys, in the kernel's order. */
  *keys(): IterableIterator<K> {
    this.#notQueue('keys');
    for (let k = mapGetNextKey(this.fd, undefined); k; k = mapGetNextKey(this.fd, k)) yield this.#decodeKey(k);
  }

  /**
   * Key/value pairs, read with BPF_MAP_LOOKUP_BATCH where the kernel has it for this map type
   * (one system call per batch), else key by key.
   */
  *entries(): IterableIterator<[K, V]> {
    this.#notQueue('entries');
    if (this.#holdsFds()) {
      for (const k of this.#rawKeys()) {
        const v = mapLookupElem(this.fd, k);
        if (v) yield [this.#decodeKey(k), new DataView(v.buffer).getUint32(0, true) as V];
      }
      return;
    }
    const batch = mapLookupBatch(this.fd);
    if (batch) {
      for (const [k, v] of batch) yield [this.#decodeKey(k), this.#decodeValue(v)];
      return;
    }
    for (const k of this.#rawKeys()) {
      const v = mapLookupElem(this.fd, k);
      if (v) yield [this.#decodeKey(k), this.#decodeValue(v)];
    }
  }

  *#rawKeys(): IterableIterator<Uint8Array> {
    for (let k = mapGetNextKey(this.fd, undefined); k; k = mapGetNextKey(this.fd, k)) yield k;
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  #queueOnly(op: string): void {
    if (this.type !== BPF_MAP_TYPE_QUEUE && this.type !== BPF_MAP_TYPE_STACK) {
      throw new MapOperationError(`${this.#where()} is a ${this.typeName} map: ${op} is for queues and stacks`);
    }
  }

  /** Queues and stacks: adds `value`; with `{ flags: 'exist' }` a full map drops its oldest element instead of failing. */
  push(value: Encodable<V>, options: SetOptions = {}): void {
    this.#queueOnly('push');
    mapUpdateElem(this.fd, EMPTY, this.#encodeValue(value), UPDATE_FLAGS[options.flags ?? 'any']);
  }

  /** Queues and stacks: removes and returns the next element, or undefined when empty. */
  pop(): V | undefined {
    this.#queueOnly('pop');
    const v = mapLookupAndDeleteElem(this.fd, EMPTY);
    return v === undefined ? undefined : this.#decodeValue(v);
  }

  /** Queues and stacks: the next element without removing it. */
  peek(): V | undefined {
    this.#queueOnly('peek');
    const v = mapLookupElem(this.fd, EMPTY);
    return v === undefined ? undefined : this.#decodeValue(v);
  }

  /** Maps of maps: a handle on the inner map under `key` (opened by id; close it when done), or undefined. */
  inner(key: Encodable<K>): BpfMap | undefined {
    if (this.type !== BPF_MAP_TYPE_ARRAY_OF_MAPS && this.type !== BPF_MAP_TYPE_HASH_OF_MAPS) {
      throw new MapOperationError(`${this.#where()} is a ${this.typeName} map, not a map of maps`);
    }
    const v = mapLookupElem(this.fd, this.#encodeKey(key));
    if (v === undefined) return undefined;
    const fd = mapGetFdById(new DataView(v.buffer).getUint32(0, true));
    const spec = this.#inner;
    return new BpfMap(fd, {
      ...(spec ? { name: `${this.name}[inner]`, btf: this.#btf, keyTypeId: spec.btfKeyTypeId, valueTypeId: spec.btfValueTypeId } : {}),
    });
  }

  /**
   * perf_event_array and ringbuf maps: an async iterator of the records programs send, decoded as
   * `type` ('struct event') through the object's BTF. Perf event arrays take `pages` per CPU ring,
   * `wakeupEvents` or `wakeupBytes`, and `cpus`. Closed by its close(), the map's or the collection's.
   */
  reader<R = CValue>(options: ReaderOptions & { type: string }): MapReader<R>;
  reader(options?: ReaderOptions): MapReader<undefined>;
  reader(options: ReaderOptions = {}): MapReader<unknown> {
    const r = MapReader.open<unknown>(this, this.#btf, options);
    this.#readers.add(r);
    r.onClose(() => this.#readers.delete(r));
    return r;
  }

  /** @internal Closes the readers opened on this map (before its descriptor goes: they take their events out of it). */
  closeReaders(): void {
    for (const r of [...this.#readers]) r.close();
  }

  /** Closes the map's readers and the descriptor (the collection's close closes its maps' too; closing twice does nothing). */
  close(): void {
    if (this.fd.closed) return;
    this.closeReaders();
    this.fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
