// tracefs: where tracepoint ids, the kprobe_events control file and trace_pipe live. It is mounted
// at /sys/kernel/tracing when no tracefs is found (libbpf and bpftool do the same), and left
// mounted: a mount is no attachment, and other tools expect it there.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { ERRNO } from '../../uapi/index.js';
import { SyscallError } from '../sys/errors.js';
import { faults } from '../sys/faults.js';
import { mountFs } from '../sys/perf.js';
import { TracingError } from './tracing-errors.js';

export const TRACEFS = '/sys/kernel/tracing';
const DEBUGFS_TRACING = '/sys/kernel/debug/tracing';

let root: string | undefined;

/** The tracefs directory, mounting tracefs at /sys/kernel/tracing when neither place has it. */
export function tracefsRoot(): string {
  if (root !== undefined && existsSync(`${root}/events`)) return root;
  for (const dir of [TRACEFS, DEBUGFS_TRACING]) {
    if (existsSync(`${dir}/events`)) return (root = dir);
  }
  if (!existsSync(TRACEFS)) {
    throw new TracingError(`this kernel has no tracefs (${TRACEFS} does not exist)`, { hint: 'tracepoints and trace_pipe need CONFIG_TRACING' });
  }
  mountFs('tracefs', TRACEFS);
  if (!existsSync(`${TRACEFS}/events`)) throw new TracingError(`tracefs is mounted at ${TRACEFS} but has no events directory`);
  return (root = TRACEFS);
}

/** A tracepoint's numeric id (events/CAT/NAME/id), the perf config of PERF_TYPE_TRACEPOINT. */
export function tracepointId(category: string, name: string): number {
  if (!/^[\w.-]+$/.test(category) || !/^[\w.-]+$/.test(name)) {
    throw new TracingError(`'${category}:${name}' is not a tracepoint name`, { hint: 'tracepoints are CATEGORY:NAME, e.g. syscalls:sys_enter_openat' });
  }
  const dir = `${tracefsRoot()}/events/${category}/${name}`;
  if (!existsSync(`${dir}/id`)) {
    const near = availableEvents().filter((e) => e.endsWith(`:${name}`) || e.startsWith(`${category}:`)).slice(0, 8);
    throw new TracingError(`this kernel has no tracepoint ${category}:${name} (${dir})`, {
      hint: near.length > 0 ? `similar tracepoints: ${near.join(', ')}` : `the kernel lists its tracepoints in ${tracefsRoot()}/available_events`,
    });
  }
  return Number(readFileSync(`${dir}/id`, 'utf8').trim());
}

/** Every tracepoint as CATEGORY:NAME (available_events). */
export function availableEvents(): string[] {
  const file = `${tracefsRoot()}/available_events`;
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l.includes(':')) : [];
}

/**
 * Appends a command to a tracefs control file (kprobe_events, uprobe_events), counted by the test
 * fault hook as `kind`; a refusal is a SyscallError naming the file.
 */
export function writeTracefs(file: string, text: string, kind: string): void {
  const explain = `the kernel refused '${text.trim()}' in ${file}`;
  if (faults) {
    const injected = faults.enter(kind);
    if (injected) throw new SyscallError(`write ${kind}`, injected, explain);
  }
  try {
    appendFileSync(file, text);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const errno = code !== undefined && code in ERRNO ? ERRNO[code as keyof typeof ERRNO] : ERRNO.EINVAL;
    faults?.leave(-errno);
    throw new SyscallError(`write ${kind}`, errno, explain);
  }
  faults?.leave(0);
}
