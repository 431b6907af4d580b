// kprobes and kretprobes: through the kprobe PMU (Linux 4.17+), else a probe event written to
// tracefs kprobe_events and opened as a tracepoint. Function names are resolved against
// /proc/kallsyms first, because the compiler renames static functions it specialises
// (ip_rcv_core → ip_rcv_core.isra.0) and the kernel only probes names that exist. A kernel
// without kprobes gets a KprobesUnavailableError naming what works for the same function.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { perf_type_id } from '../abi/perf-event.js';
import { vmlinuxBtf } from '../object/kernel-btf.js';
import { addressOf, pinnedCopy } from '../sys/libc.js';
import type { FdLike } from '../sys/fd.js';
import { perfEventAttr } from '../sys/perf.js';
import { availableEvents, tracefsRoot, tracepointId, writeTracefs } from './tracefs.js';
import { AmbiguousSymbolError, KprobesUnavailableError, TracingError } from './tracing-errors.js';
import { TracingLink, guarded, bindPerfEvent, cleanupAtExit, openPerfEvent, type BindOptions } from './tracing.js';
import { probePmu } from './uprobe.js';

export interface KallsymsEntry {
  address: bigint;
  type: string;
  name: string;
  module?: string;
}

/** /proc/kallsyms's text symbols, parsed from `text` (default: the running kernel's). */
export function readKallsyms(text = readFileSync('/proc/kallsyms', 'utf8')): KallsymsEntry[] {
  const out: KallsymsEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+) ([tTwW]) (\S+)(?:\s+\[(\S+)\])?$/.exec(line);
    if (m) out.push({ address: BigInt(`0x${m[1]}`), type: m[2]!, name: m[3]!, ...(m[4] ? { module: m[4] } : {}) });
  }
  return out;
}

export interface ResolvedFunction {
  /** The kallsyms name the probe goes on. */
  symbol: string;
  /** Set when the name given was not the symbol itself: which symbol was chosen and why. */
  note?: string;
}

/**
 * The kernel symbol a function name means: itself when kallsyms has exactly it once, else its one
 * compiler-made variant (`NAME.isra.0`, `NAME.constprop.0`, `NAME.part.0`; `.cold` parts never).
 * Several candidates, or a name kallsyms lists more than once, is an AmbiguousSymbolError.
 */
export function resolveKernelFunction(name: string, kallsyms: KallsymsEntry[] = readKallsyms()): ResolvedFunction {
  const exact = kallsyms.filter((s) => s.name === name);
  if (exact.length === 1) return { symbol: name };
  if (exact.length > 1) {
    const candidates = exact.map((s) => `${s.name} at 0x${s.address.toString(16)}${s.module ? ` [${s.module}]` : ''}`);
    throw new AmbiguousSymbolError(`'${name}' names ${exact.length} kernel functions: ${candidates.join(', ')}`, candidates, {
      hint: 'the kernel refuses to probe a name that is not unique; probe by address or choose another function',
    });
  }
  const variants = [...new Set(kallsyms.filter((s) => s.name.startsWith(`${name}.`) && !/\.cold(\.\d+)?$/.test(s.name)).map((s) => s.name))];
  if (variants.length === 1) return { symbol: variants[0]!, note: `${name} is ${variants[0]} in this kernel (kallsyms), probed there` };
  if (variants.length > 1) {
    throw new AmbiguousSymbolError(`'${name}' has ${variants.length} compiler-made variants in this kernel: ${variants.join(', ')}`, variants, {
      hint: 'name the one to probe exactly',
    });
  }
  throw new TracingError(`this kernel has no function '${name}' (not in /proc/kallsyms)`, {
    hint: 'the function may be inlined everywhere, or named differently in this kernel version',
  });
}

