// Fault injection in the tracing path of `bpfts load --pin DIR` and `bpfts detach --pin DIR`: a
// tracepoint attach (perf_event_open, BPF_LINK_CREATE for the perf event, PERF_EVENT_IOC_ENABLE),
// a raw tracepoint attach (BPF_RAW_TRACEPOINT_OPEN) and uprobe/uretprobe attaches (the uprobe
// PMU), each with its link pinned. The kernel calls of a clean load and detach are counted, then
// each call N in turn fails with EPERM. After every attempt the error must be a BpfError naming the
// step, bpffs must be as before, this process must hold no more perf event descriptors than
// before, bpftool must list no link of the attempt's programs, and no object the attempt created
// may be left in the kernel.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BpfError } from '../../src/errors.js';
import { detach } from '../../src/cli/commands/detach.js';
import { load } from '../../src/cli/commands/load.js';
import { probeBtfFeatures } from '../../src/loader/object/btf-load.js';
import { clearFaults, injectFaults, type FaultPlan } from '../../src/loader/sys/faults.js';
import { ERRNO } from '../../src/uapi/index.js';
import { objectPath } from '../bpf/manifest.js';
import { haveRoot, tool } from '../helpers/env.js';
import { RETRIED, bpffsState, recordCreated, runCommand, stillAlive, type Created } from './fault-bench.js';

const root = haveRoot();
const tools = root && !!tool('bpftool');
if (root && !tools) console.warn('\n*** SKIPPING: the tracing fault tests need bpftool (BPFTS_REQUIRE_TOOLS) ***\n');
if (root && !tools && process.env.BPFTS_REQUIRE_TOOLS === '1') throw new Error('bpftool is required (BPFTS_REQUIRE_TOOLS=1)');

interface Case {
  label: string;
  file: string;
  prog: string;
  attach: string[];
}

const cases: Case[] = [
  { label: 'trace_events.o on tracepoint syscalls:sys_enter_getppid', file: 'trace_events.o', prog: 'emit_perf', attach: ['--tracepoint', 'syscalls:sys_enter_getppid'] },
  { label: 'icmp_trace.o on raw tracepoint netif_receive_skb', file: 'icmp_trace.o', prog: 'icmp_netif_rx', attach: ['--raw-tp', 'netif_receive_skb'] },
  // The uprobe PMU on this process's libc: calls of getpid by any process run the program while it
  // is attached, which only counts into the load's own maps.
  { label: 'trace_probes.o as a uprobe on libc getpid', file: 'trace_probes.o', prog: 'sum_enter', attach: ['--uprobe', `${libc()}:getpid`] },
  { label: 'trace_probes.o as a uretprobe on libc getpid', file: 'trace_probes.o', prog: 'sum_exit', attach: ['--uretprobe', `${libc()}:getpid`] },
];

/** The libc this process runs with, as its memory map names it. */
function libc(): string {
  const m = /\s(\/\S*\/libc\.so\.6)$/m.exec(readFileSync('/proc/self/maps', 'utf8'));
  if (!m) throw new Error('no libc.so.6 in /proc/self/maps');
  return m[1]!;
}

/** This process's open perf event descriptors, as /proc/self/fd links name them. */
function perfFds(): number {
  return readdirSync('/proc/self/fd').filter((n) => {
    try {
      return readlinkSync(`/proc/self/fd/${n}`) === 'anon_inode:[perf_event]';
    } catch {
      return false;
    }
  }).length;
}

