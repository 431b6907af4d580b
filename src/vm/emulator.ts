// The emulator's public face: a program of an ELF object, its maps and a packet context, run on one
// packet at a time as BPF_PROG_TEST_RUN would run it; tracing programs run on a context and kernel
// memory described as JSON (tracing.ts).
import { BtfCodec, type Btf, type CValue } from '../btf/index.js';
import { applyConstants, laidOutBtf, matchSection, readMapSlotInits, readObject, type BpfObject, type BpfProgram } from '../object/index.js';
import { bpf_prog_type, enumName, TC_ACT_NAMES, XDP_ACTION_NAMES } from '../uapi/index.js';
import { ETH_HLEN } from './context-layout.js';
import { CoverageRecorder } from './coverage.js';
import { buildCoverageReport, type CoverageReport } from './coverage-report.js';
import { VmFault } from './errors.js';
import { KernelEnv } from './kernel-helpers.js';
import { PerfEventArrayMap, ProgArrayMap, type PerfRecord } from './maps/events.js';
import type { BpfMap, MapDef } from './maps/map.js';
import { MapOfMapsMap } from './maps/map-of-maps.js';
import { DEFAULT_MAP_MEMORY, MapError, MapRegistry } from './maps/registry.js';
import { RingBufMap } from './maps/ringbuf.js';
import type { Program } from './decode.js';
import { Memory } from './memory.js';
import { createObjectMaps, EmulatorError, linkProgram, sourceLineAt, type LinkedProgram, type ObjectMap } from './object.js';
import { isTracingType, TracingSupport, tracingInput, tracingKind, type TracingInput } from './tracing.js';
import type { TracingEnvOptions } from './tracing-helpers.js';
import { SkbContext, type ClonedPacket, type Redirect, type SkbKind, type SkbOverrides, type SkbSnapshot } from './skb.js';
import { DEFAULT_BUDGET, Vm, type HelperFn, type Tracer } from './vm.js';
import { XdpContext, type XdpOverrides } from './xdp.js';
import { TypedEmulatedMap, mapTypeIds } from './typed-map.js';

export { EmulatorError };

export interface EmulatorOptions {
  /** Function name (or section name) of the program to run; optional when the object has one program. */
  program?: string;
  /**
   * Program type, overriding the one libbpf (upstream) derives from the section: a bpf_prog_type number,
   * its name (`BPF_PROG_TYPE_SCHED_CLS`) or bpftool's short name (`sched_cls`, `xdp`, `socket_filter`).
   */
  type?: string | number;
  /** CPUs per-CPU maps keep values for (default 1); runs happen on `cpu` (default 0). */
  cpus?: number;
  cpu?: number;
  /** Seed of bpf_get_prandom_u32(). */
  seed?: number;
  /** bpf_ktime_get_ns(): start value and advance per read. */
  clock?: { startNs?: bigint; tickNs?: bigint };
  /** Instruction budget per run (default 1,000,000): past it the run fails with a VmFault of kind 'budget'. */
  budget?: number;
  /**
   * Cap in bytes on what all maps and global data sections may hold when full (max_entries times
   * key and value size, per-CPU values once per CPU; default 512 MiB): past it set-up, or
   * EmulatedMaps.create, fails with a LimitError.
   */
  mapMemory?: number;
  /** ifindexes bpf_clone_redirect() accepts (default [1], the loopback device). */
  interfaces?: readonly number[];
  /** Compile the program to JavaScript (see VmOptions.compile): by default from the second run on. */
  compile?: boolean;
  /**
   * Capture bpf_perf_event_output() records as if user space had opened a perf event for every CPU
   * (slot i on CPU i). By default, as under BPF_PROG_TEST_RUN, no event is open and the helper
   * returns -ENOENT. Tracing programs run as under a tracer: the events are open unless this is false.
   */
  perfEventsOpen?: boolean;
  /**
   * Count every executed instruction and jump edge, for coverage(): interpreted and compiled runs
   * alike (compiled code then runs an instrumented translation). On by default while a
   * CoverageCollector is installed (see COVERAGE_COLLECTOR).
   */
  coverage?: boolean;
  /** `.rodata` variables (`const volatile` in C) by name, as bpfts/loader's Collection.load takes them. */
  constants?: Record<string, CValue>;
  /**
   * BTF of the kernel being emulated (e.g. /sys/kernel/btf/vmlinux through btfFromFile): CO-RE
   * relocations are resolved against it and tracing programs' kernel objects laid out with it.
   */
  btf?: Btf;
  /** Tracing programs: the current task, stacks, bpf_get_func_ip() and the attach cookie. */
  tracing?: TracingEnvOptions;
}

