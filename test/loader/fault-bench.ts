// What the fault, signal and concurrency tests compare before and after a command: tc and XDP
// state of a test's own device (read with tc and ip), the bpffs directories the command may write,
// and which of the kernel objects a command created are still alive (read with bpftool).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FaultCall } from '../../src/loader/sys/faults.js';
import { type Command, type Io, parseCommandArgs } from '../../src/cli/command.js';
import { TestNetns } from './fixtures.js';

export const DEV = 'veth0';

function tcJson<T>(ns: TestNetns, args: string[]): T {
  return JSON.parse(execFileSync('tc', ['-j', '-n', ns.name, ...args], { encoding: 'utf8' }) || '[]') as T;
}

/** The device's clsact qdisc, filters per hook and XDP attachment, as tc and ip show them. */
export function netState(ns: TestNetns): unknown {
  const qdiscs = tcJson<{ kind: string; handle: string; parent?: string }[]>(ns, ['qdisc', 'show', 'dev', DEV])
    .filter((q) => q.kind !== 'noqueue')
    .map((q) => ({ kind: q.kind, handle: q.handle, parent: q.parent }));
  const filters = (hook: string) => qdiscs.some((q) => q.kind === 'clsact') ? tcJson<unknown[]>(ns, ['filter', 'show', 'dev', DEV, hook]) : [];
  const link = JSON.parse(execFileSync('ip', ['-j', '-n', ns.name, 'link', 'show', 'dev', DEV], { encoding: 'utf8' })) as { xdp?: unknown }[];
  return { qdiscs, ingress: filters('ingress'), egress: filters('egress'), xdp: link[0]?.xdp ?? null };
}

/** Every path under `roots`, directories marked with a trailing slash. */
export function bpffsState(roots: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    if (!existsSync(p)) return;
    if (statSync(p).isDirectory()) {
      out.push(`${p}/`);
      for (const n of readdirSync(p).sort()) walk(join(p, n));
    } else out.push(p);
  };
  for (const r of roots) walk(r);
  return out;
}

export type ObjectKind = 'prog' | 'map' | 'btf' | 'link';

export interface Created {
  kind: ObjectKind;
  id: number;
  /** The call that created it. */
  call: string;
}

const CREATES: Record<string, ObjectKind> = {
  BPF_PROG_LOAD: 'prog', BPF_MAP_CREATE: 'map', BPF_BTF_LOAD: 'btf', BPF_LINK_CREATE: 'link',
};

/**
 * A fault-hook observer that notes the kernel id of every object a call creates, read from
 * /proc/self/fdinfo while the new descriptor is open: other processes on the machine create and
 * destroy objects too, so only these ids say what this process made.
 */
export function recordCreated(into: Created[]): (c: FaultCall) => void {
  return (c) => {
    const kind = CREATES[c.kind];
    if (!kind || c.result < 0) return;
    const m = new RegExp(`^${kind}_id:\\s+(\\d+)$`, 'm').exec(readFileSync(`/proc/self/fdinfo/${c.result}`, 'utf8'));
    if (!m) throw new Error(`no ${kind}_id in the fdinfo of fd ${c.result} from ${c.kind}`);
    into.push({ kind, id: Number(m[1]), call: c.kind });
  };
}

/** The ids bpftool lists now, per kind. */
export function aliveIds(): Record<ObjectKind, Map<number, string>> {
  const list = (what: ObjectKind) => {
    const rows = JSON.parse(execFileSync('bpftool', ['-j', what, 'list'], { encoding: 'utf8' }) || '[]') as { id: number; name?: string; type?: string }[];
    return new Map(rows.map((r) => [r.id, `${r.type ?? what} ${r.name ?? ''}`.trim()]));
  };
  return { prog: list('prog'), map: list('map'), btf: list('btf'), link: list('link') };
}

/**
 * The objects of `created` the kernel still has after up to `ms` milliseconds: programs taken off
 * a tc hook are released after an RCU grace period, not at once.
 */
export async function stillAlive(created: readonly Created[], ms = 3000): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const alive = aliveIds();
    const left = created.filter((c) => alive[c.kind].has(c.id)).map((c) => `${c.kind} ${c.id} (${alive[c.kind].get(c.id)}, from ${c.call})`);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface CmdResult {
  code?: number;
  error?: unknown;
  out: string;
  err: string;
}

/** Runs a CLI command in this process, as bpfts's main would, keeping what it prints. */
export async function runCommand(cmd: Command, argv: string[]): Promise<CmdResult> {
  const r: CmdResult = { out: '', err: '' };
  const io: Io = {
    out: (t) => { r.out += typeof t === 'string' ? t : Buffer.from(t).toString('utf8'); },
    err: (t) => { r.err += t; },
  };
  try {
    r.code = await cmd.run(parseCommandArgs(cmd, argv), io);
  } catch (e) {
    r.error = e;
  }
  return r;
}
