// SIGINT and SIGTERM arriving while `bpfts trace` (the CLI, a child process) sets up or waits for
// records: the fault hook holds the child just before a chosen kernel call (BPFTS_TEST_FAULTS
// pause), the signal is sent there, and the child must end as a stopped trace does (exit 0, as for
// Ctrl-C while it waits), without attaching when the signal came before the attach, with no link
// of its programs (bpftool) and none of the programs, maps, BTF objects or links it created left
// in the kernel.
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { objectPath } from '../bpf/manifest.js';
import { haveRoot, repoRoot, tool } from '../helpers/env.js';
import { ensureBuilt } from '../cli/run-cli.js';
import { holdFile, reportedCreated, runCli, stillAlive, type ChildResult } from './fault-bench.js';

const root = haveRoot();
const tools = root && !!tool('bpftool');
if (root && !tools) console.warn('\n*** SKIPPING: the trace signal tests need bpftool (BPFTS_REQUIRE_TOOLS) ***\n');
if (root && !tools && process.env.BPFTS_REQUIRE_TOOLS === '1') throw new Error('bpftool is required (BPFTS_REQUIRE_TOOLS=1)');

const cli = join(repoRoot, 'dist', 'cli', 'main.js');
const tracepoint = ['trace', objectPath('bpfel', 'trace_events.o'), '--attach', 'emit_perf=tracepoint:syscalls:sys_enter_getppid', '--events', 'perf_events'];
const rawTp = ['trace', objectPath('bpfel', 'icmp_trace.o')];

/** What a child holds: program ids (its fdinfo) and perf event descriptors (its fd links). */
function heldBy(pid: number): { progs: number[]; perfEvents: number } {
  const progs = new Set<number>();
  let perfEvents = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) === 'anon_inode:[perf_event]') perfEvents++;
      const m = /^prog_id:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      // A link's fdinfo names its program too.
      if (m) progs.add(Number(m[1]));
    } catch {
      // Closed meanwhile.
    }
  }
  return { progs: [...progs], perfEvents };
}

function linksOf(ids: readonly number[]): string[] {
  const rows = JSON.parse(execFileSync('bpftool', ['-j', 'link', 'list'], { encoding: 'utf8' }) || '[]') as { id: number; type: string; prog_id: number }[];
  return rows.filter((r) => ids.includes(r.prog_id)).map((r) => `link ${r.id} (${r.type}) of program ${r.prog_id}`);
}

async function eventuallyNoLinks(ids: readonly number[]): Promise<string[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const left = linksOf(ids);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The kinds of the calls a child made, from its fault hook report. */
function callsOf(r: ChildResult): string[] {
  const m = /test fault hook: \d+ calls: (.*)$/m.exec(r.stderr);
  if (!m) throw new Error(`no call report in:\n${r.stderr}`);
  return m[1]!.split(' ');
}

/** Checks the end of a trace stopped by a signal and that nothing it made is left. */
async function expectClean(r: ChildResult, held: { progs: number[]; perfEvents: number }, attached = true): Promise<void> {
  expect(r.signal, r.stderr).toBeNull();
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).not.toMatch(/could not detach|could not undo/);
  expect(await eventuallyNoLinks(held.progs)).toEqual([]);
  const created = reportedCreated(r.stderr);
  expect(created.some((c) => c.kind === 'prog')).toBe(true);
  expect(created.some((c) => c.kind === 'link')).toBe(attached);
  expect(await stillAlive(created)).toEqual([]);
}

