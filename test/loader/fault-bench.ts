// What the fault, signal and concurrency tests compare before and after a command: tc and XDP
// state of a test's own device (read with tc and ip), the bpffs directories the command may write,
// and which of the kernel objects a command created are still alive (read with bpftool).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/env.js';
import { createdObject, type FaultCall } from '../../src/loader/sys/faults.js';
import { type Command, type Io, parseCommandArgs } from '../../src/cli/command.js';
import { TestNetns } from './fixtures.js';

export const DEV = 'veth0';

/** Kernel calls a failure of which the loader retries another way: they may fail without the load failing. */
export const RETRIED: ReadonlySet<string> = new Set(['BPF_PROG_LOAD', 'BPF_BTF_LOAD', 'BPF_MAP_CREATE']);

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

/**
 * A fault-hook observer that notes the kernel id of every object a call creates (read from
 * /proc/self/fdinfo while the new descriptor is open): other processes on the machine create and
 * destroy objects too, so only these ids say what this process made.
 */
export function recordCreated(into: Created[]): (c: FaultCall) => void {
  return (c) => {
    const o = createdObject(c);
    if (o) into.push({ ...o, call: c.kind });
  };
}

/** The objects a CLI child run with BPFTS_TEST_FAULTS=report,... says it created. */
export function reportedCreated(stderr: string): Created[] {
  const line = /^bpfts: test fault hook: created:(.*)$/m.exec(stderr);
  if (!line) throw new Error(`no fault hook report in:\n${stderr}`);
  return line[1]!.trim().split(/\s+/).filter((w) => w).map((w) => {
    const [kind, id] = w.split(':');
    return { kind: kind as ObjectKind, id: Number(id), call: 'the child' };
  });
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
 * The objects of `created` the kernel still has after up to `ms` milliseconds: a program taken off
 * a tc hook is released after an RCU grace period, and its maps and BTF only when a workqueue has
 * freed the program, which takes seconds on a loaded machine.
 */
export async function stillAlive(created: readonly Created[], ms = 20_000): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const alive = aliveIds();
    const left = created.filter((c) => alive[c.kind].has(c.id)).map((c) => `${c.kind} ${c.id} (${alive[c.kind].get(c.id)}, from ${c.call})`);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 100));
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

const cli = join(repoRoot, 'dist', 'cli', 'main.js');

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A file whose removal lets a child held by the fault hook go on (BPFTS_TEST_FAULTS release=FILE). */
export function holdFile(): string {
  const path = join(tmpdir(), `bpfts-hold-${process.pid}-${randomBytes(4).toString('hex')}`);
  writeFileSync(path, '');
  return path;
}

/**
 * Runs the CLI with the fault hook armed by `faults`. Once the child says it is paused, `onPause`
 * runs, then `signal` is sent, then the hold file `release` (if any) is removed so the child goes on.
 */
export function runCli(args: string[], faults: string, signal?: NodeJS.Signals, onPause?: (pid: number) => void | Promise<void>, release?: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, BPFTS_TEST_FAULTS: faults }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let paused = false;
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!paused && /test fault hook: paused at call/.test(stderr)) {
        paused = true;
        void Promise.resolve(onPause?.(child.pid!)).then(() => {
          if (signal) child.kill(signal);
          if (release) rmSync(release, { force: true });
        });
      }
    });
    child.on('error', reject);
    child.on('close', (code, sig) => resolve({ code, signal: sig, stdout, stderr }));
  });
}

