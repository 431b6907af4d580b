// BPF_MAP_TYPE_STACK_TRACE (kernel/bpf/stackmap.c): u32 stack ids to arrays of u64 instruction
// pointers, filled by bpf_get_stackid(). User space reads and deletes entries but cannot write them.
import { EEXIST, EINVAL, ENOENT } from '../../uapi/index.js';
import type { Memory } from '../memory.js';
import { arrayIndex } from './array.js';
import { BpfMap, type MapDef } from './map.js';

export class StackTraceMap extends BpfMap {
  private readonly buckets = new Map<number, bigint[]>();

  constructor(def: MapDef, memory: Memory) {
    super(def, memory);
  }

  /**
   * bpf_get_stackid()'s store: the id of `ips` (a hash of them modulo max_entries, as the kernel
   * picks a bucket), -EEXIST when another stack holds that bucket and `reuse` is not set.
   */
  store(ips: readonly bigint[], reuse: boolean): number {
    const trace = ips.slice(0, Math.floor(this.def.valueSize / 8));
    let h = 0x811c9dc5;
    for (const ip of trace) {
      for (let s = 0n; s < 64n; s += 8n) h = Math.imul(h ^ Number((ip >> s) & 0xffn), 0x01000193) >>> 0;
    }
    const id = h % this.def.maxEntries;
    const old = this.buckets.get(id);
    const same = old !== undefined && old.length === trace.length && old.every((x, i) => x === trace[i]);
    if (old !== undefined && !same && !reuse) return -EEXIST;
    this.buckets.set(id, trace);
    return id;
  }

  lookupPointer(_key: Uint8Array, _cpu: number): bigint {
    return 0n;
  }
  /** bpf_stackmap_copy(): the ips, zero-filled to the value size. */
  lookup(key: Uint8Array): Uint8Array | undefined {
    const trace = this.buckets.get(arrayIndex(key));
    if (trace === undefined) return undefined;
    const out = new Uint8Array(this.def.valueSize);
    const v = new DataView(out.buffer);
    trace.forEach((ip, i) => v.setBigUint64(i * 8, ip, true));
    return out;
  }
  update(_key: Uint8Array, _value: Uint8Array, _flags: number): number {
    return -EINVAL;
  }
  delete(key: Uint8Array): number {
    return this.buckets.delete(arrayIndex(key)) ? 0 : -ENOENT;
  }
  nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    const ids = [...this.buckets.keys()].sort((a, b) => a - b);
    const cur = key === undefined ? -1 : arrayIndex(key);
    const next = ids.find((i) => i > cur) ?? (this.buckets.has(cur) ? undefined : ids[0]);
    return next === undefined ? undefined : new Uint8Array(new Uint32Array([next]).buffer);
  }
}
