// A loaded program and its attachments.
import { bpf_attach_type } from '../uapi/index.js';
import type { Direction } from './netlink/index.js';
import type { LoadedProgram } from './object/load.js';
import { attachFromSection } from './attach/auto.js';
import { attachKprobe } from './attach/kprobe.js';
import {
  attachBtfTracing, attachPerfEvent, attachRawTracepoint, attachTracepoint, btfTracingKind, type BtfTracingKind,
  type PerfEventOptions, type TracingLink as RawTracingLink,
} from './attach/tracing.js';
import { TracingError } from './attach/tracing-errors.js';
import { attachUprobe } from './attach/uprobe.js';
import { KernelLink, TCX_ATTACH, TcLink, createDeviceLink, xdpLinkFlags, type Link, type Netns, type TcAttachOptions, type XdpMode } from './link.js';
import { progTestRun, type TestRunOptions, type TestRunResult } from './sys/bpf.js';
import type { Fd } from './sys/fd.js';
import { TracingLink } from './tracing-links.js';

/** A tracepoint: 'CATEGORY:NAME' (as in tracefs events/CATEGORY/NAME) or its two parts. */
export type TracepointTarget = string | { category: string; name: string };

export interface KprobeAttachOptions {
  /** A kretprobe: the program runs when the function returns. */
  retprobe?: boolean;
  /** Bytes into the function (kprobes only). */
  offset?: number;
  /** The value bpf_get_attach_cookie() returns. */
  cookie?: bigint;
}

export interface UprobeAttachOptions {
  /** A path, a shared library name (libc.so.6) or a command on PATH. */
  binary: string;
  /** The function, from the binary's ELF symbol tables; without it `offset` is a file offset. */
  symbol?: string;
  /** Bytes past the symbol, or the file offset when no symbol is given. */
  offset?: number;
  /** Only this process (default every process that runs the binary). */
  pid?: number;
  /** A uretprobe: the program runs when the function returns. */
  retprobe?: boolean;
  cookie?: bigint;
}

export type PerfEventAttachOptions = Omit<PerfEventOptions, 'binding'>;

/** The call that attaches a program of each auto-attach section prefix, for the error of a section that names no target. */
const ATTACH_CALL: Readonly<Record<string, string>> = {
  kprobe: "attachKprobe('FUNC')",
  kretprobe: "attachKprobe('FUNC', { retprobe: true })",
  uprobe: "attachUprobe({ binary: '/path/to/binary', symbol: 'FUNC' })",
  uretprobe: "attachUprobe({ binary: '/path/to/binary', symbol: 'FUNC', retprobe: true })",
  tracepoint: "attachTracepoint('CATEGORY:NAME')",
  tp: "attachTracepoint('CATEGORY:NAME')",
  raw_tracepoint: "attachRawTracepoint('NAME')",
  raw_tp: "attachRawTracepoint('NAME')",
  perf_event: "attachPerfEvent({ event: 'cpu-clock', frequency: 99 })",
};

export class Program {
  readonly #links = new Set<Link>();
  readonly #loaded: LoadedProgram;

  /** @internal */
  constructor(loaded: LoadedProgram) {
    this.#loaded = loaded;
  }

  /** The function name in the object. */
  get name(): string {
    return this.#loaded.name;
  }

  get section(): string {
    return this.#loaded.section;
  }

  /** "sched_cls", "xdp", ... (enum bpf_prog_type without its prefix). */
  get typeName(): string {
    return this.#loaded.typeName;
  }

  get type(): number {
    return this.#loaded.type;
  }

  get fd(): Fd {
    return this.#loaded.fd;
  }

  /** The kernel's program id. */
  get id(): number {
    return this.#loaded.id;
  }

  /** The kernel's tag (16 hex digits, as bpftool prints it). */
  get tag(): string {
    return this.#loaded.tag;
  }

