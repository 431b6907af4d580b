// What every emulated map shares: its definition, a handle pointer programs pass to helpers, and the
// bpf()-syscall-like operations that return 0 or a negative errno.
import { BPF_EXIST, BPF_MAP_TYPE_NAMES, EINVAL } from '../../uapi/index.js';
import type { Memory } from '../memory.js';

export interface MapDef {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags?: number;
  name?: string;
  /** ARRAY_OF_MAPS / HASH_OF_MAPS: the definition every inner map must match. */
  inner?: MapDef;
}

/** Key bytes as a string usable as a JS Map key. */
export function keyString(key: Uint8Array): string {
  // Two bytes per UTF-16 unit: half the characters to build and hash on every lookup. Within one map
  // all keys have the same length, so the encoding stays one-to-one.
  const n = key.length;
  if (n === 4) return String.fromCharCode(key[0]! | (key[1]! << 8), key[2]! | (key[3]! << 8));
  let s = '';
  let i = 0;
  for (; i + 1 < n; i += 2) s += String.fromCharCode(key[i]! | (key[i + 1]! << 8));
  if (i < n) s += String.fromCharCode(key[i]!);
  return s;
}

export function roundUp8(n: number): number {
  return (n + 7) & ~7;
}

export abstract class BpfMap {
  readonly def: Required<Omit<MapDef, 'inner'>>;
  readonly memory: Memory;
  /** What ld_imm64 BPF_PSEUDO_MAP_FD loads: a pointer to a zero-size region naming this map. */
  readonly handle: bigint;
  /** CPUs the per-CPU maps keep values for. */
  readonly cpus: number;

  constructor(def: MapDef, memory: Memory, cpus = 1) {
    const { inner: _inner, ...plain } = def;
    this.def = { flags: 0, name: '', ...plain };
    this.memory = memory;
    this.cpus = cpus;
    this.handle = memory.map(new Uint8Array(0), `map ${this.def.name || BPF_MAP_TYPE_NAMES[def.type]}`, false);
  }

  get typeName(): string {
    return BPF_MAP_TYPE_NAMES[this.def.type] ?? `map type ${this.def.type}`;
  }

  /** bpf_map_lookup_elem() from a program: pointer to the value for `cpu`, or 0n. */
  abstract lookupPointer(key: Uint8Array, cpu: number): bigint;
  /** BPF_MAP_LOOKUP_ELEM: a copy of the value (per-CPU maps: every CPU's value, each padded to 8). */
  abstract lookup(key: Uint8Array): Uint8Array | undefined;
  /** BPF_MAP_UPDATE_ELEM, or bpf_map_update_elem() from a program running on `cpu`. */
  abstract update(key: Uint8Array, value: Uint8Array, flags: number, cpu?: number): number;
  abstract delete(key: Uint8Array): number;
  /** BPF_MAP_GET_NEXT_KEY: the first key when `key` is undefined or absent, undefined after the last. */
  abstract nextKey(key: Uint8Array | undefined): Uint8Array | undefined;

  protected checkFlags(flags: number): number {
    return flags < 0 || flags > BPF_EXIST ? -EINVAL : 0;
  }
}

/**
 * Maps whose elements are not values a program or user space reads or writes by key (ring
 * buffers, perf event arrays): lookups find nothing and updates are EINVAL, as in the kernel.
 */
export abstract class KeylessMap extends BpfMap {
  lookupPointer(_key: Uint8Array, _cpu: number): bigint {
    return 0n;
  }
  lookup(_key: Uint8Array): Uint8Array | undefined {
    return undefined;
  }
  update(_key: Uint8Array, _value: Uint8Array, _flags: number): number {
    return -EINVAL;
  }
  delete(_key: Uint8Array): number {
    return -EINVAL;
  }
  nextKey(_key: Uint8Array | undefined): Uint8Array | undefined {
    return undefined;
  }
}