export type ContextOverrides = SkbOverrides & XdpOverrides;

/**
 * Gathers the emulators of a test run for one coverage report (bpfts/testing/vitest installs one
 * under COVERAGE_COLLECTOR on globalThis): while one is installed, emulators count coverage unless
 * told `coverage: false`, and each joins it.
 */
export interface CoverageCollector {
  add(emulator: Emulator): void;
}

/** A registry symbol, so that every copy of bpfts a test run loads finds the same collector. */
export const COVERAGE_COLLECTOR = Symbol.for('bpfts.coverageCollector');

const NONE: readonly never[] = Object.freeze([]);
/** runMany() counts return values below this in an array, the others in the summary's map. */
const SMALL_RETVALS = 64;
const NO_RECORDS: Readonly<Record<string, never[]>> = Object.freeze({});

/** What one run of a program did. */
export class RunOutput {
  /** Target of the last bpf_redirect(). */
  redirect: Redirect | undefined;
  /** Packets bpf_clone_redirect() sent. */
  clones: readonly ClonedPacket[] = NONE;
  /** Lines bpf_trace_printk() wrote during this run. */
  printk: readonly string[] = NONE;
  /** Records submitted to each ring buffer map during this run, by map name. */
  ringbuf: Readonly<Record<string, Uint8Array[]>> = NO_RECORDS;
  /** Records written with bpf_perf_event_output() to each perf event array during this run. */
  perf: Readonly<Record<string, PerfRecord[]>> = NO_RECORDS;
  /** @internal */
  skbSnapshot: SkbSnapshot | undefined;
  /** @internal the XDP metadata when there is any */
  metaBytes: Uint8Array | undefined;
  /** @internal the program and pc that ended the run (exit, or a helper that ends it) */
  exitProgram: Program | undefined;
  /** @internal */
  exitPc = -1;
  /** @internal */
  emulator: Emulator | undefined;
  /** @internal with coverage on: the last conditional jump of the run */
  jumpProgram: Program | undefined;
  /** @internal */
  jumpPc = -1;

  constructor(
    /** The program's return value as BPF_PROG_TEST_RUN reports it (u32). */
    readonly retval: number,
    /** The packet after the run, as the test run's data_out (for XDP without the metadata). */
    readonly packet: Uint8Array,
    /** Instructions executed. */
    readonly executed: number,
    /** What the program ran as: 'tc' (sched_cls, sched_act), 'xdp', 'socket' (socket filter) or 'cgroup' (cgroup_skb). */
    readonly kind: ProgramKind,
  ) {}

  /** `file:line: text` of the C line of the instruction that ended the run, from BTF line_info. */
  get exitLine(): string | undefined {
    return this.emulator?.sourceLine(this.exitProgram, this.exitPc);
  }

  /**
   * With coverage on, `file:line: text` of the last conditional jump before the exit: the test that
   * chose the return, where returns share one exit instruction.
   */
  get decisionLine(): string | undefined {
    return this.emulator?.sourceLine(this.jumpProgram, this.jumpPc);
  }

  /** TC_ACT_* / XDP_* name of retval, for tc and XDP programs. */
  get verdict(): string | undefined {
    return this.kind === 'tc' ? TC_ACT_NAMES[this.retval | 0] : this.kind === 'xdp' ? XDP_ACTION_NAMES[this.retval] : undefined;
  }

  /** XDP only: the bytes between data_meta and data. */
  get meta(): Uint8Array | undefined {
    // An empty Uint8Array is made only when asked for: V8 allocates zero-length ones slowly.
    if (this.kind !== 'xdp') return undefined;
    return (this.metaBytes ??= new Uint8Array(0));
  }

  /** __sk_buff fields after the run (mark, priority, tc_index, cb, ...), for skb programs. */
  get skb(): Record<string, number | bigint | number[]> | undefined {
    return this.skbSnapshot?.toRecord();
  }
}

/** What Emulator.runMany() did over a batch. */
export interface BatchSummary {
  /** Frames run. */
  runs: number;
  /** Instructions executed over all runs. */
  executed: number;
  /** How many runs returned each retval (u32). */
  retvals: Map<number, number>;
}

/**
 * One run of Emulator.runMany(): a single object reused for every frame of the batch, so it is valid
 * only inside the visitor; copy what must outlive it (e.g. with output()).
 */
