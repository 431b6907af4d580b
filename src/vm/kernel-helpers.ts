// Kernel helper functions over the emulated maps, with a controllable clock, a seeded random source and
// captured trace output. Ids and names are the uapi ones (src/uapi/bpf.ts).
import {
  BPF_F_CTXLEN_MASK,
  BPF_FUNC_for_each_map_elem,
  BPF_MAX_LOOPS,
  BPF_FUNC_get_prandom_u32,
  BPF_FUNC_get_smp_processor_id,
  BPF_FUNC_ktime_get_boot_ns,
  BPF_FUNC_ktime_get_coarse_ns,
  BPF_FUNC_ktime_get_ns,
  BPF_FUNC_loop,
  BPF_FUNC_map_delete_elem,
  BPF_FUNC_map_lookup_elem,
  BPF_FUNC_map_peek_elem,
  BPF_FUNC_map_pop_elem,
  BPF_FUNC_map_push_elem,
  BPF_FUNC_map_update_elem,
  BPF_FUNC_perf_event_output,
  BPF_FUNC_ringbuf_discard,
  BPF_FUNC_ringbuf_output,
  BPF_FUNC_ringbuf_query,
  BPF_FUNC_ringbuf_reserve,
  BPF_FUNC_ringbuf_submit,
  BPF_FUNC_tail_call,
  BPF_FUNC_trace_printk,
  BPF_RB_AVAIL_DATA,
  BPF_RB_CONS_POS,
  BPF_RB_PROD_POS,
  BPF_RB_RING_SIZE,
  E2BIG,
  EINVAL,
  ENOENT,
} from '../uapi/index.js';
import { ArrayMap } from './maps/array.js';
import { HashMap } from './maps/hash.js';
import { CODE_REGION } from './memory.js';
import { PerfEventArrayMap, ProgArrayMap } from './maps/events.js';
import type { BpfMap } from './maps/map.js';
import { MapOfMapsMap } from './maps/map-of-maps.js';
import { QueueStackMap } from './maps/queue.js';
import type { MapRegistry } from './maps/registry.js';
import { RingBufMap } from './maps/ringbuf.js';
import type { HelperFn, Vm } from './vm.js';

/** The instruction a callback argument (a BPF_PSEUDO_FUNC pointer) in register `reg` names. */
function callbackTarget(vm: Vm, reg: number): number {
  if (vm.hi[reg] !== CODE_REGION) throw vm.fault('helper', `r${reg} is not a callback function`);
  return (vm.lo[reg]! >>> 0) / 8;
}

export interface KernelEnvOptions {
  /** Initial clock value in nanoseconds (default 1 s). */
  startNs?: bigint;
  /** Nanoseconds the clock moves forward after each read (default 0: time stands still). */
  tickNs?: bigint;
  /** Seed of bpf_get_prandom_u32() (default 1). */
  seed?: number;
}

/** The state kernel helpers read and write, outside any one program run. */
export class KernelEnv {
  /** What bpf_ktime_get_*ns() return next. */
  nowNs: bigint;
  tickNs: bigint;
  /** Lines written by bpf_trace_printk(). */
  readonly trace: string[] = [];
  private rng: number;

  constructor(
    readonly maps: MapRegistry,
    options: KernelEnvOptions = {},
  ) {
    this.nowNs = options.startNs ?? 1_000_000_000n;
    this.tickNs = options.tickNs ?? 0n;
    this.rng = options.seed === undefined || options.seed === 0 ? 1 : options.seed | 0;
  }

  readClock(): bigint {
    const t = this.nowNs;
    this.nowNs += this.tickNs;
    return t;
  }