/** The links bpftool lists for the programs `ids`. */
function linksOf(ids: ReadonlySet<number>): string[] {
  const rows = JSON.parse(execFileSync('bpftool', ['-j', 'link', 'list'], { encoding: 'utf8' }) || '[]') as { id: number; type: string; prog_id: number }[];
  return rows.filter((r) => ids.has(r.prog_id)).map((r) => `link ${r.id} (${r.type}) of program ${r.prog_id}`);
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The step an error must name when call i (0-based) of `kinds` fails; calls from `detachFrom` on are the detach's. */
function expectedStep(kinds: readonly string[], i: number, detachFrom: number, c: Case, pinDir: string): RegExp {
  if (i >= detachFrom) return /^tracing link$/;
  const loaded = kinds.slice(0, i).includes('BPF_PROG_LOAD');
  switch (kinds[i]) {
    case 'BPF_BTF_LOAD': return /^BTF$/;
    case 'BPF_MAP_CREATE': case 'BPF_MAP_UPDATE_ELEM': case 'BPF_MAP_FREEZE': return /^(map|global data) \S+$/;
    case 'BPF_PROG_LOAD': return new RegExp(`^program ${esc(c.prog)}$`);
    case 'BPF_OBJ_GET_INFO_BY_FD': return loaded ? new RegExp(`^program ${esc(c.prog)}$`) : /^(map|global data) \S+$/;
    case 'BPF_OBJ_PIN': return new RegExp(`^pin ${esc(pinDir)}/`);
    case 'perf_event_open': case 'PERF_EVENT_IOC_SET_BPF': case 'PERF_EVENT_IOC_ENABLE': return /^perf event$/;
    case 'BPF_LINK_CREATE': case 'BPF_RAW_TRACEPOINT_OPEN': return /^tracing link$/;
    default: throw new Error(`no step known for ${kinds[i]} (call ${i + 1})`);
  }
}

describe.skipIf(!root || !tools)('a kernel call failing at any point of a tracing load and detach leaves nothing behind', () => {
  const pinRoot = `/sys/fs/bpf/bpfts-tfaults-${process.pid}-${randomBytes(3).toString('hex')}`;
  beforeAll(() => {
    mkdirSync(pinRoot);
    probeBtfFeatures();
  });
  afterAll(() => {
    clearFaults();
    rmSync(pinRoot, { recursive: true, force: true });
  });

  it.each(cases.map((c) => [c.label, c] as const))('%s', async (_label, c) => {
    const pinDir = `${pinRoot}/${c.file.replace(/\W/g, '_')}_${c.prog}`;
    const loadArgs = [objectPath('bpfel', c.file), '--prog', c.prog, ...c.attach, '--pin', pinDir];
    const detachArgs = ['--pin', pinDir];
    const watched = [pinRoot];
    try {
      // One clean run, counted.
      const fs0 = bpffsState(watched);
      const perf0 = perfFds();
      const created0: Created[] = [];
      const counter = injectFaults({ onCall: recordCreated(created0) });
      const loaded = await runCommand(load, loadArgs);
      expect(loaded.error, loaded.err).toBeUndefined();
      expect(loaded.code).toBe(0);
      const progs0 = new Set(created0.filter((o) => o.kind === 'prog').map((o) => o.id));
      expect(linksOf(progs0)).toHaveLength(1);
      expect(bpffsState(watched)).toContain(`${pinDir}/link_${c.prog}`);
      const detachFrom = counter.calls.length;
      const d0 = await runCommand(detach, detachArgs);
      expect(d0.error).toBeUndefined();
      clearFaults();
      const kinds = counter.calls.map((x) => x.kind);
      expect(bpffsState(watched)).toEqual(fs0);
      expect(perfFds()).toBe(perf0);
      expect(await stillAlive(created0)).toEqual([]);
      const K = kinds.length;
      if (c.attach[0] !== '--raw-tp') expect(kinds).toEqual(expect.arrayContaining(['perf_event_open', 'BPF_LINK_CREATE', 'PERF_EVENT_IOC_ENABLE']));
      else expect(kinds).toContain('BPF_RAW_TRACEPOINT_OPEN');

      const outcomes: string[] = [];
      const everyCreated: Created[] = [];
      const attempt = async (plan: FaultPlan, what: string): Promise<'failed' | 'absorbed'> => {
        const fsBefore = bpffsState(watched);
        const perfBefore = perfFds();
        const created: Created[] = [];
        const inj = injectFaults({ ...plan, errno: ERRNO.EPERM, onCall: recordCreated(created) });
        const l = await runCommand(load, loadArgs);
        const d = l.error === undefined ? await runCommand(detach, detachArgs) : undefined;
        clearFaults();
        const hit = inj.calls.findIndex((x) => x.result === -ERRNO.EPERM);
        expect(hit, `${what}: no call failed`).toBeGreaterThanOrEqual(0);
        const failedKind = inj.calls[hit]!.kind;
        const error = l.error ?? d?.error;
        const progs = new Set(created.filter((o) => o.kind === 'prog').map((o) => o.id));
        if (error === undefined) {
          expect(RETRIED.has(failedKind), `${what} (${failedKind}) failed and the command still succeeded`).toBe(true);
        } else {
          expect(error, `${what} (${failedKind}): ${String(error)}`).toBeInstanceOf(BpfError);
          const step = (error as { step?: string }).step;
          // A detach's calls come after the load's: the failing call's place in this run says which it was.
          const inDetach = l.error === undefined;
          expect(step, `${what} (${failedKind}): ${(error as Error).message}`).toMatch(expectedStep(kinds, inDetach ? Math.max(hit, detachFrom) : hit, detachFrom, c, pinDir));
          if (!inDetach) {
            expect(bpffsState(watched), `${what} (${failedKind}) left pins`).toEqual(fsBefore);
            expect(l.err, `${what}: undo failures`).not.toMatch(/could not undo/);
            expect(linksOf(progs), `${what} (${failedKind}) left links`).toEqual([]);
          } else {
            // A failed detach leaves the attachment to a second detach, which must take everything off.
            const again = await runCommand(detach, detachArgs);
            expect(again.error, `${what} (${failedKind}): second detach`).toBeUndefined();
          }
        }
        expect(bpffsState(watched), `${what} (${failedKind}): bpffs after`).toEqual(fsBefore);
        expect(perfFds(), `${what} (${failedKind}): perf event descriptors after`).toBe(perfBefore);
        expect(linksOf(progs), `${what} (${failedKind}): links after`).toEqual([]);
        everyCreated.push(...created.map((o) => ({ ...o, call: `${o.call} in the attempt where ${what} (${failedKind}) failed` })));
        outcomes.push(`${hit + 1}:${failedKind}:${error === undefined ? 'absorbed' : (error as { step?: string }).step}`);
        return error === undefined ? 'absorbed' : 'failed';
      };

      for (let n = 1; n <= K; n++) {
        if (await attempt({ at: n }, `call ${n} of ${K}`) === 'absorbed') {
          const kind = kinds[n - 1]!;
          const nth = kinds.slice(0, n).filter((k) => k === kind).length;
          expect(await attempt({ at: nth, kind, count: 2 }, `${kind} #${nth} and its retry`)).toBe('failed');
        }
      }
      expect(await stillAlive(everyCreated), 'left kernel objects').toEqual([]);
      console.log(`${c.label}: ${K} calls (${kinds.join(' ')}); ${outcomes.join(' ')}`);
    } finally {
      clearFaults();
      rmSync(pinDir, { recursive: true, force: true });
    }
  }, 600_000);
});

// `bpfts trace` in this process: its reader's perf rings (perf_event_open, mmap and
// PERF_EVENT_IOC_ENABLE per CPU) or ring buffer mappings, and the attach. Every call failing in turn must end the command
// with a BpfError, no perf event descriptor of this process left open, no link of its program and
// no object it created in the kernel.
describe.skipIf(!root || !tools)('a kernel call failing at any point of bpfts trace leaves nothing behind', () => {
  const traceCases = [
    { label: 'trace_events.o on a tracepoint, perf event array reader', args: [objectPath('bpfel', 'trace_events.o'), '--attach', 'emit_perf=tracepoint:syscalls:sys_enter_getppid', '--events', 'perf_events', '--duration', '0.05'] },
    { label: 'trace_events.o on a tracepoint, ring buffer reader', args: [objectPath('bpfel', 'trace_events.o'), '--attach', 'emit_ringbuf=tracepoint:syscalls:sys_enter_getppid', '--events', 'ring_events', '--duration', '0.05'] },
    { label: 'icmp_trace.o on a raw tracepoint', args: [objectPath('bpfel', 'icmp_trace.o'), '--duration', '0.05'] },
  ];
  /**
   * Tear-down calls whose failure changes nothing: clearing a ring's slot in a map about to be freed
   * (the ring is closed anyway), disabling a perf event just before it is closed.
   */
  const BEST_EFFORT = new Set(['BPF_MAP_DELETE_ELEM', 'PERF_EVENT_IOC_DISABLE']);
  beforeAll(() => probeBtfFeatures());
  afterAll(() => clearFaults());

  it.each(traceCases.map((c) => [c.label, c] as const))('%s', async (_label, c) => {
    const { trace } = await import('../../src/cli/commands/trace.js');
    const perf0 = perfFds();
    const created0: Created[] = [];
    const counter = injectFaults({ onCall: recordCreated(created0) });
    const clean = await runCommand(trace, c.args);
    clearFaults();
    expect(clean.error, clean.err).toBeUndefined();
    expect(clean.code).toBe(0);
    expect(perfFds()).toBe(perf0);
    expect(await stillAlive(created0)).toEqual([]);
    const kinds = counter.calls.map((x) => x.kind);
    const K = kinds.length;
    const everyCreated: Created[] = [];
    const outcomes: string[] = [];
    const attempt = async (plan: FaultPlan, what: string): Promise<'failed' | 'absorbed'> => {
      const perfBefore = perfFds();
      const created: Created[] = [];
      const inj = injectFaults({ errno: ERRNO.EPERM, ...plan, onCall: recordCreated(created) });
      const r = await runCommand(trace, c.args);
      clearFaults();
      const hit = inj.calls.findIndex((x) => x.result < 0 && inj.calls.indexOf(x) >= (plan.at ?? 1) - 1);
      expect(hit, `${what}: no call failed`).toBeGreaterThanOrEqual(0);
      const failedKind = inj.calls[hit]!.kind;
      const progs = new Set(created.filter((o) => o.kind === 'prog').map((o) => o.id));
      if (r.error === undefined) expect(RETRIED.has(failedKind) || BEST_EFFORT.has(failedKind) || plan.errno === ERRNO.EINVAL, `${what} (${failedKind}) failed and trace still succeeded`).toBe(true);
      else expect(r.error, `${what} (${failedKind}): ${String(r.error)}`).toBeInstanceOf(BpfError);
      expect(r.err, `${what}: ${failedKind}`).not.toMatch(/could not detach/);
      expect(perfFds(), `${what} (${failedKind}): perf event descriptors after`).toBe(perfBefore);
      expect(linksOf(progs), `${what} (${failedKind}): links after`).toEqual([]);
      everyCreated.push(...created.map((o) => ({ ...o, call: `${o.call} in the attempt where ${what} (${failedKind}) failed` })));
      outcomes.push(`${hit + 1}:${failedKind}:${r.error === undefined ? 'absorbed' : ((r.error as { step?: string }).step ?? (r.error as Error).constructor.name)}`);
      return r.error === undefined ? 'absorbed' : 'failed';
    };
    for (let n = 1; n <= K; n++) {
      if (await attempt({ at: n }, `call ${n} of ${K}`) === 'absorbed' && !BEST_EFFORT.has(kinds[n - 1]!)) {
        const kind = kinds[n - 1]!;
        const nth = kinds.slice(0, n).filter((k) => k === kind).length;
        expect(await attempt({ at: nth, kind, count: 2 }, `${kind} #${nth} and its retry`)).toBe('failed');
      }
    }
    const linkAt = kinds.indexOf('BPF_LINK_CREATE');
    if (linkAt >= 0) {
      // A kernel without perf event links answers EINVAL: trace falls back to PERF_EVENT_IOC_SET_BPF, whose failure fails it.
      expect(await attempt({ at: linkAt + 1, errno: ERRNO.EINVAL }, 'BPF_LINK_CREATE with EINVAL')).toBe('absorbed');
      expect(await attempt({ at: linkAt + 1, count: 2, errno: ERRNO.EINVAL }, 'BPF_LINK_CREATE and PERF_EVENT_IOC_SET_BPF with EINVAL')).toBe('failed');
      expect(outcomes.at(-1)).toMatch(/:BPF_LINK_CREATE:perf event$/);
    }
    expect(await stillAlive(everyCreated), 'left kernel objects').toEqual([]);
    console.log(`bpfts trace ${c.label}: ${K} calls (${kinds.join(' ')}); ${outcomes.join(' ')}`);
  }, 600_000);
});