export class BatchRun {
  /** Position of the frame in the batch. */
  index = 0;
  /** The program's return value as BPF_PROG_TEST_RUN reports it (u32). */
  retval = 0;
  /** Instructions executed. */
  executed = 0;
  /** Lines bpf_trace_printk() wrote during this run. */
  printk: readonly string[] = NONE;
  /** Records submitted to each ring buffer map during this run, by map name. */
  ringbuf: Readonly<Record<string, Uint8Array[]>> = NO_RECORDS;
  /** Records written with bpf_perf_event_output() to each perf event array during this run. */
  perf: Readonly<Record<string, PerfRecord[]>> = NO_RECORDS;

  /** @internal */
  constructor(
    private readonly emulator: Emulator,
    private readonly kind: ProgramKind,
  ) {}

  /** @internal */
  begin(index: number): void {
    this.index = index;
    this.printk = NONE;
    if (this.ringbuf !== NO_RECORDS) this.ringbuf = NO_RECORDS;
    if (this.perf !== NO_RECORDS) this.perf = NO_RECORDS;
  }

  /** TC_ACT_* / XDP_* name of retval, for tc and XDP programs. */
  get verdict(): string | undefined {
    return this.kind === 'tc' ? TC_ACT_NAMES[this.retval | 0] : this.kind === 'xdp' ? XDP_ACTION_NAMES[this.retval] : undefined;
  }

  /** Target of the last bpf_redirect(). */
  get redirect(): Redirect | undefined {
    return this.emulator.context.redirect;
  }

  /** A copy of the packet after the run, as RunOutput.packet. */
  get packet(): Uint8Array {
    return this.emulator.context.output();
  }

  /** __sk_buff fields after the run, as RunOutput.skb (skb programs). */
  get skb(): Record<string, number | bigint | number[]> | undefined {
    const ctx = this.emulator.context;
    return ctx instanceof SkbContext ? ctx.snapshot().toRecord() : undefined;
  }

  /** Everything run() would have returned for this run (copies, so it outlives the visitor). */
  output(): RunOutput {
    return this.emulator.outputOf(this);
  }
}

const SHORT_TYPES: Record<string, number> = Object.fromEntries(
  Object.entries(bpf_prog_type).map(([k, v]) => [k.replace('BPF_PROG_TYPE_', '').toLowerCase(), v]),
);

function parseType(t: string | number): number {
  if (typeof t === 'number') return t;
  const n = (bpf_prog_type as Readonly<Record<string, number>>)[t] ?? SHORT_TYPES[t.toLowerCase()] ??
    (/^\d+$/.test(t) ? Number(t) : undefined);
  if (n === undefined) {
    throw new EmulatorError(`unknown program type '${t}'`, { hint: 'use a name like sched_cls, sched_act, xdp, socket_filter or cgroup_skb' });
  }
  return n;
}

export type ProgramKind = SkbKind | 'xdp' | 'tracing';

function kindOf(progType: number): ProgramKind | undefined {
  switch (progType) {
    case bpf_prog_type.BPF_PROG_TYPE_SCHED_CLS:
    case bpf_prog_type.BPF_PROG_TYPE_SCHED_ACT:
      return 'tc';
    case bpf_prog_type.BPF_PROG_TYPE_SOCKET_FILTER:
      return 'socket';
    case bpf_prog_type.BPF_PROG_TYPE_CGROUP_SKB:
      return 'cgroup';
    case bpf_prog_type.BPF_PROG_TYPE_XDP:
      return 'xdp';
    default:
      return isTracingType(progType) ? 'tracing' : undefined;
  }
}

/** A map of the emulated object, addressed with raw key and value bytes. */
export class EmulatedMap {
  /** @internal */
  constructor(
    readonly name: string,
    readonly raw: BpfMap,
    private readonly owner: EmulatedMaps,
  ) {}

  /** The map's fd in the emulated address space: what a map of maps takes as a value. */
  get fd(): number {
    return this.owner.registry.fdOf(this.raw)!;
  }
  /** For a map of maps, the definition its inner maps must match (see EmulatedMaps.create). */
  get innerDef(): MapDef | undefined {
    return this.raw instanceof MapOfMapsMap ? { ...this.raw.template } : undefined;
  }

