// The maps of one emulated address space: creation by type, fd numbers, and the ld_imm64 resolver
// programs need (BPF_PSEUDO_MAP_FD / _IDX load the map handle, _VALUE / _IDX_VALUE a pointer into an
// array map's first element).
import {
  BPF_MAP_TYPE_ARRAY,
  BPF_MAP_TYPE_ARRAY_OF_MAPS,
  BPF_MAP_TYPE_HASH,
  BPF_MAP_TYPE_HASH_OF_MAPS,
  BPF_MAP_TYPE_LPM_TRIE,
  BPF_MAP_TYPE_LRU_HASH,
  BPF_MAP_TYPE_LRU_PERCPU_HASH,
  BPF_MAP_TYPE_NAMES,
  BPF_MAP_TYPE_PERCPU_ARRAY,
  BPF_MAP_TYPE_PERCPU_HASH,
  BPF_MAP_TYPE_PERF_EVENT_ARRAY,
  BPF_MAP_TYPE_PROG_ARRAY,
  BPF_MAP_TYPE_QUEUE,
  BPF_MAP_TYPE_RINGBUF,
  BPF_MAP_TYPE_STACK,
  BPF_MAP_TYPE_STACK_TRACE,
} from '../../uapi/index.js';
import { BpfError } from '../../errors.js';
import { LimitError } from '../errors.js';
import { BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE, BPF_PSEUDO_MAP_VALUE } from '../../isa/opcodes.js';
import type { LdImm64Request } from '../decode.js';
import type { Memory } from '../memory.js';
import { ArrayMap } from './array.js';
import { PerfEventArrayMap, ProgArrayMap } from './events.js';
import { HashMap } from './hash.js';
import { LpmTrieMap } from './lpm.js';
import type { BpfMap, MapDef } from './map.js';
import { MapOfMapsMap, type MapFds } from './map-of-maps.js';
import { QueueStackMap } from './queue.js';
import { RingBufMap } from './ringbuf.js';
import { StackTraceMap } from './stack-trace.js';

/** A map definition the emulator cannot honour. */
export class MapError extends BpfError {}

/** The kernel's KMALLOC_MAX_SIZE on common configurations: no map value may be larger (E2BIG). */
const MAX_VALUE_SIZE = 4 * 1024 * 1024;
/** Arrays are allocated up front; past this a corrupt max_entries must not exhaust the host. */
const MAX_ARRAY_BYTES = 256 * 1024 * 1024;

/**
 * Default cap on what the maps of one emulator may hold: the largest object of the corpus
 * (cilium's bpf_xdp_dsr_linux.o) declares 249 MiB, so that real objects fit while a corrupt
 * max_entries cannot have the host allocate gigabytes.
 */
export const DEFAULT_MAP_MEMORY = 512 * 2 ** 20;

/**
 * Bytes a map may come to hold when full: arrays are allocated whole at creation, hashes, tries,
 * queues and ring buffers grow up to max_entries; per-CPU values count once per CPU.
 */
export function mapMemory(def: MapDef, cpus: number): number {
  const percpu = def.type === BPF_MAP_TYPE_PERCPU_ARRAY || def.type === BPF_MAP_TYPE_PERCPU_HASH || def.type === BPF_MAP_TYPE_LRU_PERCPU_HASH ? cpus : 1;
  // Sizes createMap refuses count as nothing here, so that its error, not this one, names them.
  const n = Math.max(def.maxEntries, 0);
  const key = Math.max(def.keySize, 0);
  const value = Math.max(def.valueSize, 0) * percpu;
  switch (def.type) {
    case BPF_MAP_TYPE_ARRAY:
    case BPF_MAP_TYPE_PERCPU_ARRAY:
    case BPF_MAP_TYPE_QUEUE:
    case BPF_MAP_TYPE_STACK:
      return n * value;
    case BPF_MAP_TYPE_RINGBUF:
      return n;
    default:
      return n * (key + value);
  }
}