  /** The attachments made through this handle and not yet detached. */
  get links(): readonly Link[] {
    return [...this.#links];
  }

  #track<L extends Link>(link: L): L {
    this.#links.add(link);
    link.onDetach(() => this.#links.delete(link));
    return link;
  }

  /** A cls_bpf filter (direct action) on the device's clsact hook, adding the qdisc when the device has none. */
  attachTc(o: TcAttachOptions): TcLink {
    return this.#track(new TcLink(this.fd, this.id, o));
  }

  /** A tcx link (Linux 6.6+) on the device's ingress or egress. */
  attachTcx(o: { dev: string; direction: Direction; netns?: Netns }): KernelLink {
    return this.#track(createDeviceLink(this.fd, 'tcx', { dev: o.dev, ...(o.netns !== undefined ? { netns: o.netns } : {}), attachType: TCX_ATTACH[o.direction] }));
  }

  /** An XDP link (Linux 5.9+); `mode` generic (skb), native (driver) or offload; default the kernel's choice. */
  attachXdp(o: { dev: string; mode?: XdpMode; netns?: Netns }): KernelLink {
    return this.#track(createDeviceLink(this.fd, 'xdp', {
      dev: o.dev, ...(o.netns !== undefined ? { netns: o.netns } : {}), attachType: bpf_attach_type.BPF_XDP, flags: xdpLinkFlags(o.mode),
    }));
  }

  #trace(parts: RawTracingLink | RawTracingLink[]): TracingLink {
    return this.#track(new TracingLink(Array.isArray(parts) ? parts : [parts]));
  }

  /** A tracepoint program on 'CATEGORY:NAME' (a perf event on the tracepoint, the program bound to it). */
  attachTracepoint(target: TracepointTarget, o: { cookie?: bigint } = {}): TracingLink {
    const spec = typeof target === 'string' ? target : `${target.category}:${target.name}`;
    return this.#trace(attachTracepoint(this.fd, spec, o));
  }

  /** A raw_tp program on the raw tracepoint `name` (the tracepoint's name without its category). */
  attachRawTracepoint(name: string, o: { cookie?: bigint } = {}): TracingLink {
    return this.#trace(attachRawTracepoint(this.fd, name, o));
  }

  /**
   * A kprobe or kretprobe on kernel function `fn` (resolved through /proc/kallsyms: `ip_rcv_core`
   * finds `ip_rcv_core.isra.0`, see `link.notes`). On a kernel without kprobes a
   * KprobesUnavailableError names what works instead.
   */
  attachKprobe(fn: string, o: KprobeAttachOptions = {}): TracingLink {
    return this.#trace(attachKprobe(this.fd, fn, o));
  }

  /** A uprobe or uretprobe on a function of an executable or shared library. */
  attachUprobe(o: UprobeAttachOptions): TracingLink {
    if (o.symbol === undefined && o.offset === undefined) {
      throw new TracingError(`a uprobe on ${o.binary} needs a symbol or a file offset`, { hint: "e.g. attachUprobe({ binary, symbol: 'main' })" });
    }
    const where = o.symbol === undefined
      ? `0x${(o.offset ?? 0).toString(16)}`
      : `${o.symbol}${o.offset ? `+${o.offset}` : ''}`;
    return this.#trace(attachUprobe(this.fd, `${o.binary}:${where}`, {
      ...(o.retprobe ? { retprobe: true } : {}), ...(o.pid !== undefined ? { pid: o.pid } : {}), ...(o.cookie !== undefined ? { cookie: o.cookie } : {}),
    }));
  }

  /** A perf_event program on a software event ('cpu-clock', 'page-faults', ...) on every online CPU, or `cpus`. */
  attachPerfEvent(o: PerfEventAttachOptions): TracingLink {
    return this.#trace(attachPerfEvent(this.fd, o));
  }

  /**
   * A program loaded for a BTF target (fentry/, fexit/, fmod_ret/, tp_btf/, lsm/ sections: the
   * kernel fixed the target at load). A kernel that cannot build BPF trampolines refuses with EPERM,
   * which is a TracingUnsupportedError (usually already at Collection.load).
   */
  attachTracing(o: { cookie?: bigint } = {}): TracingLink {
    return this.#btf(undefined, o);
  }

  /** attachTracing() for an fentry/ program; another section is an error. */
  attachFentry(o: { cookie?: bigint } = {}): TracingLink {
    return this.#btf('fentry', o);
  }

  /** attachTracing() for an fexit/ program; another section is an error. */
  attachFexit(o: { cookie?: bigint } = {}): TracingLink {
    return this.#btf('fexit', o);
  }

  #btf(want: BtfTracingKind | undefined, o: { cookie?: bigint }): TracingLink {
    const kind = btfTracingKind(this.section);
    if (!kind || (want !== undefined && kind !== want)) {
      throw new TracingError(`program '${this.name}' is in section '${this.section}', not a ${want ?? 'BTF-attached (fentry/fexit/fmod_ret/tp_btf/lsm)'} section`, {
        hint: want ? `its section must be ${want}/FUNC, which fixes the target at load` : 'use the attach method of its own kind',
      });
    }
    return this.#trace(attachBtfTracing(this.fd, kind, this.section.slice(this.section.indexOf('/') + 1), o));
  }

  /**
   * Attaches where the section name says, by libbpf's auto-attach rules: kprobe/FUNC,
   * kretprobe/FUNC, uprobe/BINARY:SYMBOL, uretprobe/..., tracepoint/CAT/NAME (tp/...),
   * raw_tp/NAME (raw_tracepoint/...), fentry/FUNC, fexit/FUNC, fmod_ret/FUNC, tp_btf/NAME, lsm/HOOK.
   * A section that names no target is an error saying which method to call.
   */
  attach(): TracingLink {
    let spec;
    try {
      spec = attachFromSection(this.name, this.section);
    } catch (e) {
      if (!(e instanceof TracingError)) throw e;
      const call = ATTACH_CALL[this.section.split('/')[0]!.replace(/\.[sw]$/, '')] ?? 'attachTracing()';
      throw new TracingError(`program '${this.name}' is in section '${this.section}', which names no target to attach to`, {
        hint: `say where: program.${call}`, cause: e,
      });
    }
    if (!spec) {
      throw new TracingError(`program '${this.name}' (section '${this.section}', ${this.typeName}) has no attach target in its section name`, {
        hint: this.typeName === 'sched_cls' ? 'attach it with attachTc({ dev, direction }) or attachTcx' : this.typeName === 'xdp' ? 'attach it with attachXdp({ dev })' : 'attach it with the method of its kind',
      });
    }
    switch (spec.kind) {
      case 'kprobe': case 'kretprobe': return this.attachKprobe(spec.target, { retprobe: spec.kind === 'kretprobe' });
      case 'uprobe': case 'uretprobe': return this.#trace(attachUprobe(this.fd, spec.target, { retprobe: spec.kind === 'uretprobe' }));
      case 'tracepoint': return this.attachTracepoint(spec.target);
      case 'raw-tp': return this.attachRawTracepoint(spec.target);
      case 'perf-event': return this.attachPerfEvent({ event: spec.target });
      default: return this.attachTracing();
    }
  }

  /** BPF_PROG_TEST_RUN: the program run once (or `repeat` times) on `dataIn`. */
  testRun(o: TestRunOptions): TestRunResult {
    return progTestRun(this.fd, o);
  }

  /** Detaches every link made through this handle, pinned ones too. */
  detachAll(): void {
    this.#each((link) => link.detach());
  }

  /** @internal What the collection's close() does: every link closed (pinned ones stay attached). */
  closeLinks(): void {
    this.#each((link) => link.close());
  }

  #each(fn: (link: Link) => void): void {
    const errors: unknown[] = [];
    for (const link of [...this.#links]) {
      try {
        fn(link);
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}