  get type(): string {
    return this.raw.typeName;
  }
  get keySize(): number {
    return this.raw.def.keySize;
  }
  get valueSize(): number {
    return this.raw.def.valueSize;
  }
  /** A copy of the value (per-CPU maps: each CPU's value padded to 8 bytes, back to back), or undefined. */
  lookup(key: Uint8Array): Uint8Array | undefined {
    return this.raw.lookup(key);
  }
  /**
   * BPF_MAP_UPDATE_ELEM; throws on a kernel error return. A per-CPU map takes every CPU's value (each
   * padded to 8 bytes), or one value for all CPUs.
   */
  update(key: Uint8Array, value: Uint8Array, flags = 0): void {
    const size = this.raw.def.valueSize;
    const stride = (size + 7) & ~7;
    let v = value;
    if (this.type.includes('PERCPU') && value.length === size && this.raw.cpus > 1) {
      v = new Uint8Array(stride * this.raw.cpus);
      for (let c = 0; c < this.raw.cpus; c++) v.set(value, c * stride);
    }
    const r = this.raw.update(key, v, flags);
    if (r < 0) throw new EmulatorError(`update of map '${this.name}' failed with errno ${-r}`);
  }
  delete(key: Uint8Array): boolean {
    return this.raw.delete(key) === 0;
  }
  /** For a map of maps: the inner map stored under `key`, if any. */
  inner(key: Uint8Array): EmulatedMap | undefined {
    const m = this.outer().inner(key);
    return m === undefined ? undefined : this.owner.wrap(m);
  }
  /**
   * For a map of maps: store `map` (an EmulatedMap or a map name) under `key`, as user space stores its
   * fd, or with undefined remove the entry; throws on the kernel's error return.
   */
  setInner(key: Uint8Array, map: EmulatedMap | string | undefined): void {
    const outer = this.outer();
    if (map === undefined) {
      const r = outer.delete(key);
      if (r < 0) throw new EmulatorError(`delete from map '${this.name}' failed with errno ${-r}`);
      return;
    }
    const inner = typeof map === 'string' ? this.owner.get(map) : map;
    const r = outer.update(key, new Uint8Array(new Uint32Array([inner.fd]).buffer), 0);
    if (r < 0) {
      throw new EmulatorError(`cannot store map '${inner.name}' in map '${this.name}' (errno ${-r})`, {
        hint: 'an inner map needs the type, key and value sizes and flags of the inner definition (arrays also its max_entries)',
      });
    }
  }
  private outer(): MapOfMapsMap {
    if (!(this.raw instanceof MapOfMapsMap)) throw new EmulatorError(`map '${this.name}' is a ${this.type}, not a map of maps`);
    return this.raw;
  }
  /** Every (key, value) pair in BPF_MAP_GET_NEXT_KEY order. */
  entries(): [Uint8Array, Uint8Array][] {
    const out: [Uint8Array, Uint8Array][] = [];
    for (let k = this.raw.nextKey(undefined); k !== undefined; k = this.raw.nextKey(k)) {
      const v = this.raw.lookup(k);
      if (v !== undefined) out.push([k, v]);
      if (out.length > this.raw.def.maxEntries) break;
    }
    return out;
  }
}

export class EmulatedMaps {
  private readonly byName = new Map<string, EmulatedMap>();
  private readonly byRaw = new Map<BpfMap, EmulatedMap>();

  /** @internal */
  constructor(
    maps: readonly ObjectMap[],
    /** @internal */
    readonly registry: MapRegistry,
    private readonly perfEventsOpen: boolean,
  ) {
    for (const m of maps) if (m.map) this.add(m.name, m.map);
  }

  private add(name: string, raw: BpfMap): EmulatedMap {
    if (raw instanceof PerfEventArrayMap) raw.eventsOpen = this.perfEventsOpen;
    const m = new EmulatedMap(name, raw, this);
    this.byName.set(name, m);
    this.byRaw.set(raw, m);
    return m;
  }

  /** @internal the EmulatedMap of a map in the registry */
  wrap(raw: BpfMap): EmulatedMap {
    return this.byRaw.get(raw) ?? this.add(`fd ${this.registry.fdOf(raw)}`, raw);
  }

  /**
   * Create a map as user space would with BPF_MAP_CREATE, e.g. an inner map for a map of maps:
   * `maps.create('extra', maps.get('outer').innerDef!)`.
   */
  create(name: string, def: MapDef): EmulatedMap {
    if (this.byName.has(name)) throw new EmulatorError(`a map named '${name}' exists already`);
    try {
      return this.add(name, this.registry.create({ ...def, name }).map);
    } catch (e) {
      if (e instanceof MapError) throw new EmulatorError(e.message, { cause: e });
      throw e;
    }
  }