/** `fds` resolves the map fds map-in-map types store; without it they cannot be created. */
export function createMap(def: MapDef, memory: Memory, cpus = 1, fds?: MapFds): BpfMap {
  const name = BPF_MAP_TYPE_NAMES[def.type] ?? `type ${def.type}`;
  const bad = (why: string) => new MapError(`map '${def.name ?? ''}' (${name}): ${why}`);
  if (def.maxEntries <= 0 && def.type !== BPF_MAP_TYPE_PERF_EVENT_ARRAY) throw bad('max_entries must be positive');
  if (def.valueSize > MAX_VALUE_SIZE) throw bad(`value size ${def.valueSize} is more than the kernel allows (E2BIG)`);
  switch (def.type) {
    case BPF_MAP_TYPE_HASH:
    case BPF_MAP_TYPE_PERCPU_HASH:
    case BPF_MAP_TYPE_LRU_HASH:
    case BPF_MAP_TYPE_LRU_PERCPU_HASH:
      if (def.keySize <= 0 || def.valueSize <= 0) throw bad('key and value sizes must be positive');
      return new HashMap(def, memory, cpus);
    case BPF_MAP_TYPE_ARRAY:
    case BPF_MAP_TYPE_PERCPU_ARRAY:
      if (def.keySize !== 4 || def.valueSize <= 0) throw bad('arrays need 4-byte keys and a positive value size');
      if (def.valueSize * def.maxEntries * (def.type === BPF_MAP_TYPE_PERCPU_ARRAY ? cpus : 1) > MAX_ARRAY_BYTES) {
        throw bad(`${def.maxEntries} entries of ${def.valueSize} bytes are more than the emulator allocates (${MAX_ARRAY_BYTES / 2 ** 20} MiB)`);
      }
      return new ArrayMap(def, memory, cpus);
    case BPF_MAP_TYPE_LPM_TRIE:
      if (def.keySize <= 4 || def.valueSize <= 0) throw bad('LPM trie keys are a u32 prefix length plus data');
      return new LpmTrieMap(def, memory);
    case BPF_MAP_TYPE_QUEUE:
    case BPF_MAP_TYPE_STACK:
      if (def.keySize !== 0 || def.valueSize <= 0) throw bad('queues and stacks have no key');
      return new QueueStackMap(def, memory);
    case BPF_MAP_TYPE_STACK_TRACE:
      if (def.keySize !== 4 || def.valueSize < 8 || def.valueSize % 8 !== 0) throw bad('stack trace maps need 4-byte keys and values of u64 instruction pointers');
      return new StackTraceMap(def, memory);
    case BPF_MAP_TYPE_RINGBUF: {
      const n = def.maxEntries;
      if (n % 4096 !== 0 || (n & (n - 1)) !== 0) throw bad('ring buffer size must be a power of 2 multiple of 4096');
      return new RingBufMap(def, memory);
    }
    case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
      return new PerfEventArrayMap({ ...def, maxEntries: def.maxEntries > 0 ? def.maxEntries : cpus }, memory, cpus);
    case BPF_MAP_TYPE_PROG_ARRAY:
      if (def.keySize !== 4 || def.valueSize !== 4) throw bad('prog arrays need 4-byte keys and values');
      return new ProgArrayMap(def, memory);
    case BPF_MAP_TYPE_ARRAY_OF_MAPS:
    case BPF_MAP_TYPE_HASH_OF_MAPS: {
      if (def.valueSize !== 4) throw bad('map-in-map values are 4-byte map fds');
      if (def.type === BPF_MAP_TYPE_ARRAY_OF_MAPS ? def.keySize !== 4 : def.keySize <= 0) throw bad('bad key size');
      if (def.inner === undefined) throw bad('a map of maps needs an inner map definition');
      if (def.inner.type === BPF_MAP_TYPE_ARRAY_OF_MAPS || def.inner.type === BPF_MAP_TYPE_HASH_OF_MAPS) {
        throw bad('the kernel supports one level of map-in-map only');
      }
      if (fds === undefined) throw bad('map-in-map needs a map registry');
      // The kernel creates the template for inner_map_fd, so a template it would refuse fails here too.
      const template = createMap({ ...def.inner, name: `${def.name ?? ''}.inner` }, memory, cpus);
      memory.unmap(template.handle);
      return new MapOfMapsMap(def, def.inner, memory, fds);
    }
    default:
      throw bad('this map type is not emulated');
  }
}

