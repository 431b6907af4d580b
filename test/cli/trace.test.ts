// `bpfts trace` and `bpfts trace-log` as a user runs them, as root against the running kernel: the
// ICMP tracer (raw tracepoint, no kprobes) sees exactly the pings sent between two namespaces
// this test makes, --count/--duration/SIGINT end it with nothing left attached or loaded
// (bpftool's link and prog lists), and the kprobe and fentry paths give their clear errors.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { loadObject, progTestRun } from '../../src/loader/raw.js';
import { TestNetns } from '../loader/fixtures.js';
import { buildSumBinary } from '../loader/tracing-fixtures.js';
import { buildTestObject } from '../loader/clang.js';
import { haveRoot, tool } from '../helpers/env.js';
import { cli, cliPath, ensureBuilt } from './run-cli.js';

const root = haveRoot();
const bpftool = tool('bpftool');
const ping = tool('ping');
const clang = tool('clang-19');
const ICMP = 'bpf/build/bpfel/icmp_trace.o';

beforeAll(() => ensureBuilt());

describe('bpfts trace --help', () => {
  it('documents trace and trace-log', () => {
    const t = cli(['trace', '--help']);
    expect(t.status).toBe(0);
    expect(t.stdout).toContain("Usage: bpfts trace OBJ [--attach PROG=KIND:TARGET]... [--events MAP [--type 'struct NAME']]");
    expect(t.stdout).toContain('--kretprobe FUNC');
    const l = cli(['trace-log', '--help']);
    expect(l.status).toBe(0);
    expect(l.stdout).toContain('trace_pipe');
  });

  it.skipIf(!root)('refuses --attach for a program the object lacks, and a section without a target', () => {
    const r = cli(['trace', ICMP, '--attach', 'nope=raw-tp:netif_receive_skb']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--attach names program 'nope'");
    const s = cli(['trace', 'bpf/build/bpfel/trace_probes.o']);
    expect(s.status).toBe(1);
    expect(s.stderr).toContain("program 'sum_enter' is in section 'uprobe', which names no uprobe target");
    expect(s.stderr).toContain('hint: say where to attach it: --attach sum_enter=uprobe:');
  });
});

interface Running { pid: number; stdout: string; stderr: string; done: Promise<number>; kill(sig: NodeJS.Signals): void; attached: Promise<void> }

function start(args: string[]): Running {
  const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const r: Running = {
    pid: child.pid!, stdout: '', stderr: '',
    done: new Promise((res) => child.on('close', (code) => res(code ?? -1))),
    kill: (sig) => child.kill(sig),
    attached: new Promise((res, rej) => {
      child.stderr.on('data', (d: Buffer) => {
        r.stderr += d.toString();
        if (r.stderr.includes(' attached: ')) res();
      });
      child.on('spawn', () => { if (args[0] === 'trace-log') res(); });
      child.on('close', () => rej(new Error(`bpfts trace ended before attaching: ${r.stderr}`)));
    }),
  };
  child.stdout.on('data', (d: Buffer) => { r.stdout += d.toString(); });
  return r;
}

/** Polls `get` until it gives [] or 3 s pass: a process's pipes close before the rest of its descriptors as it exits. */
async function eventuallyEmpty<T>(get: () => T[]): Promise<T[]> {
  const deadline = Date.now() + 3000;
  let v = get();
  while (v.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    v = get();
  }
  return v;
}

const progIds = () => (JSON.parse(execFileSync(bpftool!, ['-j', 'prog', 'list'], { encoding: 'utf8' })) as { id: number }[]).map((p) => p.id);
/** The programs a process holds descriptors of (its fdinfo), so that tests running beside this one do not count. */
function progsHeldBy(pid: number): number[] {
  const ids: number[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    try {
      const m = /^prog_id:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      if (m) ids.push(Number(m[1]));
    } catch {
      // closed meanwhile
    }
  }
  return [...new Set(ids)];
}
const linksOfProgs = (ids: number[]) =>
  (JSON.parse(execFileSync(bpftool!, ['-j', 'link', 'list'], { encoding: 'utf8' }) || '[]') as { prog_id: number }[]).filter((l) => ids.includes(l.prog_id));

describe.skipIf(!root || !bpftool || !ping)('bpfts trace with the ICMP tracer (raw tracepoint netif_receive_skb)', () => {
  let a: TestNetns;
  let b: TestNetns;
  const net = `10.${200 + randomBytes(1)[0]! % 50}.${randomBytes(1)[0]}`;
  const addrA = `${net}.1`;
  const addrB = `${net}.2`;
  const le32 = (ip: string) => ip.split('.').reduce((v, o, i) => v + Number(o) * 256 ** i, 0);
  beforeAll(() => {
    a = new TestNetns(['ta0', 'ta1']);
    b = new TestNetns(['tb0', 'tb1']);
    a.ip(['link', 'set', 'ta1', 'netns', b.name]);
    a.ip(['addr', 'add', `${addrA}/24`, 'dev', 'ta0']);
    b.ip(['addr', 'add', `${addrB}/24`, 'dev', 'ta1']);
    b.ip(['link', 'set', 'ta1', 'up']);
  });
  afterAll(() => {
    a?.destroy();
    b?.destroy();
  });
  it('prints one JSON line per ICMP packet received, decoded, and exactly the pings between the namespaces', async () => {
    const t = start(['trace', ICMP, '--type', 'struct icmp_event', '--json', '--duration', '3']);
    await t.attached;
    const held = progsHeldBy(t.pid);
    expect(held.length).toBe(1);
    a.exec('ping', ['-c', '3', '-i', '0.2', '-W', '1', addrB]);
    expect(await t.done).toBe(0);
    const lines = t.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { cpu: number; map: string; record: { saddr: number; daddr: number; protocol: number }; hex: string });
    const ours = lines.filter((l) => [le32(addrA), le32(addrB)].includes(l.record.saddr));
    // Three echo requests arrive in B, three replies in A.
    expect(ours.filter((l) => l.record.saddr === le32(addrA) && l.record.daddr === le32(addrB)).length).toBe(3);
    expect(ours.filter((l) => l.record.saddr === le32(addrB) && l.record.daddr === le32(addrA)).length).toBe(3);
    for (const l of ours) {
      expect(l.map).toBe('events');
      expect(l.record.protocol).toBe(1);
      expect(l.hex.length).toBe(24);
      expect(typeof l.cpu).toBe('number');
    }
    expect(t.stderr).toContain('icmp_netif_rx attached: raw_tp netif_receive_skb');
    expect(await eventuallyEmpty(() => progIds().filter((id) => held.includes(id)))).toEqual([]);
  });

  it('--count N stops after N records; SIGINT stops it too; neither leaves a link or program', async () => {
    const t = start(['trace', ICMP, '--count', '2']);
    await t.attached;
    const counted = progsHeldBy(t.pid);
    a.exec('ping', ['-c', '3', '-i', '0.2', '-W', '1', addrB]);
    expect(await t.done).toBe(0);
    expect(t.stdout.trim().split('\n').length).toBe(2);
    expect(t.stdout).toMatch(/^cpu \d+ events: [0-9a-f]{24}$/m);
    expect(await eventuallyEmpty(() => progIds().filter((id) => counted.includes(id)))).toEqual([]);
    const s = start(['trace', ICMP]);
    await s.attached;
    const ids = progsHeldBy(s.pid);
    expect(ids.length).toBe(1);
    expect(linksOfProgs(ids).length).toBe(1);
    s.kill('SIGINT');
    expect(await s.done).toBe(0);
    expect(await eventuallyEmpty(() => linksOfProgs(ids))).toEqual([]);
    expect(await eventuallyEmpty(() => progIds().filter((id) => ids.includes(id)))).toEqual([]);
  });
});

