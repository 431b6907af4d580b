// Tracing attachments: tracepoints, raw tracepoints, perf software events and BTF-attached programs
// (fentry/fexit/fmod_ret, tp_btf, lsm); uprobe.ts and kprobe.ts build on the perf event binding here.
// A perf event carries the program through BPF_LINK_CREATE(BPF_PERF_EVENT) (Linux 5.15+), which
// gives a link that can be pinned, or PERF_EVENT_IOC_SET_BPF on older kernels. Whatever an attach
// creates is taken back if a later step fails, and by detach(); unpinned attachments end with the
// process (the kernel closes the descriptors; tracefs probe events are removed by an exit hook).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { bpf_attach_type, errnoName } from '../../uapi/index.js';
import { PERF_EVENT_IOC, PERF_FLAG, perf_event_sample_format, perf_sw_ids, perf_type_id } from '../abi/perf-event.js';
import { linkCreate, linkDetach, linkGetFdById, linkGetInfo, objGet, objPin, rawTracepointOpen } from '../sys/bpf.js';
import { SyscallError } from '../sys/errors.js';
import type { Fd, FdLike } from '../sys/fd.js';
import { ioctl, perfEventAttr, perfEventOpen, setAttrFlags } from '../sys/perf.js';
import { Undo } from '../object/undo.js';
import { attachStep, stepError } from './errors.js';
import { tracepointId } from './tracefs.js';
import { TracingError, TracingUnsupportedError } from './tracing-errors.js';

export type TracingKind =
  | 'tracepoint' | 'raw_tp' | 'perf_event' | 'uprobe' | 'uretprobe' | 'kprobe' | 'kretprobe'
  | 'fentry' | 'fexit' | 'fmod_ret' | 'tp_btf' | 'lsm';

/** How the program reached its hook. */
export type Binding = 'link' | 'ioctl';

/** Runs `fn` with a fresh Undo kept for detach; if it throws, takes back what it registered and rethrows. */
export function guarded<T>(fn: (undo: Undo) => T): T {
  const undo = new Undo();
  try {
    return fn(undo);
  } catch (e) {
    undo.rollback();
    throw e;
  }
}

const exitCleanups = new Set<Undo>();
let exitHooked = false;

/** Runs `c` at process exit unless it ran before: for what the kernel does not drop with the process (tracefs probe events). */
export function cleanupAtExit(c: Undo): () => void {
  exitCleanups.add(c);
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', () => {
      for (const x of exitCleanups) x.rollback();
    });
  }
  return () => exitCleanups.delete(c);
}

export interface TracingLinkParts {
  kind: TracingKind;
  /** The target as resolved ("syscalls:sys_enter_getppid", "/usr/bin/app:h_sum+4", "ip_rcv_core.isra.0"). */
  target: string;
  binding: Binding;
  link?: Fd;
  perfEvent?: Fd;
  /** What was chosen on the caller's behalf, e.g. the kallsyms symbol a function name resolved to. */
  notes?: string[];
  cleanup: Undo;
  /** Takes the cleanup out of the process exit hook (set for attachments the kernel does not end with the process). */
  forget?: () => void;
}

/** One tracing attachment: detach() (or disposal) removes every descriptor, pin and probe event it made. */
export class TracingLink implements Disposable {
  readonly kind: TracingKind;
  readonly target: string;
  readonly binding: Binding;
  readonly notes: readonly string[];
  readonly #link: Fd | undefined;
  readonly #perf: Fd | undefined;
  readonly #cleanup: Undo;
  readonly #forget: (() => void) | undefined;
  #pinnedAt: string | undefined;
  #detached = false;

  constructor(p: TracingLinkParts) {
    this.kind = p.kind;
    this.target = p.target;
    this.binding = p.binding;
    this.notes = p.notes ?? [];
    this.#link = p.link;
    this.#perf = p.perfEvent;
    this.#cleanup = p.cleanup;
    this.#forget = p.forget;
  }

  /** The bpf link descriptor (absent when the program was bound with PERF_EVENT_IOC_SET_BPF). */
  get link(): Fd | undefined {
    return this.#link;
  }

  /** The perf event the program runs on (tracepoint, probe and software event attachments). */
  get perfEvent(): Fd | undefined {
    return this.#perf;
  }

  get pinnedAt(): string | undefined {
    return this.#pinnedAt;
  }

