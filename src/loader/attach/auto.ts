// Where a tracing program attaches: from `KIND:TARGET` as the user writes it, or from its section
// name by libbpf's auto-attach rules (libbpf.c section_defs: kprobe/FUNC, kretprobe/FUNC,
// uprobe/PATH:SYM, uretprobe/PATH:SYM, tracepoint/CAT/NAME and tp/CAT/NAME, raw_tracepoint/NAME
// and raw_tp/NAME, fentry/FUNC, fexit/FUNC, fmod_ret/FUNC, tp_btf/NAME, lsm/HOOK), and the one
// function that makes the attachment.
import type { FdLike } from '../sys/fd.js';
import { attachKprobe } from './kprobe.js';
import { TracingError } from './tracing-errors.js';
import { attachBtfTracing, attachPerfEvent, attachRawTracepoint, attachTracepoint, type TracingLink } from './tracing.js';
import { attachUprobe } from './uprobe.js';

export type AttachKind =
  | 'kprobe' | 'kretprobe' | 'uprobe' | 'uretprobe' | 'tracepoint' | 'raw-tp' | 'fentry' | 'fexit' | 'fmod-ret' | 'tp-btf' | 'lsm'
  | 'perf-event';

export const ATTACH_KINDS: readonly AttachKind[] = [
  'kprobe', 'kretprobe', 'uprobe', 'uretprobe', 'tracepoint', 'raw-tp', 'fentry', 'fexit', 'fmod-ret', 'tp-btf', 'lsm', 'perf-event',
];

export interface AttachSpec {
  kind: AttachKind;
  /** FUNC, BINARY:SYMBOL[+OFFSET], CATEGORY:NAME, a raw tracepoint name or a software event name. */
  target: string;
}

/** What the user wrote: `KIND:TARGET` (`uprobe:./app:h_sum`, `tracepoint:syscalls:sys_enter_openat`). */
export function parseAttachSpec(text: string): AttachSpec {
  const colon = text.indexOf(':');
  const kind = (colon < 0 ? text : text.slice(0, colon)).replace(/_/g, '-') as AttachKind;
  const target = colon < 0 ? '' : text.slice(colon + 1);
  if (!ATTACH_KINDS.includes(kind)) throw new TracingError(`unknown attach kind '${kind}'`, { hint: `kinds: ${ATTACH_KINDS.join(', ')}` });
  if (target === '') throw new TracingError(`'${text}' names no target`, { hint: `write ${kind}:TARGET, e.g. ${example(kind)}` });
  return { kind, target };
}

function example(kind: AttachKind): string {
  switch (kind) {
    case 'uprobe': case 'uretprobe': return `${kind}:/usr/bin/bash:readline`;
    case 'tracepoint': return 'tracepoint:syscalls:sys_enter_openat';
    case 'raw-tp': case 'tp-btf': return `${kind}:sched_switch`;
    case 'perf-event': return 'perf-event:cpu-clock';
    case 'lsm': return 'lsm:file_open';
    default: return `${kind}:tcp_connect`;
  }
}

/** The section prefixes libbpf attaches automatically, and the kind each gives. */
const SECTION_KINDS: [prefix: string, kind: AttachKind][] = [
  ['kprobe', 'kprobe'], ['kretprobe', 'kretprobe'], ['uprobe', 'uprobe'], ['uprobe.s', 'uprobe'], ['uretprobe', 'uretprobe'],
  ['uretprobe.s', 'uretprobe'], ['tracepoint', 'tracepoint'], ['tp', 'tracepoint'], ['raw_tracepoint', 'raw-tp'], ['raw_tp', 'raw-tp'],
  ['raw_tracepoint.w', 'raw-tp'], ['raw_tp.w', 'raw-tp'], ['fentry', 'fentry'], ['fentry.s', 'fentry'], ['fexit', 'fexit'],
  ['fexit.s', 'fexit'], ['fmod_ret', 'fmod-ret'], ['fmod_ret.s', 'fmod-ret'], ['tp_btf', 'tp-btf'], ['lsm', 'lsm'], ['lsm.s', 'lsm'],
  ['perf_event', 'perf-event'],
];

/**
 * Where a program's section says it attaches; undefined for sections that are not tracing ones.
 * A tracing section without a target (`SEC("uprobe")`) is a TracingError saying which option to add.
 */
export function attachFromSection(program: string, section: string): AttachSpec | undefined {
  const slash = section.indexOf('/');
  const prefix = slash < 0 ? section : section.slice(0, slash);
  const kind = SECTION_KINDS.find(([p]) => p === prefix)?.[1];
  if (!kind) return undefined;
  const rest = slash < 0 ? '' : section.slice(slash + 1);
  if (rest === '') {
    throw new TracingError(`program '${program}' is in section '${section}', which names no ${kind} target`, {
      hint: `say where to attach it: --attach ${program}=${example(kind)}`,
    });
  }
  // tracepoint/CAT/NAME is CAT:NAME; uprobe/PATH:SYM keeps PATH:SYM as written.
  return { kind, target: kind === 'tracepoint' ? rest.replace('/', ':') : rest };
}

/** Makes the attachment `spec` describes for `prog` (one link per CPU for perf events, else one). */
export function attachSpec(prog: FdLike, spec: AttachSpec): TracingLink[] {
  switch (spec.kind) {
    case 'kprobe': return [attachKprobe(prog, spec.target)];
    case 'kretprobe': return [attachKprobe(prog, spec.target, { retprobe: true })];
    case 'uprobe': return [attachUprobe(prog, spec.target)];
    case 'uretprobe': return [attachUprobe(prog, spec.target, { retprobe: true })];
    case 'tracepoint': return [attachTracepoint(prog, spec.target)];
    case 'raw-tp': return [attachRawTracepoint(prog, spec.target)];
    case 'perf-event': return attachPerfEvent(prog, { event: spec.target });
    case 'fentry': return [attachBtfTracing(prog, 'fentry', spec.target)];
    case 'fexit': return [attachBtfTracing(prog, 'fexit', spec.target)];
    case 'fmod-ret': return [attachBtfTracing(prog, 'fmod_ret', spec.target)];
    case 'tp-btf': return [attachBtfTracing(prog, 'tp_btf', spec.target)];
    case 'lsm': return [attachBtfTracing(prog, 'lsm', spec.target)];
  }
}