describe.skipIf(!root || !bpftool)('bpfts trace on a kernel without kprobes or trampolines', () => {
  it('the kretprobe tracer fails with the CONFIG_KPROBES message and names what works', () => {
    const r = cli(['trace', 'bpf/build/bpfel/icmp_trace_kretprobe.o', '--duration', '1']);
    if (r.status === 0) return;
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('this kernel has no kprobes (CONFIG_KPROBES is not set');
    expect(r.stderr).toMatch(/hint: what works instead: fentry:ip_rcv_core/);
  });

  it.skipIf(!clang)('an fentry program fails with the EPERM message', () => {
    const build = buildTestObject(clang!, 'btf_attach', ['-DSEC_NAME="fentry/tcp_connect"']);
    try {
      const r = cli(['trace', build.path, '--duration', '1']);
      if (r.status === 0) return;
      expect(r.stderr).toContain('bpfts trace: error: this kernel refuses fentry programs (tcp_connect) with EPERM');
      expect(r.stderr).toContain('hint: this kernel cannot run BPF trampolines');
    } finally {
      build.cleanup();
    }
  });
});

describe.skipIf(!root)('bpfts trace-log', () => {
  it('prints the bpf_printk line of a program run while it reads trace_pipe', async () => {
    // A frame length no other test uses marks the line as this run's (trace_pipe is shared).
    const len = 200 + (randomBytes(2).readUInt16LE(0) % 1000);
    const t = start(['trace-log', '--duration', '4']);
    await new Promise((r) => setTimeout(r, 1000));
    const loaded = loadObject(readFileSync('bpf/build/bpfel/printk.o'), { objectName: 'printk' });
    try {
      const frame = new Uint8Array(len);
      frame.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
      progTestRun(loaded.programs[0]!.fd, { dataIn: frame });
    } finally {
      loaded.close();
    }
    expect(await t.done).toBe(0);
    expect(t.stdout).toMatch(new RegExp(`bpf_trace_printk: pkt len=${len} proto=0x0800`));
  });
});