describe.skipIf(!root || !tools)('a signal during bpfts trace leaves nothing behind', () => {
  /** The number of the attach's perf_event_open and PERF_EVENT_IOC_ENABLE among their kind: after the reader's, one per CPU. */
  let attachPerf = 0;
  beforeAll(async () => {
    ensureBuilt();
    const clean = await runCli([...tracepoint, '--duration', '0.3'], 'report');
    expect(clean.code, clean.stderr).toBe(0);
    const kinds = callsOf(clean);
    attachPerf = kinds.filter((k) => k === 'perf_event_open').length;
    // The reader opens one BPF output event per CPU before the attach opens the tracepoint's.
    expect(attachPerf).toBeGreaterThan(1);
    expect(kinds.lastIndexOf('perf_event_open')).toBeLessThan(kinds.indexOf('BPF_LINK_CREATE'));
    expect(kinds.filter((k) => k === 'PERF_EVENT_IOC_ENABLE')).toHaveLength(attachPerf);
  });

  /** `attach`: the call is one of the attach's, which completes before the signal is seen; before it, trace stops without attaching. */
  const points: { label: string; args: string[]; kind: string; at?: () => number; signal: 'SIGINT' | 'SIGTERM'; attach?: true }[] = [
    { label: 'tracepoint: before the program is loaded', args: tracepoint, kind: 'BPF_PROG_LOAD', signal: 'SIGINT' },
    { label: 'tracepoint: before the first perf ring is opened', args: tracepoint, kind: 'perf_event_open', signal: 'SIGTERM' },
    { label: 'tracepoint: before the first perf ring is mapped', args: tracepoint, kind: 'mmap', signal: 'SIGINT' },
    { label: 'tracepoint: before the tracepoint perf event is opened', args: tracepoint, kind: 'perf_event_open', at: () => attachPerf, signal: 'SIGTERM', attach: true },
    { label: 'tracepoint: before the perf event link is created', args: tracepoint, kind: 'BPF_LINK_CREATE', signal: 'SIGINT', attach: true },
    { label: 'tracepoint: before the tracepoint perf event is enabled', args: tracepoint, kind: 'PERF_EVENT_IOC_ENABLE', at: () => attachPerf, signal: 'SIGTERM', attach: true },
    { label: 'raw tracepoint: before the program is loaded', args: rawTp, kind: 'BPF_PROG_LOAD', signal: 'SIGTERM' },
    { label: 'raw tracepoint: before the raw tracepoint link is opened', args: rawTp, kind: 'BPF_RAW_TRACEPOINT_OPEN', signal: 'SIGINT', attach: true },
  ];

  it.each(points.map((p) => [`${p.signal} ${p.label}`, p] as const))('%s', async (_label, p) => {
    const gate = holdFile();
    const at = p.at?.() ?? 1;
    let atPause: { progs: number[]; perfEvents: number } = { progs: [], perfEvents: 0 };
    const r = await runCli(p.args, `report,kind=${p.kind},at=${at},pause=60000,release=${gate}`, p.signal, (pid) => { atPause = heldBy(pid); }, gate);
    expect(r.stderr).toMatch(new RegExp(`paused at call \\d+ \\(${p.kind}\\)`));
    // Held before the call: the program once loaded, the reader's rings once opened.
    expect(atPause.progs.length).toBe(p.kind === 'BPF_PROG_LOAD' ? 0 : 1);
    if (p.args === tracepoint && p.kind !== 'BPF_PROG_LOAD') expect(atPause.perfEvents).toBe(p.kind === 'perf_event_open' ? at - 1 : p.kind === 'mmap' ? 1 : attachPerf);
    const attachCall = p.args === tracepoint ? 'BPF_LINK_CREATE' : 'BPF_RAW_TRACEPOINT_OPEN';
    if (p.attach) {
      expect(r.stderr).toMatch(/attached: /);
      expect(callsOf(r)).toContain(attachCall);
    } else {
      expect(r.stderr).not.toMatch(/attached: /);
      expect(callsOf(r)).not.toContain(attachCall);
    }
    await expectClean(r, { progs: reportedCreated(r.stderr).filter((c) => c.kind === 'prog').map((c) => c.id), perfEvents: 0 }, p.attach === true);
  });

  it.each([
    ['tracepoint', 'SIGINT'],
    ['tracepoint', 'SIGTERM'],
    ['raw tracepoint', 'SIGTERM'],
  ] as const)('%s: %s while waiting for records', async (what, signal) => {
    const args = what === 'tracepoint' ? tracepoint : rawTp;
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, BPFTS_TEST_FAULTS: 'report' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let held: { progs: number[]; perfEvents: number } | undefined;
    let links: string[] = [];
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!held && /attached: /.test(stderr)) {
        held = heldBy(child.pid!);
        links = linksOf(held.progs);
        child.kill(signal);
      }
    });
    const end = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, sig) => resolve({ code, signal: sig })));
    expect(held, stderr).toBeDefined();
    expect(held!.progs).toHaveLength(1);
    expect(links).toHaveLength(1);
    if (args === tracepoint) expect(held!.perfEvents).toBeGreaterThan(1);
    await expectClean({ ...end, stdout, stderr }, held!);
  });
});
