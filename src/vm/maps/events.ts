// BPF_MAP_TYPE_PERF_EVENT_ARRAY (records captured per CPU slot) and BPF_MAP_TYPE_PROG_ARRAY (programs
// for tail calls).
import { BPF_F_CURRENT_CPU, E2BIG, EINVAL, ENOENT, EOPNOTSUPP } from '../../uapi/index.js';
import type { Program } from '../decode.js';
import type { Memory } from '../memory.js';
import { arrayIndex } from './array.js';
import { BpfMap, KeylessMap, type MapDef } from './map.js';

export interface PerfRecord {
  cpu: number;
  data: Uint8Array;
}

export class PerfEventArrayMap extends KeylessMap {
  readonly records: PerfRecord[] = [];
  /**
   * Whether user space has opened the events, the usual way: slot i holds an event bound to CPU i, for
   * every CPU. When false (as under BPF_PROG_TEST_RUN) every slot is empty.
   */
  eventsOpen = false;

  constructor(def: MapDef, memory: Memory, cpus = 1) {
    super(def, memory, cpus);
  }

  /**
   * __bpf_perf_event_output() from a program running on `cpu`: the slot `index` names
   * (BPF_F_CURRENT_CPU for the running CPU's), which must hold an event bound to that same CPU.
   */
  output(index: number, cpu: number, data: Uint8Array): number {
    const slot = index === BPF_F_CURRENT_CPU ? cpu : index;
    if (slot >= this.def.maxEntries) return -E2BIG;
    if (!this.eventsOpen || slot >= this.cpus) return -ENOENT;
    if (slot !== cpu) return -EOPNOTSUPP;
    this.records.push({ cpu, data });
    return 0;
  }
}

export class ProgArrayMap extends BpfMap {
  private readonly programs: (Program | undefined)[] = [];

  constructor(def: MapDef, memory: Memory) {
    super(def, memory);
  }

  /** Install (or with undefined remove) the program tail calls to `index` reach. */
  setProgram(index: number, program: Program | undefined): void {
    if (index < 0 || index >= this.def.maxEntries) throw new RangeError(`prog array index ${index} out of range`);
    this.programs[index] = program;
  }

  program(index: number): Program | undefined {
    return this.programs[index];
  }

  lookupPointer(_key: Uint8Array, _cpu: number): bigint {
    return 0n;
  }
  lookup(_key: Uint8Array): Uint8Array | undefined {
    return undefined;
  }
  update(_key: Uint8Array, _value: Uint8Array, _flags: number): number {
    return -EINVAL;
  }
  delete(key: Uint8Array): number {
    const i = arrayIndex(key);
    if (i < 0 || i >= this.def.maxEntries) return -EINVAL;
    this.programs[i] = undefined;
    return 0;
  }
  nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    const i = key === undefined ? -1 : arrayIndex(key);
    const next = i < 0 || i >= this.def.maxEntries ? 0 : i + 1;
    return next >= this.def.maxEntries ? undefined : new Uint8Array(new Uint32Array([next]).buffer);
  }
}