  /** The map named in the object (global data sections by section name: `.bss`, `.data`, `.rodata`). */
  get(name: string): EmulatedMap {
    const m = this.byName.get(name);
    if (m === undefined) {
      throw new EmulatorError(`no map named '${name}'`, { hint: `maps: ${[...this.byName.keys()].join(', ') || '(none)'}` });
    }
    return m;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}

export class Emulator {
  readonly object: BpfObject;
  readonly program: BpfProgram;
  /** enum bpf_prog_type the program runs as. */
  readonly progType: number;
  readonly maps: EmulatedMaps;
  private readonly kind: ProgramKind;
  private readonly registry: MapRegistry;
  private readonly objectMaps: ObjectMap[];
  private readonly env: KernelEnv;
  private readonly vm: Vm;
  private readonly linked = new Map<unknown, LinkedProgram>();
  private readonly skb: SkbContext | undefined;
  private readonly xdp: XdpContext | undefined;
  private readonly tracing: TracingSupport | undefined;
  private readonly coreTarget: Btf | undefined;
  private readonly helpers: Map<number, HelperFn>;
  /** Ring buffers and perf event arrays, whose records each run hands back. */
  private readonly eventMaps: ObjectMap[];
  private readonly recorder: CoverageRecorder | undefined;

  static fromObject(input: Uint8Array | BpfObject, options: EmulatorOptions = {}): Emulator {
    // A copy, so that constants never change an object the caller passed in.
    const obj = input instanceof Uint8Array ? readObject(input) : { ...input };
    if (options.constants) applyConstants(obj, laidOutBtf(obj), options.constants);
    return new Emulator(obj, options);
  }

  #btf: Btf | undefined | null = null;