  get detached(): boolean {
    return this.#detached;
  }

  /** Pins the link on bpffs so that the attachment outlives this process (close() then keeps it). */
  pin(path: string): void {
    if (!this.#link) {
      throw new TracingError(`the ${this.kind} attachment to ${this.target} was made with PERF_EVENT_IOC_SET_BPF and has no link to pin`, {
        hint: 'pinning tracing attachments needs BPF_LINK_CREATE for perf events (Linux 5.15+)',
      });
    }
    const link = this.#link;
    attachStep(`pin ${path}`, () => objPin(link, path));
    this.#pinnedAt = path;
    this.#cleanup.push(`unpin ${path}`, () => rmSync(path, { force: true }));
    // A pinned attachment outlives the process: the exit hook must leave it (and its probe event) alone.
    this.#forget?.();
  }

  /** Closes the descriptors; a pinned attachment stays in the kernel, an unpinned one ends. */
  close(): void {
    if (this.#detached) return;
    this.#detached = true;
    if (this.#pinnedAt === undefined) {
      this.#runCleanup();
      return;
    }
    this.#link?.close();
    this.#perf?.close();
    this.#forget?.();
  }

  /** Removes the attachment: the pin, the link, the perf event and any tracefs probe event. */
  detach(): void {
    if (this.#detached) return;
    this.#detached = true;
    this.#runCleanup();
  }

  #runCleanup(): void {
    this.#cleanup.rollback();
    this.#forget?.();
    if (this.#cleanup.failures.length > 0) {
      throw new TracingError(`detaching ${this.kind} ${this.target} left something behind: ${this.#cleanup.failures.join('; ')}`);
    }
  }

  [Symbol.dispose](): void {
    this.detach();
  }

  toString(): string {
    return `${this.kind} ${this.target} (${this.binding === 'link' ? 'bpf link' : 'PERF_EVENT_IOC_SET_BPF'}${this.#pinnedAt ? `, pinned at ${this.#pinnedAt}` : ''})`;
  }
}

export interface BindOptions {
  /** 'auto' (default) tries BPF_LINK_CREATE and falls back to PERF_EVENT_IOC_SET_BPF. */
  binding?: 'auto' | Binding;
  /** The value bpf_get_attach_cookie() returns (link binding only). */
  cookie?: bigint;
}

const explainIoctl = (what: string) => (errno: number): string => {
  switch (errnoName(errno)) {
    case 'EINVAL': return `the program's type does not fit this perf event (${what})`;
    case 'EEXIST': return 'a program is already attached to this perf event';
    case 'EPERM': case 'EACCES': return 'attaching tracing programs needs root or CAP_PERFMON and CAP_BPF';
    default: return `the kernel refused ${what}`;
  }
};

/** Link creation errors that mean "this kernel has no perf event links", where SET_BPF still works. */
const NO_PERF_LINK = new Set(['EINVAL', 'EOPNOTSUPP', 'ENOTSUPP', 'E2BIG']);

/** Runs `prog` on the perf event `pfd` (which the caller's cleanup owns) and enables the event. */
export function bindPerfEvent(prog: FdLike, pfd: Fd, cleanup: Undo, o: BindOptions = {}): { binding: Binding; link?: Fd } {
  const mode = o.binding ?? 'auto';
  let link: Fd | undefined;
  if (mode !== 'ioctl') {
    try {
      link = linkCreate({
        prog, attachType: bpf_attach_type.BPF_PERF_EVENT, targetFd: pfd,
        ...(o.cookie !== undefined ? { perfEvent: { bpfCookie: o.cookie } } : {}),
      });
    } catch (e) {
      if (mode === 'link' || !(e instanceof SyscallError) || !NO_PERF_LINK.has(e.errnoName)) throw stepError('tracing link', e);
    }
  }
  if (link) {
    const l = link;
    cleanup.push('close the perf event link', () => l.close());
  } else {
    if (o.cookie !== undefined) throw new TracingError('attach cookies need BPF_LINK_CREATE for perf events (Linux 5.15+)');
    attachStep('perf event', () => ioctl(pfd, PERF_EVENT_IOC.PERF_EVENT_IOC_SET_BPF, typeof prog === 'number' ? prog : prog.value, 'PERF_EVENT_IOC_SET_BPF', explainIoctl('PERF_EVENT_IOC_SET_BPF')));
  }
  attachStep('perf event', () => ioctl(pfd, PERF_EVENT_IOC.PERF_EVENT_IOC_ENABLE, 0, 'PERF_EVENT_IOC_ENABLE', explainIoctl('PERF_EVENT_IOC_ENABLE')));
  cleanup.push('disable the perf event', () => {
    if (pfd.closed) return;
    try {
      ioctl(pfd, PERF_EVENT_IOC.PERF_EVENT_IOC_DISABLE, 0, 'PERF_EVENT_IOC_DISABLE', explainIoctl('PERF_EVENT_IOC_DISABLE'));
    } catch {
      // Closing the event, later in this clean-up, ends it and detaches the program all the same.
    }
  });
  return link ? { binding: 'link', link } : { binding: 'ioctl' };
}

/** Opens a perf event on one CPU (pid -1: every task) or for one task (cpu -1), and registers its closing. */
export function openPerfEvent(attr: ReturnType<typeof perfEventAttr>, cpu: number, cleanup: Undo, pid = -1): Fd {
  const pfd = attachStep('perf event', () => perfEventOpen(attr, pid, cpu, -1, PERF_FLAG.PERF_FLAG_FD_CLOEXEC));
  cleanup.push('close the perf event', () => pfd.close());
  return pfd;
}

/** Parses `CATEGORY:NAME` (or `CATEGORY/NAME`, as in section names). */
export function parseTracepoint(spec: string): { category: string; name: string } {
  const m = /^([^:/]+)[:/]([^:/]+)$/.exec(spec);
  if (!m) throw new TracingError(`'${spec}' is not a tracepoint`, { hint: 'tracepoints are CATEGORY:NAME, e.g. syscalls:sys_enter_openat' });
  return { category: m[1]!, name: m[2]! };
}

/** Attaches a tracepoint program (BPF_PROG_TYPE_TRACEPOINT) to CATEGORY:NAME. */
export function attachTracepoint(prog: FdLike, spec: string, o: BindOptions = {}): TracingLink {
  const { category, name } = parseTracepoint(spec);
  const id = tracepointId(category, name);
  return guarded((cleanup) => {
    const attr = perfEventAttr()
      .set('type', perf_type_id.PERF_TYPE_TRACEPOINT)
      .set('config', id)
      .set('sample_type', perf_event_sample_format.PERF_SAMPLE_RAW)
      .set('sample_period', 1)
      .set('wakeup_events', 1);
    const pfd = openPerfEvent(attr, 0, cleanup);
    const bound = bindPerfEvent(prog, pfd, cleanup, o);
    return new TracingLink({ kind: 'tracepoint', target: `${category}:${name}`, perfEvent: pfd, cleanup, ...bound });
  });
}

/** Attaches a raw_tp program to the raw tracepoint `name` (BPF_RAW_TRACEPOINT_OPEN). */
export function attachRawTracepoint(prog: FdLike, name: string, o: { cookie?: bigint } = {}): TracingLink {
  if (!/^\w+$/.test(name)) throw new TracingError(`'${name}' is not a raw tracepoint name`, { hint: 'raw tracepoints are named without a category, e.g. sched_switch' });
  return guarded((cleanup) => {
    const link = attachStep('tracing link', () => {
      try {
        return rawTracepointOpen(prog, name, o.cookie);
      } catch (e) {
        if (e instanceof SyscallError && e.errnoName === 'ENOENT') {
          throw new TracingError(`this kernel has no raw tracepoint '${name}'`, { hint: 'raw tracepoints carry the tracepoint names without the category (sched_switch, netif_receive_skb)', cause: e });
        }
        throw e;
      }
    });
    cleanup.push('close the raw tracepoint link', () => link.close());
    return new TracingLink({ kind: 'raw_tp', target: name, binding: 'link', link, cleanup });
  });
}

/** perf software events by the name after `software:` (perf list spells them like this). */
export const SOFTWARE_EVENTS: Readonly<Record<string, number>> = {
  'cpu-clock': perf_sw_ids.PERF_COUNT_SW_CPU_CLOCK,
  'task-clock': perf_sw_ids.PERF_COUNT_SW_TASK_CLOCK,
  'page-faults': perf_sw_ids.PERF_COUNT_SW_PAGE_FAULTS,
  'context-switches': perf_sw_ids.PERF_COUNT_SW_CONTEXT_SWITCHES,
  'cpu-migrations': perf_sw_ids.PERF_COUNT_SW_CPU_MIGRATIONS,
  'minor-faults': perf_sw_ids.PERF_COUNT_SW_PAGE_FAULTS_MIN,
  'major-faults': perf_sw_ids.PERF_COUNT_SW_PAGE_FAULTS_MAJ,
  'alignment-faults': perf_sw_ids.PERF_COUNT_SW_ALIGNMENT_FAULTS,
  'emulation-faults': perf_sw_ids.PERF_COUNT_SW_EMULATION_FAULTS,
  dummy: perf_sw_ids.PERF_COUNT_SW_DUMMY,
  'cgroup-switches': perf_sw_ids.PERF_COUNT_SW_CGROUP_SWITCHES,
};

export interface PerfEventOptions extends BindOptions {
  /** The software event, by name (SOFTWARE_EVENTS) or PERF_COUNT_SW_* number. */
  event: string | number;
  /** Run every `period` events (default 1), or `frequency` times a second. */
  period?: number;
  frequency?: number;
  /** CPUs to sample on; default every online CPU. */
  cpus?: number[];
}

/** The online CPUs (/sys/devices/system/cpu/online). */
export function onlineCpus(): number[] {
  const text = existsSync('/sys/devices/system/cpu/online') ? readFileSync('/sys/devices/system/cpu/online', 'utf8') : '0';
  return text.trim().split(',').flatMap((part) => {
    const [a, b] = part.split('-').map(Number);
    return Array.from({ length: (b ?? a!) - a! + 1 }, (_, i) => a! + i);
  });
}

/**
 * Attaches a perf_event program to a software event on each CPU: one TracingLink per CPU (a perf
 * event counts on one CPU when it follows no task).
 */
export function attachPerfEvent(prog: FdLike, o: PerfEventOptions): TracingLink[] {
  const config = typeof o.event === 'number' ? o.event : SOFTWARE_EVENTS[o.event];
  if (config === undefined) {
    throw new TracingError(`unknown software event '${String(o.event)}'`, { hint: `software events: ${Object.keys(SOFTWARE_EVENTS).join(', ')}` });
  }
  const name = `software:${o.event}`;
  const links: TracingLink[] = [];
  try {
    for (const cpu of o.cpus ?? onlineCpus()) {
      links.push(guarded((cleanup) => {
        const attr = perfEventAttr().set('type', perf_type_id.PERF_TYPE_SOFTWARE).set('config', config);
        if (o.frequency !== undefined) {
          attr.set('sample_freq', o.frequency);
          setAttrFlags(attr, 'freq');
        } else {
          attr.set('sample_period', o.period ?? 1);
        }
        const pfd = openPerfEvent(attr, cpu, cleanup);
        const bound = bindPerfEvent(prog, pfd, cleanup, o);
        return new TracingLink({ kind: 'perf_event', target: `${name} on CPU ${cpu}`, perfEvent: pfd, cleanup, ...bound });
      }));
    }
    return links;
  } catch (e) {
    for (const l of links) l.detach();
    throw e;
  }
}

/** The BPF_LINK_CREATE attach type of each BTF-attached kind. */
const BTF_ATTACH_TYPE: Record<'fentry' | 'fexit' | 'fmod_ret' | 'tp_btf' | 'lsm', number> = {
  fentry: bpf_attach_type.BPF_TRACE_FENTRY,
  fexit: bpf_attach_type.BPF_TRACE_FEXIT,
  fmod_ret: bpf_attach_type.BPF_MODIFY_RETURN,
  tp_btf: bpf_attach_type.BPF_TRACE_RAW_TP,
  lsm: bpf_attach_type.BPF_LSM_MAC,
};

export type BtfTracingKind = keyof typeof BTF_ATTACH_TYPE;

/** Why a kernel refuses BTF-attached tracing programs, for the error's hint. */
export function trampolineHint(kind: string, target: string): string {
  return kind === 'tp_btf'
    ? `attach to the same tracepoint as a raw tracepoint (raw-tp:${target}) or a tracepoint instead`
    : `this kernel cannot run BPF trampolines (fentry/fexit/fmod_ret/lsm need CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS and a JIT that builds them); ` +
      `trace ${target} through a tracepoint or raw tracepoint on its code path instead`;
}

/**
 * Attaches a program loaded for a BTF target (fentry/fexit/fmod_ret/tp_btf/lsm: the target was
 * fixed at load time by attach_btf_id) with BPF_LINK_CREATE, falling back to BPF_RAW_TRACEPOINT_OPEN
 * on kernels before 5.13. `target` only labels the attachment.
 */
export function attachBtfTracing(prog: FdLike, kind: BtfTracingKind, target: string, o: { cookie?: bigint } = {}): TracingLink {
  return guarded((cleanup) => {
    let link: Fd;
    try {
      link = linkCreate({ prog, attachType: BTF_ATTACH_TYPE[kind], ...(o.cookie !== undefined ? { tracing: { cookie: o.cookie } } : {}) });
    } catch (e) {
      if (!(e instanceof SyscallError)) throw e;
      if (e.errnoName === 'EPERM' || e.errnoName === 'ENOTSUPP' || e.errnoName === 'EOPNOTSUPP') {
        throw new TracingUnsupportedError(kind, target, e.errnoName, trampolineHint(kind, target), { cause: e });
      }
      if (e.errnoName !== 'EINVAL' || o.cookie !== undefined) throw e;
      link = rawTracepointOpen(prog, undefined);
    }
    cleanup.push(`close the ${kind} link`, () => link.close());
    return new TracingLink({ kind, target, binding: 'link', link, cleanup });
  });
}

/**
 * Removes an attachment pinned by another process: the pin goes, and with it the last reference to
 * the link (BPF_LINK_DETACH first where the link type supports it, so open descriptors see it end).
 * It returns once the kernel has dropped the link's id; a perf event link is released by the same
 * kernel work item just after that, so its program may still run until the kernel's workqueue
 * gets to it (milliseconds, longer on a loaded machine).
 */
export function detachPinnedLink(path: string): void {
  attachStep('tracing link', () => detachLinkAt(path));
}

function detachLinkAt(path: string): void {
  const link = objGet(path, 0, 'link');
  let id: number;
  try {
    id = linkGetInfo(link).id;
    linkDetach(link);
  } catch (e) {
    if (!(e instanceof SyscallError) || !['EOPNOTSUPP', 'ENOTSUPP', 'EINVAL'].includes(e.errnoName)) throw e;
  } finally {
    link.close();
  }
  rmSync(path, { force: true });
  // Dropping the last reference through an unlink frees the link from a kernel workqueue (after an
  // RCU grace period for the bpffs inode), so wait for its id to go before saying it is gone.
  const deadline = Date.now() + 2000;
  for (;;) {
    let still: Fd;
    try {
      still = linkGetFdById(id!);
    } catch (e) {
      if (e instanceof SyscallError && e.errnoName === 'ENOENT') return;
      throw e;
    }
    still.close();
    if (Date.now() > deadline) throw new TracingError(`link ${id!} pinned at ${path} is still in the kernel after its pin was removed`, { hint: 'another process holds a descriptor of it' });
    Atomics.wait(SLEEPER, 0, 0, 1);
  }
}

const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

/** The BTF-attached kind a section name declares (fentry/..., fexit/..., tp_btf/..., lsm/...), if any. */
export function btfTracingKind(section: string): BtfTracingKind | undefined {
  const prefix = section.split('/')[0]!.replace(/\.s$/, '');
  return prefix === 'fentry' || prefix === 'fexit' || prefix === 'fmod_ret' || prefix === 'tp_btf' || prefix === 'lsm' ? prefix : undefined;
}

/**
 * A load failure of a BTF-attached tracing program the kernel refuses outright (EPERM, ENOTSUPP:
 * no trampolines) as a TracingUnsupportedError that says so; any other error unchanged.
 */
export function explainTracingLoadFailure(e: unknown, section: string): unknown {
  const kind = btfTracingKind(section);
  if (!kind || !(e instanceof Error)) return e;
  const cause = e instanceof SyscallError ? e : e.cause;
  if (!(cause instanceof SyscallError) || !['EPERM', 'ENOTSUPP', 'EOPNOTSUPP'].includes(cause.errnoName)) return e;
  const target = section.slice(section.indexOf('/') + 1);
  return new TracingUnsupportedError(kind, target, cause.errnoName, trampolineHint(kind, target), { cause: e });
}