describe.skipIf(!root || !bpftool)('bpfts load --tracepoint --pin and bpfts detach --pin', () => {
  it('keeps the program attached after bpfts exits, until detach --pin removes the link and every pin', () => {
    const dir = `/sys/fs/bpf/bpfts_trace_${process.pid}_${randomBytes(4).toString('hex')}`;
    try {
      const r = cli(['load', 'bpf/build/bpfel/trace_events.o', '--prog', 'emit_perf', '--tracepoint', 'syscalls:sys_enter_getppid', '--pin', dir]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`attached tracepoint syscalls:sys_enter_getppid with a link pinned at ${dir}/link_emit_perf`);
      const prog = JSON.parse(execFileSync(bpftool!, ['-j', 'prog', 'show', 'pinned', `${dir}/emit_perf`], { encoding: 'utf8' })) as { id: number };
      expect(linksOfProgs([prog.id]).length).toBe(1);
      // Point the program at this process through its pinned map and make it run.
      const le = (v: number) => [v & 255, (v >> 8) & 255, (v >> 16) & 255, v >>> 24].map(String);
      execFileSync(bpftool!, ['map', 'update', 'pinned', `${dir}/trace_config`, 'key', ...le(0), 'value', ...le(process.pid), ...le(1), ...le(16), ...le(0)]);
      for (let i = 0; i < 7; i++) void process.ppid;
      const seq = JSON.parse(execFileSync(bpftool!, ['-j', 'map', 'lookup', 'pinned', `${dir}/counters`, 'key', ...le(5)], { encoding: 'utf8' })) as { formatted: { value: number } };
      expect(seq.formatted.value).toBe(7);
      const d = cli(['detach', '--pin', dir]);
      expect(d.status).toBe(0);
      expect(d.stdout).toContain(`detached the link pinned at ${dir}/link_emit_perf`);
      expect(linksOfProgs([prog.id])).toEqual([]);
      expect(execFileSync('ls', ['/sys/fs/bpf'], { encoding: 'utf8' })).not.toContain(dir.split('/').pop());
    } finally {
      execFileSync('rm', ['-rf', dir]);
    }
  });

  it('refuses a tracing attachment without --pin', () => {
    const r = cli(['load', 'bpf/build/bpfel/trace_events.o', '--prog', 'emit_perf', '--tracepoint', 'syscalls:sys_enter_getppid']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--tracepoint needs --pin DIR');
  });
});

describe.skipIf(!root || !bpftool || !tool('cc'))('bpfts trace with a uprobe and uretprobe pair', () => {
  it('sees every call of the test binary with its arguments and every return with its result', async () => {
    const sum = buildSumBinary();
    try {
      const t = start(['trace', 'bpf/build/bpfel/trace_probes.o', '--attach', `sum_enter=uprobe:${sum.path}:h_sum`,
        '--attach', `sum_exit=uretprobe:${sum.path}:h_sum`, '--type', 'struct call_event', '--json', '--count', '40', '--duration', '20']);
      await t.attached;
      while (!(t.stderr.includes('sum_enter attached') && t.stderr.includes('sum_exit attached'))) await new Promise((r) => setTimeout(r, 20));
      const run = spawnSync(sum.path, ['20'], { encoding: 'utf8' });
      expect(run.stdout.trim()).toBe(String(3 * 190));
      expect(await t.done).toBe(0);
      const events = t.stdout.trim().split('\n').map((l) => JSON.parse(l) as { cpu: null; map: string; record: { kind: number; pid: number; a: number; b: number; ret: number } });
      expect(events.every((e) => e.cpu === null && e.map === 'calls' && e.record.pid === run.pid)).toBe(true);
      expect(events.filter((e) => e.record.kind === 0).map((e) => [e.record.a, e.record.b])).toEqual(Array.from({ length: 20 }, (_, i) => [i, 2 * i]));
      expect(events.filter((e) => e.record.kind === 1).map((e) => e.record.ret)).toEqual(Array.from({ length: 20 }, (_, i) => 3 * i));
      expect(t.stderr).toMatch(/sum_enter: .*:h_sum is at file offset 0x[0-9a-f]+/);
    } finally {
      sum.cleanup();
    }
  });
});