export class MapRegistry implements MapFds {
  private readonly byRegion = new Map<number, BpfMap>();
  private readonly byFd: BpfMap[] = [];
  private readonly fds = new Map<BpfMap, number>();

  /** Bytes the maps created so far may hold (mapMemory of each). */
  private charged = 0;

  constructor(
    readonly memory: Memory,
    readonly cpus = 1,
    readonly memoryLimit = DEFAULT_MAP_MEMORY,
  ) {}

  /**
   * Create a map; its fd is its index in creation order (what BPF_PSEUDO_MAP_IDX refers to as well).
   * Throws a LimitError when the maps together would pass memoryLimit.
   */
  create(def: MapDef): { fd: number; map: BpfMap } {
    const bytes = mapMemory(def, this.cpus);
    if (this.charged + bytes > this.memoryLimit) {
      throw new LimitError('mapMemory', this.memoryLimit,
        `map '${def.name ?? ''}' (${def.maxEntries} entries of ${def.keySize}+${def.valueSize} bytes) would take the maps to ${this.charged + bytes} bytes, over the map memory limit of ${this.memoryLimit} bytes`,
        { hint: 'raise it with the mapMemory option (bpfts run --map-memory BYTES)' });
    }
    const map = createMap(def, this.memory, this.cpus, this);
    this.charged += bytes;
    this.byRegion.set(Number(map.handle >> 32n), map);
    this.fds.set(map, this.byFd.length);
    this.byFd.push(map);
    return { fd: this.byFd.length - 1, map };
  }

  fdOf(map: BpfMap): number | undefined {
    return this.fds.get(map);
  }

  byHandle(pointer: bigint): BpfMap | undefined {
    return (pointer & 0xffffffffn) === 0n ? this.byRegion.get(Number(pointer >> 32n)) : undefined;
  }

  /** byHandle() of the pointer (region, offset). */
  byHandleAt(region: number, offset: number): BpfMap | undefined {
    return offset === 0 ? this.byRegion.get(region) : undefined;
  }

  fd(fd: number): BpfMap | undefined {
    return this.byFd[fd];
  }

  /** For VmOptions.resolveLdImm64. */
  readonly resolveLdImm64 = (req: LdImm64Request): bigint => {
    const map = this.byFd[req.imm];
    if (map === undefined) throw new MapError(`ld_imm64 at pc ${req.pc} refers to map ${req.imm}, which does not exist`);
    switch (req.src) {
      case BPF_PSEUDO_MAP_FD:
      case BPF_PSEUDO_MAP_IDX:
        return map.handle;
      case BPF_PSEUDO_MAP_VALUE:
      case BPF_PSEUDO_MAP_IDX_VALUE: {
        if (!(map instanceof ArrayMap)) throw new MapError(`ld_imm64 at pc ${req.pc} takes a value address of a non-array map`);
        if (req.nextImm < 0 || req.nextImm >= map.def.valueSize) {
          throw new MapError(`ld_imm64 at pc ${req.pc}: offset ${req.nextImm} is outside the map value`);
        }
        return map.elementPointer(0) + BigInt(req.nextImm);
      }
      default:
        throw new MapError(`ld_imm64 at pc ${req.pc} with src ${req.src} is not supported by the emulator`);
    }
  };
}
