// Test-only fault injection for the loader's kernel calls. The bpf() wrapper (bpf.ts) and the
// rtnetlink request path (netlink/socket.ts) ask `faults` before each call; while it is undefined
// (always, outside tests) that one check is the whole cost. Tests arm it to count the calls an
// operation makes, to make call N fail with an errno as if the kernel had returned it, or to hold
// the process at call N (so that a signal can be sent there). Not part of the public API: tests
// import this module by its path, and the one name bpfts/loader passes on, faultsFromEnvironment
// (@internal), is how the CLI arms it from BPFTS_TEST_FAULTS for tests that run it as a child.
import { existsSync, readFileSync, writeSync } from 'node:fs';
import { BpfError } from '../../errors.js';
import { ERRNO, errnoName } from '../../uapi/index.js';

/** One kernel call as the hook saw it: its 1-based number among all calls, and its kind (BPF_MAP_CREATE, RTM_NEWQDISC, ...). */
export interface FaultCall {
  n: number;
  kind: string;
  /** The call's result: a non-negative return value, or the negative errno (injected ones included). */
  result: number;
}

/** @internal */
export interface FaultPlan {
  /** The call to act on, 1-based, counted among the calls of `kind` when given, else among all calls. */
  at?: number;
  kind?: string;
  /** How many matching calls from `at` on to act on (default 1), e.g. 2 to fail a call and its retry. */
  count?: number;
  /** The errno call `at` fails with (default EPERM); ignored when pausing. */
  errno?: number;
  /** Instead of failing call `at`, block this many milliseconds before making it, after telling stderr. */
  pauseMs?: number;
  /** With pauseMs: stop blocking as soon as this file no longer exists, so a test decides when to go on. */
  releaseFile?: string;
  /** Sees every call after it is made (or failed). */
  onCall?: (call: FaultCall) => void;
}

/** @internal */
export class FaultInjector {
  /** Every call so far, in order. */
  readonly calls: FaultCall[] = [];
  private matching = 0;
  /** The kind of the call between enter and leave. */
  private pending: string | undefined;

  constructor(readonly plan: FaultPlan) {}

  /** Called before a kernel call of `kind`: the errno to fail it with, or 0 to make it. */
  enter(kind: string): number {
    if (this.plan.kind === undefined || this.plan.kind === kind) this.matching++;
    const { at, count = 1 } = this.plan;
    const hit = at !== undefined && this.matching >= at && this.matching < at + count && (this.plan.kind === undefined || this.plan.kind === kind);
    if (hit && this.plan.pauseMs !== undefined) {
      writeSync(2, `bpfts: test fault hook: paused at call ${this.calls.length + 1} (${kind})\n`);
      const cell = new Int32Array(new SharedArrayBuffer(4));
      const until = Date.now() + this.plan.pauseMs;
      const release = this.plan.releaseFile;
      while (Date.now() < until && (release === undefined || existsSync(release))) Atomics.wait(cell, 0, 0, release === undefined ? until - Date.now() : 20);
    }
    const errno = hit && this.plan.pauseMs === undefined ? (this.plan.errno ?? ERRNO.EPERM) : 0;
    this.pending = kind;
    if (errno !== 0) this.leave(-errno);
    return errno;
  }

  /** Called with the result of the call `enter` let through. */
  leave(result: number): void {
    const kind = this.pending;
    if (kind === undefined) return;
    this.pending = undefined;
    const call = { n: this.calls.length + 1, kind, result };
    this.calls.push(call);
    this.plan.onCall?.(call);
  }
}

const CREATES: Record<string, 'prog' | 'map' | 'btf' | 'link'> = {
  BPF_PROG_LOAD: 'prog', BPF_MAP_CREATE: 'map', BPF_BTF_LOAD: 'btf', BPF_LINK_CREATE: 'link', BPF_RAW_TRACEPOINT_OPEN: 'link',
};

/**
 * @internal The kernel object a successful call created, by its id as /proc/self/fdinfo gives it
 * while the new descriptor is open; undefined for calls that create nothing.
 */
export function createdObject(call: FaultCall): { kind: 'prog' | 'map' | 'btf' | 'link'; id: number } | undefined {
  const kind = CREATES[call.kind];
  if (!kind || call.result < 0) return undefined;
  const m = new RegExp(`^${kind}_id:\\s+(\\d+)$`, 'm').exec(readFileSync(`/proc/self/fdinfo/${call.result}`, 'utf8'));
  if (!m) throw new BpfError(`no ${kind}_id in the fdinfo of descriptor ${call.result} from ${call.kind}`);
  return { kind, id: Number(m[1]) };
}

/** The armed injector; undefined unless a test armed it. */
export let faults: FaultInjector | undefined;

/** @internal Arms the hook with `plan` (replacing any earlier one) and returns it for inspection. */
export function injectFaults(plan: FaultPlan = {}): FaultInjector {
  faults = new FaultInjector(plan);
  return faults;
}

/** @internal Disarms the hook. */
export function clearFaults(): void {
  faults = undefined;
}

/**
 * @internal Arms the hook from BPFTS_TEST_FAULTS, for tests that run the CLI as a child process:
 * comma-separated `at=N`, `kind=KIND`, `count=N`, `errno=NAME`, `pause=MS`, `release=FILE`, and `report` to print the calls
 * made and the ids of the objects they created to stderr at exit. Does nothing when the variable is unset.
 */
export function faultsFromEnvironment(value = process.env.BPFTS_TEST_FAULTS): void {
  if (value === undefined || value === '') return;
  const plan: FaultPlan = {};
  let report = false;
  for (const part of value.split(',')) {
    const [key, v = ''] = part.split('=', 2) as [string, string?];
    if (key === 'at' && /^\d+$/.test(v)) plan.at = Number(v);
    else if (key === 'kind' && v) plan.kind = v;
    else if (key === 'count' && /^\d+$/.test(v)) plan.count = Number(v);
    else if (key === 'errno' && v in ERRNO) plan.errno = ERRNO[v as keyof typeof ERRNO];
    else if (key === 'pause' && /^\d+$/.test(v)) plan.pauseMs = Number(v);
    else if (key === 'release' && v) plan.releaseFile = v;
    else if (key === 'report' && v === '') report = true;
    else throw new BpfError(`BPFTS_TEST_FAULTS: cannot read '${part}'`, { hint: 'at=N, kind=KIND, count=N, errno=NAME, pause=MS, release=FILE, report' });
  }
  const created: string[] = [];
  if (report) {
    plan.onCall = (c) => {
      const o = createdObject(c);
      if (o) created.push(`${o.kind}:${o.id}`);
    };
  }
  const injector = injectFaults(plan);
  if (report) {
    process.on('exit', () => {
      const list = injector.calls.map((c) => `${c.kind}${c.result < 0 ? `=${errnoName(-c.result)}` : ''}`).join(' ');
      writeSync(2, `bpfts: test fault hook: ${injector.calls.length} calls: ${list}\nbpfts: test fault hook: created: ${created.join(' ')}\n`);
    });
  }
}