  /** xorshift32: deterministic for a given seed. */
  random(): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x;
    return x >>> 0;
  }

  helpers(): Map<number, HelperFn> {
    const m = new Map<number, HelperFn>();
    const map = (vm: Vm, reg: number): BpfMap => {
      const found = this.maps.byHandleAt(vm.hi[reg]!, vm.lo[reg]!);
      if (found === undefined) throw vm.fault('helper', `r${reg} is not a map`);
      return found;
    };
    // Lookups and deletes only read the key, so it may alias emulator memory; updates get copies.
    const keyView = (vm: Vm, mp: BpfMap, reg: number) => vm.argView(reg, mp.def.keySize);
    const key = (vm: Vm, mp: BpfMap, reg: number) => keyView(vm, mp, reg).slice();

    m.set(BPF_FUNC_map_lookup_elem, (vm) => {
      const mp = map(vm, 1);
      if (mp instanceof QueueStackMap || mp instanceof RingBufMap || mp instanceof PerfEventArrayMap || mp instanceof ProgArrayMap) {
        throw vm.fault('helper', `bpf_map_lookup_elem() on ${mp.typeName}`);
      }
      return mp.lookupPointer(keyView(vm, mp, 2), vm.cpu);
    });
    // The verifier lets programs only look up in a map of maps (check_map_func_compatibility).
    const notOuter = (vm: Vm, mp: BpfMap, helper: string) => {
      if (mp instanceof MapOfMapsMap) throw vm.fault('helper', `${helper}() on ${mp.typeName}: programs may only look up inner maps`);
    };
    m.set(BPF_FUNC_map_update_elem, (vm) => {
      const mp = map(vm, 1);
      notOuter(vm, mp, 'bpf_map_update_elem');
      if (mp instanceof QueueStackMap) return -EINVAL;
      return mp.update(key(vm, mp, 2), vm.read(vm.arg(3), mp.def.valueSize), Number(vm.arg(4) & 0xffffffffn), vm.cpu);
    });
    m.set(BPF_FUNC_map_delete_elem, (vm) => {
      const mp = map(vm, 1);
      notOuter(vm, mp, 'bpf_map_delete_elem');
      return mp.delete(keyView(vm, mp, 2));
    });
    m.set(BPF_FUNC_map_push_elem, (vm) => {
      const mp = map(vm, 1);
      if (!(mp instanceof QueueStackMap)) return -EINVAL;
      return mp.push(vm.read(vm.arg(2), mp.def.valueSize), Number(vm.arg(3) & 0xffffffffn));
    });
    const take = (remove: boolean): HelperFn => (vm) => {
      const mp = map(vm, 1);
      if (!(mp instanceof QueueStackMap)) return -EINVAL;
      const out = vm.view(vm.arg(2), mp.def.valueSize, true);
      const v = mp.take(remove);
      if (v === undefined) return -ENOENT;
      out.set(v);
      return 0;
    };
    m.set(BPF_FUNC_map_pop_elem, take(true));
    m.set(BPF_FUNC_map_peek_elem, take(false));

    const clock: HelperFn = () => this.readClock();
    m.set(BPF_FUNC_ktime_get_ns, clock);
    m.set(BPF_FUNC_ktime_get_boot_ns, clock);
    m.set(BPF_FUNC_ktime_get_coarse_ns, clock);
    m.set(BPF_FUNC_get_prandom_u32, () => this.random());
    m.set(BPF_FUNC_get_smp_processor_id, (vm) => vm.cpu);

    m.set(BPF_FUNC_trace_printk, (vm) => {
      const size = Number(vm.arg(2));
      const fmt = vm.read(vm.arg(1), size);
      const end = fmt.indexOf(0);
      if (end < 0) return -EINVAL;
      const line = formatPrintk(vm, new TextDecoder().decode(fmt.subarray(0, end)), [vm.arg(3), vm.arg(4), vm.arg(5)]);
      if (line === undefined) return -EINVAL;
      this.trace.push(line);
      return new TextEncoder().encode(line).length;
    });

    m.set(BPF_FUNC_tail_call, (vm) => {
      const mp = map(vm, 2);
      if (!(mp instanceof ProgArrayMap)) throw vm.fault('helper', 'bpf_tail_call() needs a BPF_MAP_TYPE_PROG_ARRAY');
      const index = vm.argU32(3);
      const target = index < mp.def.maxEntries ? mp.program(index) : undefined;
      if (target === undefined || !vm.tailCall(target)) return -ENOENT;
      return 0;
    });

    m.set(BPF_FUNC_perf_event_output, (vm) => {
      const mp = map(vm, 2);
      if (!(mp instanceof PerfEventArrayMap)) return -EINVAL;
      // XDP's variant also takes a context length, which the emulator does not append.
      if ((vm.arg(3) & ~(BPF_F_CTXLEN_MASK | 0xffffffffn)) !== 0n) return -EINVAL;
      return mp.output(vm.argU32(3), vm.cpu, vm.read(vm.arg(4), Number(vm.arg(5))));
    });

    m.set(BPF_FUNC_loop, (vm) => {
      const n = vm.argU32(1);
      const target = callbackTarget(vm, 2);
      const ctx = vm.arg(3);
      if (vm.arg(4) !== 0n) return -EINVAL;
      if (n > BPF_MAX_LOOPS) return -E2BIG;
      for (let i = 0; i < n; i++) if (vm.callback(target, [BigInt(i), ctx]) !== 0n) return i + 1;
      return n;
    });
    // bpf_for_each_map_elem(): array maps and hash maps, as kernel/bpf/arraymap.c and hashtab.c
    // implement it; the key is passed in read-only memory of its own, the value in place.
    m.set(BPF_FUNC_for_each_map_elem, (vm) => {
      const mp = map(vm, 1);
      const handle = vm.arg(1);
      const target = callbackTarget(vm, 2);
      const ctx = vm.arg(3);
      if (vm.arg(4) !== 0n) return -EINVAL;
      if (!(mp instanceof ArrayMap) && !(mp instanceof HashMap)) throw vm.fault('helper', `bpf_for_each_map_elem() on ${mp.typeName}`);
      const keys: Uint8Array[] = [];
      for (let k = mp.nextKey(undefined); k !== undefined && keys.length < mp.def.maxEntries; k = mp.nextKey(k)) keys.push(k);
      let done = 0;
      for (const key of keys) {
        const value = mp.lookupPointer(key, vm.cpu);
        if (value === 0n) continue;
        const keyPtr = this.maps.memory.map(key, 'for_each_map_elem key', false);
        done++;
        try {
          if (vm.callback(target, [handle, keyPtr, value, ctx]) !== 0n) break;
        } finally {
          this.maps.memory.unmap(keyPtr);
        }
      }
      return done;
    });

    const ringbuf = (vm: Vm, reg: number): RingBufMap => {
      const mp = map(vm, reg);
      if (!(mp instanceof RingBufMap)) throw vm.fault('helper', `r${reg} is not a BPF_MAP_TYPE_RINGBUF`);
      return mp;
    };
    m.set(BPF_FUNC_ringbuf_output, (vm) => {
      const rb = ringbuf(vm, 1);
      return rb.output(vm.read(vm.arg(2), Number(vm.arg(3))));
    });
    m.set(BPF_FUNC_ringbuf_reserve, (vm) => ringbuf(vm, 1).reserve(Number(vm.arg(2))));
    const commit = (discard: boolean): HelperFn => (vm) => {
      const p = vm.arg(1);
      const id = Number(p >> 32n);
      const owner = (p & 0xffffffffn) === 0n ? this.ringbufOwning(id) : undefined;
      if (owner === undefined) throw vm.fault('memory', `0x${p.toString(16)} is not a reserved ring buffer record`);
      owner.commit(id, discard);
    };
    m.set(BPF_FUNC_ringbuf_submit, commit(false));
    m.set(BPF_FUNC_ringbuf_discard, commit(true));
    m.set(BPF_FUNC_ringbuf_query, (vm) => {
      const rb = ringbuf(vm, 1);
      switch (Number(vm.arg(2))) {
        case BPF_RB_AVAIL_DATA:
          return rb.available;
        case BPF_RB_RING_SIZE:
          return rb.def.maxEntries;
        case BPF_RB_CONS_POS:
          return rb.consumerPos;
        case BPF_RB_PROD_POS:
          return rb.producerPos;
        default:
          return 0;
      }
    });
    return m;
  }

  private ringbufOwning(regionId: number): RingBufMap | undefined {
    for (let fd = 0; ; fd++) {
      const mp = this.maps.fd(fd);
      if (mp === undefined) return undefined;
      if (mp instanceof RingBufMap && mp.owns(regionId)) return mp;
    }
  }
}