/** What works on this kernel for a function that cannot be kprobed. */
export function kprobeAlternatives(func: string): string[] {
  const out: string[] = [];
  const base = func.replace(/\..*$/, '');
  try {
    if (vmlinuxBtf().find(base, 'FUNC')) out.push(`fentry:${base} / fexit:${base} (the kernel's BTF has the function)`);
  } catch {
    // No kernel BTF: no fentry either.
  }
  let events: string[] = [];
  try {
    events = availableEvents();
  } catch {
    // No tracefs: no tracepoints to name.
  }
  const tps = events.filter((e) => e.slice(e.indexOf(':') + 1).includes(base)).slice(0, 6);
  for (const tp of tps) out.push(`tracepoint:${tp} or raw-tp:${tp.slice(tp.indexOf(':') + 1)}`);
  return out;
}

function kprobeEventsFile(): string | undefined {
  try {
    const file = `${tracefsRoot()}/kprobe_events`;
    return existsSync(file) ? file : undefined;
  } catch {
    return undefined;
  }
}

export interface KprobeOptions extends BindOptions {
  retprobe?: boolean;
  /** Bytes into the function (kprobes only). */
  offset?: number;
  /** 'auto' (default): the PMU, else tracefs kprobe_events. */
  via?: 'auto' | 'pmu' | 'tracefs';
  /** kallsyms to resolve against (tests); default /proc/kallsyms. */
  kallsyms?: KallsymsEntry[];
}

/** Attaches a kprobe-type program to FUNC[+OFFSET] as a kprobe or kretprobe. */
export function attachKprobe(prog: FdLike, func: string, o: KprobeOptions = {}): TracingLink {
  const m = /^([\w.]+)(?:\+(0x[0-9a-f]+|\d+))?$/i.exec(func);
  if (!m) throw new TracingError(`'${func}' is not a kernel function`, { hint: 'kprobes take FUNC or FUNC+OFFSET, e.g. tcp_connect' });
  const offset = o.offset ?? (m[2] === undefined ? 0 : Number(m[2]));
  const kind = o.retprobe ? 'kretprobe' : 'kprobe';
  const pmu = o.via === 'tracefs' ? undefined : probePmu('kprobe');
  const eventsFile = o.via === 'pmu' ? undefined : kprobeEventsFile();
  if (!pmu && !eventsFile) throw new KprobesUnavailableError(m[1]!, kprobeAlternatives(m[1]!));
  const resolved = resolveKernelFunction(m[1]!, o.kallsyms);
  const notes = resolved.note ? [resolved.note] : [];
  const target = `${resolved.symbol}${offset ? `+${offset}` : ''}`;
  return guarded((cleanup) => {
    let attr;
    if (pmu) {
      const name = pinnedCopy(new TextEncoder().encode(`${resolved.symbol}\0`));
      attr = perfEventAttr()
        .set('type', pmu.type)
        .set('config', o.retprobe ? 2 ** pmu.retprobeBit : 0)
        .set('kprobe_func', addressOf(name))
        .set('probe_offset', offset);
    } else {
      const event = `${resolved.symbol.replace(/\W/g, '_')}_${process.pid}_${randomBytes(3).toString('hex')}`;
      const group = 'bpfts';
      writeTracefs(eventsFile!, `${o.retprobe ? 'r' : 'p'}:${group}/${event} ${target}\n`, 'kprobe_events');
      // Runs after the perf event is closed (cleanup goes newest first): the kernel keeps a probe event in use busy.
      cleanup.push(`remove kprobe event ${group}/${event}`, () => writeTracefs(eventsFile!, `-:${group}/${event}\n`, 'kprobe_events'));
      notes.push(`through tracefs kprobe_events as ${group}/${event}`);
      attr = perfEventAttr().set('type', perf_type_id.PERF_TYPE_TRACEPOINT).set('config', tracepointId(group, event));
    }
    attr.set('sample_period', 1).set('wakeup_events', 1);
    const pfd = openPerfEvent(attr, 0, cleanup);
    const bound = bindPerfEvent(prog, pfd, cleanup, o);
    // The kernel drops perf events and links with the process, but not probe events written to tracefs.
    return new TracingLink({ kind, target, perfEvent: pfd, cleanup, notes, ...bound, ...(pmu ? {} : { forget: cleanupAtExit(cleanup) }) });
  });
}
