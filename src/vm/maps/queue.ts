// BPF_MAP_TYPE_QUEUE (FIFO) and BPF_MAP_TYPE_STACK (LIFO): no keys; push, pop and peek.
import { BPF_ANY, BPF_EXIST, BPF_MAP_TYPE_STACK, E2BIG, EINVAL } from '../../uapi/index.js';
import type { Memory } from '../memory.js';
import { BpfMap, type MapDef } from './map.js';

export class QueueStackMap extends BpfMap {
  private readonly items: Uint8Array[] = [];
  readonly lifo: boolean;

  constructor(def: MapDef, memory: Memory) {
    super(def, memory);
    this.lifo = def.type === BPF_MAP_TYPE_STACK;
  }

  /** bpf_map_push_elem(): BPF_EXIST makes room by dropping the oldest element when full. */
  push(value: Uint8Array, flags: number): number {
    if (flags !== BPF_ANY && flags !== BPF_EXIST) return -EINVAL;
    if (value.length < this.def.valueSize) return -EINVAL;
    if (this.items.length >= this.def.maxEntries) {
      if (flags !== BPF_EXIST) return -E2BIG;
      this.items.shift();
    }
    this.items.push(value.slice(0, this.def.valueSize));
    return 0;
  }

  /** bpf_map_pop_elem() / bpf_map_peek_elem(): the next element, or undefined when empty. */
  take(remove: boolean): Uint8Array | undefined {
    if (this.items.length === 0) return undefined;
    if (!remove) return this.items[this.lifo ? this.items.length - 1 : 0];
    return this.lifo ? this.items.pop() : this.items.shift();
  }

  lookupPointer(_key: Uint8Array, _cpu: number): bigint {
    return 0n;
  }

  /** BPF_MAP_LOOKUP_ELEM on a queue/stack peeks. */
  lookup(_key: Uint8Array): Uint8Array | undefined {
    return this.take(false)?.slice();
  }

  update(_key: Uint8Array, value: Uint8Array, flags: number): number {
    return this.push(value, flags);
  }

  delete(_key: Uint8Array): number {
    return -EINVAL;
  }

  nextKey(_key: Uint8Array | undefined): Uint8Array | undefined {
    return undefined;
  }

  get length(): number {
    return this.items.length;
  }
}