/**
 * bpf_trace_printk()'s formatting: %d %i %u %x %X with optional l/ll, %c, %s, %p and %%, with an
 * optional '-'/'0' flag and width. Undefined for a conversion the kernel refuses.
 */
function formatPrintk(vm: Vm, fmt: string, args: bigint[]): string | undefined {
  let out = '';
  let next = 0;
  for (let i = 0; i < fmt.length; i++) {
    const ch = fmt[i]!;
    if (ch !== '%') {
      out += ch;
      continue;
    }
    const m = /^([-0]?)(\d*)(l{0,2})([diuxXcsp%])/.exec(fmt.slice(i + 1));
    if (m === null) return undefined;
    i += m[0].length;
    const [, flag, width, longs, conv] = m as unknown as [string, string, string, string, string];
    if (conv === '%') {
      out += '%';
      continue;
    }
    if (next >= args.length) return undefined;
    const arg = args[next++]!;
    const bits = longs.length > 0 || conv === 'p' ? 64 : 32;
    let text: string;
    switch (conv) {
      case 'd':
      case 'i':
        text = BigInt.asIntN(bits, arg).toString();
        break;
      case 'u':
        text = BigInt.asUintN(bits, arg).toString();
        break;
      case 'x':
        text = BigInt.asUintN(bits, arg).toString(16);
        break;
      case 'X':
        text = BigInt.asUintN(bits, arg).toString(16).toUpperCase();
        break;
      case 'p':
        text = `0x${arg.toString(16)}`;
        break;
      case 'c':
        text = String.fromCharCode(Number(arg & 0xffn));
        break;
      default:
        text = new TextDecoder().decode(vm.cstring(arg));
    }
    const w = width === '' ? 0 : Number(width);
    out += flag === '-' ? text.padEnd(w) : text.padStart(w, flag === '0' && conv !== 's' ? '0' : ' ');
  }
  return out;
}