  /** A ring buffer or perf event record decoded as the object's C type `typeName` (struct, union or typedef). */
  record(typeName: string, bytes: Uint8Array): CValue {
    if (this.#btf === null) this.#btf = laidOutBtf(this.object);
    const t = this.#btf?.byName(typeName).find((x) => x.kind === 'STRUCT' || x.kind === 'UNION' || x.kind === 'TYPEDEF');
    if (!t) throw new EmulatorError(`the object's BTF has no struct, union or typedef named '${typeName}'`);
    return new BtfCodec(this.#btf, t.id).decode(bytes);
  }

  /** The map `name` with keys and values as C values through the BTF codec, like bpfts/loader's maps. */
  map(name: string): TypedEmulatedMap {
    if (this.#btf === null) this.#btf = laidOutBtf(this.object);
    const ids = mapTypeIds(this.object, this.#btf, name);
    return new TypedEmulatedMap(this.maps.get(name), this.#btf, ids.key, ids.value);
  }

  private constructor(obj: BpfObject, options: EmulatorOptions) {
    this.object = obj;
    const entries = obj.programs.filter((p) => p.kind === 'entry');
    const names = entries.map((p) => p.name).join(', ') || '(none)';
    let prog: BpfProgram | undefined;
    if (options.program !== undefined) {
      prog = entries.find((p) => p.name === options.program) ?? entries.find((p) => p.section === options.program);
      if (prog === undefined) throw new EmulatorError(`no program '${options.program}' in the object`, { hint: `programs: ${names}` });
    } else if (entries.length === 1) {
      prog = entries[0]!;
    } else {
      throw new EmulatorError(`the object has ${entries.length} programs; say which one to run`, { hint: `programs: ${names}` });
    }
    this.program = prog;
    if (options.type !== undefined) this.progType = parseType(options.type);
    else {
      const match = matchSection(prog.section, { libbpf: 'upstream' });
      if (match === undefined) {
        throw new EmulatorError(`libbpf cannot tell the program type of section '${prog.section}'`, {
          hint: 'give the type (e.g. --type sched_cls for a tc classifier)',
        });
      }
      this.progType = match.progType;
    }
    const kind = kindOf(this.progType);
    if (kind === undefined) {
      throw new EmulatorError(`program type ${enumName(bpf_prog_type, this.progType) ?? this.progType} cannot be run on packets`, {
        hint: 'the emulator runs sched_cls, sched_act, xdp, socket_filter and cgroup_skb programs, and kprobe, tracepoint, raw_tracepoint, tracing and perf_event programs on a --memory context',
      });
    }
    this.kind = kind;
    const memory = new Memory();
    this.registry = new MapRegistry(memory, options.cpus ?? 1, options.mapMemory ?? DEFAULT_MAP_MEMORY);
    this.objectMaps = createObjectMaps(obj, this.registry);
    this.maps = new EmulatedMaps(this.objectMaps, this.registry, options.perfEventsOpen ?? kind === 'tracing');
    this.eventMaps = this.objectMaps.filter((m) => m.map instanceof RingBufMap || m.map instanceof PerfEventArrayMap);
    this.env = new KernelEnv(this.registry, {
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(options.clock?.startNs !== undefined ? { startNs: options.clock.startNs } : {}),
      ...(options.clock?.tickNs !== undefined ? { tickNs: options.clock.tickNs } : {}),
    });
    this.helpers = this.env.helpers();
    this.coreTarget = options.btf;
    let context;
    if (kind === 'tracing') {
      const core = obj.programs.some((p) => (p === prog || p.section === '.text') && p.coreRelocations.length > 0);
      if (options.btf === undefined && core) {
        throw new EmulatorError(`${prog.name} has CO-RE relocations; the emulator needs the target kernel's BTF to resolve them`, {
          hint: 'give the btf option (bpfts run --btf FILE; /sys/kernel/btf/vmlinux by default there)',
        });
      }
      this.tracing = new TracingSupport(memory, options.btf, tracingKind(this.progType, prog.section), prog.section, options.tracing ?? {});
      for (const [id, fn] of this.tracing.helpers(this.registry)) this.helpers.set(id, fn);
      context = this.tracing.context;
    } else if (kind === 'xdp') {
      this.xdp = new XdpContext(memory);
      for (const [id, fn] of this.xdp.helpers()) this.helpers.set(id, fn);
      context = this.xdp;
    } else {
      this.skb = new SkbContext(kind, memory, options.interfaces);
      for (const [id, fn] of this.skb.helpers(this.registry)) this.helpers.set(id, fn);
      context = this.skb;
    }
    const linked = this.link(prog);
    for (const s of readMapSlotInits(obj)) {
      if (s.kind !== 'program') continue;
      const raw = this.maps.has(s.map) ? this.maps.get(s.map).raw : undefined;
      if (!(raw instanceof ProgArrayMap)) continue;
      if (s.index >= raw.def.maxEntries) throw new EmulatorError(`prog array '${s.map}' has no slot ${s.index} for program '${s.target}'`);
      raw.setProgram(s.index, this.link(this.entry(s.target)).program);
    }
    this.vm = new Vm(linked.program, {
      memory,
      helpers: this.helpers,
      budget: options.budget ?? DEFAULT_BUDGET,
      context,
      kfuncName: (imm) => this.kfuncName(imm),
      ...(options.compile !== undefined ? { compile: options.compile } : {}),
    });
    this.vm.cpu = options.cpu ?? 0;
    const collector = (globalThis as { [COVERAGE_COLLECTOR]?: CoverageCollector })[COVERAGE_COLLECTOR];
    if (options.coverage ?? collector !== undefined) {
      this.vm.coverage = this.recorder = new CoverageRecorder();
      collector?.add(this);
    }
    this.vm.probeMem = this.tracing?.btfPointers ?? false;
  }

  /**
   * Lines, branches and functions of the object's C source the runs so far reached, through BTF
   * line_info and func_info (see mergeCoverage, toLcov and toCoverageHtml); needs `coverage: true`.
   * Every program of the object is in it: those this emulator never ran count zero.
   */
  coverage(): CoverageReport {
    const recorder = this.requireCoverage();
    const runs = recorder.programs().flatMap((c) => {
      const linked = this.linked.get(c.program);
      return linked === undefined ? [] : [{ origin: linked.origin, counts: c.counts(), taken: c.taken }];
    });
    return buildCoverageReport(this.object, runs);
  }

  /** Forget the counts so far, e.g. between the tests that share an emulator. */
  resetCoverage(): void {
    this.requireCoverage().reset();
  }

  private requireCoverage(): CoverageRecorder {
    if (this.recorder === undefined) {
      throw new EmulatorError('coverage is off for this emulator', { hint: 'create it with Emulator.fromObject(obj, { coverage: true })' });
    }
    return this.recorder;
  }

  private kfuncName(imm: number): string | undefined {
    const linked = this.linked.get(this.vm.current);
    return linked?.kfuncs[imm];
  }

  /** Point entry `index` of prog array `mapName` at another program of the object, for tail calls. */
  setTailCall(mapName: string, index: number, programName: string | undefined): void {
    const raw = this.maps.get(mapName).raw;
    if (!(raw instanceof ProgArrayMap)) throw new EmulatorError(`map '${mapName}' is a ${raw.typeName}, not a prog array`);
    if (programName === undefined) {
      raw.setProgram(index, undefined);
      return;
    }
    if (!Number.isInteger(index) || index < 0 || index >= raw.def.maxEntries) {
      throw new EmulatorError(`index ${index} is outside prog array '${mapName}' (${raw.def.maxEntries} entries)`);
    }
    raw.setProgram(index, this.link(this.entry(programName)).program);
  }

  private entry(name: string): BpfProgram {
    const prog = this.object.programs.find((p) => p.kind === 'entry' && p.name === name);
    if (prog === undefined) throw new EmulatorError(`no program '${name}' in the object`);
    return prog;
  }

  /** Each program is linked once, however many prog array slots hold it. */
  private link(prog: BpfProgram): LinkedProgram {
    for (const l of this.linked.values()) if (l.name === prog.name && l.section === prog.section) return l;
    const linked = linkProgram(this.object, prog, this.objectMaps, this.registry, this.coreTarget);
    this.linked.set(linked.program, linked);
    return linked;
  }

  /** Print every executed instruction with the registers before it (undefined turns tracing off). */
  set tracer(t: Tracer | undefined) {
    this.vm.tracer = t;
  }

  /** Run the program once on `packet` (a frame starting at its Ethernet header). */
  run(packet: Uint8Array, ctx?: ContextOverrides): RunOutput {
    const printkStart = this.env.trace.length;
    const executed = this.runOnce(packet, ctx);
    const out = new RunOutput(this.vm.lo[0]! >>> 0, this.context.output(), executed, this.kind);
    out.redirect = this.context.redirect;
    this.noteExit(out);
    if (this.env.trace.length > printkStart) out.printk = this.env.trace.splice(printkStart);
    if (this.xdp) out.metaBytes = this.xdp.meta();
    else {
      out.skbSnapshot = this.skb!.snapshot();
      if (this.skb!.clones.length) out.clones = this.skb!.clones;
    }
    if (this.eventMaps.length) this.drainEvents(out);
    return out;
  }

  /**
   * Run the program on every frame in turn, as run() would, and hand each run to `visit` (return false
   * from it to stop). The BatchRun it gets is one object reused for every frame and its fields are
   * read lazily, so a batch allocates nothing per packet unless the visitor asks for copies (packet,
   * skb, output()) or the program writes printk lines, ring buffer or perf records. For pcap replay
   * and property tests over many frames. A fault ends the batch, thrown as run() throws it.
   */
  runMany(frames: Iterable<Uint8Array>, visit?: (run: BatchRun) => boolean | void, ctx?: ContextOverrides): BatchSummary {
    const batch = (this.batch ??= new BatchRun(this, this.kind));
    // Verdicts are small numbers: counted in an array, the rest (socket filters' lengths) in a map.
    const small = new Float64Array(SMALL_RETVALS);
    const large = new Map<number, number>();
    let runs = 0;
    let executed = 0;
    try {
      for (const frame of frames) {
        const n = this.runBatched(batch, runs, frame, ctx);
        runs++;
        executed += n;
        const retval = batch.retval;
        if (retval < SMALL_RETVALS) small[retval]++;
        else large.set(retval, (large.get(retval) ?? 0) + 1);
        if (visit !== undefined && visit(batch) === false) break;
      }
    } finally {
      for (let r = 0; r < SMALL_RETVALS; r++) if (small[r]) large.set(r, small[r]!);
    }
    return { runs, executed, retvals: new Map([...large].sort((a, b) => a[0] - b[0])) };
  }

  /** One frame of runMany(): the run's results in `batch`; gives the instructions executed. */
  private runBatched(batch: BatchRun, index: number, frame: Uint8Array, ctx: ContextOverrides | undefined): number {
    batch.begin(index);
    const trace = this.env.trace;
    const printkStart = trace.length;
    const executed = this.runOnce(frame, ctx);
    batch.retval = this.vm.lo[0]! >>> 0;
    batch.executed = executed;
    if (trace.length > printkStart) batch.printk = trace.splice(printkStart);
    if (this.eventMaps.length) this.drainEvents(batch);
    return executed;
  }

  /** @internal the run's full RunOutput, for BatchRun.output() */
  outputOf(batch: BatchRun): RunOutput {
    const out = new RunOutput(batch.retval, this.context.output(), batch.executed, this.kind);
    out.redirect = this.context.redirect;
    this.noteExit(out);
    out.printk = batch.printk;
    out.ringbuf = batch.ringbuf;
    out.perf = batch.perf;
    if (this.xdp) out.metaBytes = this.xdp.meta();
    else {
      out.skbSnapshot = this.skb!.snapshot();
      if (this.skb!.clones.length) out.clones = this.skb!.clones;
    }
    return out;
  }

  /** @internal the packet context of the last run */
  get context(): XdpContext | SkbContext {
    return (this.xdp ?? this.skb)!;
  }

  private batch: BatchRun | undefined;

  /** One run on `packet`; r0 is left in vm.lo[0] / vm.hi[0]. Gives the instructions executed. */
  private runOnce(packet: Uint8Array, ctx: ContextOverrides | undefined): number {
    if (this.tracing) throw new EmulatorError(`${this.program.name} is a tracing program; run it with runTracing() (bpfts run --memory FILE)`);
    if (packet.length < ETH_HLEN) {
      throw new EmulatorError(`the packet is ${packet.length} bytes; BPF_PROG_TEST_RUN needs at least an Ethernet header (${ETH_HLEN})`);
    }
    const vm = this.vm;
    let region: number;
    if (this.xdp) {
      this.xdp.reset(packet, ctx);
      region = this.xdp.region;
    } else {
      const skb = this.skb!;
      skb.reset(packet, ctx);
      const p = skb.packet;
      vm.setLegacyPacketAt(p.region, p.data - p.meta, p.length);
      region = skb.region;
    }
    try {
      return vm.runWithPointer(region, 0);
    } catch (e) {
      if (e instanceof VmFault) {
        this.addSourceLine(e);
        if (e.kind === 'budget') e.hint ??= 'raise it with the budget option (bpfts run --budget N)';
      }
      throw e;
    }
  }

  /** The ring buffer and perf records of the last run, taken out of their maps. */
  private drainEvents(out: { ringbuf: Readonly<Record<string, Uint8Array[]>>; perf: Readonly<Record<string, PerfRecord[]>> }): void {
    const ringbuf: Record<string, Uint8Array[]> = {};
    const perf: Record<string, PerfRecord[]> = {};
    for (const m of this.eventMaps) {
      if (m.map instanceof RingBufMap) ringbuf[m.name] = m.map.drain();
      else if (m.map instanceof PerfEventArrayMap) perf[m.name] = m.map.records.splice(0);
    }
    out.ringbuf = ringbuf;
    out.perf = perf;
  }

  /**
   * Where the run that just ended exited and, with coverage on, its last conditional jump: the C
   * lines exitLine and decisionLine name, looked up only when asked.
   */
  private noteExit(out: RunOutput): void {
    out.exitProgram = this.vm.current;
    out.exitPc = this.vm.pc;
    out.emulator = this;
    if (this.recorder !== undefined) {
      out.jumpProgram = this.recorder.jumpProgram;
      out.jumpPc = this.recorder.jumpPc;
    }
  }

  /** @internal `file:line: text` of instruction pc of a linked program. */
  sourceLine(program: Program | undefined, pc: number): string | undefined {
    const linked = program === undefined ? undefined : this.linked.get(program);
    if (linked === undefined || pc < 0) return undefined;
    const { section, offset } = linked.origin(pc);
    return sourceLineAt(this.object.btfExt, section, offset);
  }

  /**
   * Run a tracing program once on `input`: its kernel objects mapped, its context laid out (see
   * TracingInput; a parsed `--memory` file is checked first).
   */
  runTracing(input: TracingInput): RunOutput {
    const tracing = this.tracing;
    if (tracing === undefined) throw new EmulatorError(`${this.program.name} is not a tracing program; run it on a packet with run()`);
    tracing.prepare(tracingInput(input));
    const printkStart = this.env.trace.length;
    let executed: number;
    try {
      executed = this.vm.runWithPointer(tracing.context.region, 0);
    } catch (e) {
      if (e instanceof VmFault) this.addSourceLine(e);
      throw e;
    }
    const out = new RunOutput(this.vm.lo[0]! >>> 0, new Uint8Array(0), executed, this.kind);
    if (this.env.trace.length > printkStart) out.printk = this.env.trace.splice(printkStart);
    if (this.eventMaps.length) this.drainEvents(out);
    return out;
  }

  private addSourceLine(e: VmFault): void {
    const linked = this.linked.get(this.vm.current);
    if (!linked) return;
    const { section, offset } = linked.origin(e.pc);
    const line = sourceLineAt(this.object.btfExt, section, offset);
    const where = `in ${linked.name}`;
    e.message = `${e.message} (${where}${line ? `, ${line}` : ''})`;
    if (line) e.sourceLine = line;
  }
}
