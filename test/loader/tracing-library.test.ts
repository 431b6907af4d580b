// Tracing through the typed library (bpfts/loader): Program's attach methods and map readers on
// the committed tracing objects, against the running kernel. The oracles: what the test itself
// caused (its getppid() calls, its own pid, the calls of the C program it built, which prints their
// total), the kernel's counters, and bpftool's lists of links and programs before and after. This
// kernel has no kprobes and refuses fentry: those paths must say so with their typed errors.
import { execFileSync, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Collection, KprobesUnavailableError, LoadError, MapReader, TracingError, TracingLink, TracingUnsupportedError, type TraceEvent,
} from '../../src/loader/index.js';
import { detachPinnedLink } from '../../src/loader/raw.js';
import { objectPath } from '../bpf/manifest.js';
import { haveRoot, repoRoot, tool } from '../helpers/env.js';
import { ensureBuilt } from '../cli/run-cli.js';
import { TestNetns } from './fixtures.js';
import { buildTestObject } from './clang.js';
import { buildSumBinary, getppid, perfFds, uniqueName } from './tracing-fixtures.js';

const root = haveRoot();
const bpftool = tool('bpftool');
const cc = tool('cc');
const clang = tool('clang-19');

interface Event { seq: number; len: number; pid: number; cpu: number; words: number[] }

const obj = (file: string) => objectPath('bpfel', file);
const kernelLinks = (): { id: number; type: string; prog_id: number; tp_name?: string }[] =>
  JSON.parse(execFileSync(bpftool!, ['-j', 'link', 'list'], { encoding: 'utf8' }) || '[]');
const kernelProgs = (): number[] =>
  (JSON.parse(execFileSync(bpftool!, ['-j', 'prog', 'list'], { encoding: 'utf8' }) || '[]') as { id: number }[]).map((p) => p.id);
const linksOfProgs = (ids: number[]) => kernelLinks().filter((l) => ids.includes(l.prog_id));

/**
 * The ids of `ids` still in the kernel's program list once their last reference went (they go
 * after an RCU grace period or a workqueue run, so give them up to 3 s).
 */
async function progsLeft(ids: number[]): Promise<number[]> {
  for (const deadline = Date.now() + 3000; ;) {
    const left = kernelProgs().filter((id) => ids.includes(id));
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 20));
  }
}
/** How many CPUs are online (/sys/devices/system/cpu/online: "0-3,6"). */
const online = () => readFileSync('/sys/devices/system/cpu/online', 'utf8').trim().split(',')
  .map((r) => r.split('-').map(Number)).reduce((n, [a, b]) => n + (b ?? a!) - a! + 1, 0);

/** Loads trace_events.o with one program, pointed at this process: `perHit` records of `size` bytes per getppid(). */
function traceEvents(program: 'emit_perf' | 'emit_ringbuf', o: { perHit: number; size: number; discardEvery?: number }): Collection {
  const coll = Collection.load(obj('trace_events.o'), { programs: [program] });
  coll.map('trace_config').set(0, { tgid: process.pid, per_hit: o.perHit, size: o.size, discard_every: o.discardEvery ?? 0 });
  return coll;
}

/** Reads until `n` records have come (or the reader ends), with a deadline so that a missing record fails instead of hanging. */
async function take<T>(reader: MapReader<T>, n: number): Promise<TraceEvent<T>[]> {
  const got: TraceEvent<T>[] = [];
  const timer = setTimeout(() => reader.close(), 5000);
  try {
    for await (const e of reader) {
      got.push(e);
      if (got.filter((x) => x.kind === 'record').length === n) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return got;
}

describe.skipIf(!root || !bpftool)('tracepoints and perf event array readers through Collection', () => {
  it('attachTracepoint runs the program on each getppid(); map.reader decodes exactly the records sent, as struct event', async () => {
    const fdsBefore = perfFds();
    const coll = traceEvents('emit_perf', { perHit: 3, size: 36 });
    const prog = coll.program('emit_perf');
    try {
      const reader = coll.map('perf_events').reader<Event>({ type: 'struct event' });
      expect(reader.type).toEqual({ name: 'struct event', size: 4096 });
      const link = prog.attachTracepoint({ category: 'syscalls', name: 'sys_enter_getppid' });
      expect(link).toBeInstanceOf(TracingLink);
      expect([link.kind, link.target, link.binding]).toEqual(['tracepoint', 'syscalls:sys_enter_getppid', 'link']);
      expect(prog.links).toEqual([link]);
      expect(linksOfProgs([prog.id]).map((l) => [l.id, l.type])).toEqual([[link.ids[0], 'perf_event']]);
      getppid(20);
      link.detach();
      expect(linksOfProgs([prog.id])).toEqual([]);
      expect(prog.links).toEqual([]);
      const events = await take(reader, 60);
      const records = events.filter((e) => e.kind === 'record');
      expect(records.length).toBe(60);
      expect(events.filter((e) => e.kind === 'lost')).toEqual([]);
      // Each sequence number once; on each CPU's ring in the order sent.
      expect(records.map((r) => r.value.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i));
      for (const cpu of new Set(records.map((r) => r.cpu))) {
        const mine = records.filter((r) => r.cpu === cpu).map((r) => r.value.seq);
        expect(mine).toEqual([...mine].sort((a, b) => a - b));
      }
      for (const r of records) {
        expect(r.value.len).toBe(36);
        expect(r.value.pid).toBe(process.pid);
        expect(r.value.cpu).toBe(r.cpu);
        // words[0..3] carry the pattern, word 4 (the record's last) ~seq; the rest of the 4 KiB type reads as zero.
        expect(r.value.words.slice(0, 4)).toEqual([0, 1, 2, 3].map((i) => Math.imul(i, 0x9e3779b1) >>> 0));
        expect(r.value.words[4]).toBe(~r.value.seq >>> 0);
        expect(r.value.words.slice(5).every((w) => w === 0)).toBe(true);
        expect(r.data.byteLength).toBeGreaterThanOrEqual(36);
      }
      expect(reader.drain()).toEqual([]);
      expect(coll.map('counters').get(0)).toBe(60n); // PERF_SENT, the kernel's count
      expect(coll.map('counters').get(1)).toBe(0n); // PERF_FAILED
    } finally {
      coll.close();
    }
    expect(perfFds()).toBe(fdsBefore);
    expect(linksOfProgs([prog.id])).toEqual([]);
    expect(await progsLeft([prog.id])).toEqual([]);
  });

  it('coll.close() detaches the tracing links and ends the readers; a reader without a type gives the raw bytes', async () => {
    const fdsBefore = perfFds();
    const coll = traceEvents('emit_perf', { perHit: 1, size: 16 });
    const prog = coll.program('emit_perf');
    const reader = coll.map('perf_events').reader();
    const link = prog.attach(); // tracepoint/syscalls/sys_enter_getppid
    expect([link.kind, link.target]).toEqual(['tracepoint', 'syscalls:sys_enter_getppid']);
    getppid(4);
    const got = reader.drain();
    expect(got.length).toBe(4);
    for (const e of got) {
      expect(e.kind === 'record' && e.value).toBeUndefined();
      const dv = new DataView((e as { data: Uint8Array }).data.buffer, (e as { data: Uint8Array }).data.byteOffset);
      expect([dv.getUint32(4, true), dv.getUint32(8, true)]).toEqual([16, process.pid]);
    }
    const pending = reader.next();
    expect(linksOfProgs([prog.id]).length).toBe(1);
    coll.close();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(reader.closed).toBe(true);
    expect(link.attached).toBe(false);
    expect(linksOfProgs([prog.id])).toEqual([]);
    expect(await progsLeft([prog.id])).toEqual([]);
    expect(perfFds()).toBe(fdsBefore);
  });

  it('a full one-page ring gives { kind: "lost" } events counting exactly the outputs the kernel refused, and only whole records', () => {
    const coll = traceEvents('emit_perf', { perHit: 20, size: 1004 });
    try {
      const reader = coll.map('perf_events').reader<Event>({ type: 'struct event', pages: 1 });
      coll.program('emit_perf').attachTracepoint('syscalls:sys_enter_getppid');
      getppid(5);
      const first = reader.drain();
      // The kernel writes PERF_RECORD_LOST at the next output that finds room: one more record flushes it.
      coll.map('trace_config').set(0, { tgid: process.pid, per_hit: 1, size: 1004 });
      getppid(1);
      const events = [...first, ...reader.drain()];
      const failed = Number(coll.map('counters').get(1)); // PERF_FAILED
      const sent = Number(coll.map('counters').get(0)); // PERF_SENT
      expect(failed).toBeGreaterThan(0);
      expect(sent + failed).toBe(101);
      const lost = events.flatMap((e) => (e.kind === 'lost' ? [e.lost] : []));
      expect(lost.reduce((a, b) => a + b, 0)).toBe(failed);
      expect(reader.lost).toBe(failed);
      const records = events.flatMap((e) => (e.kind === 'record' ? [e] : []));
      expect(records.length).toBe(sent);
      expect(reader.records).toBe(sent);
      for (const r of records) {
        expect([r.value.len, r.value.pid, r.value.words[246]]).toEqual([1004, process.pid, ~r.value.seq >>> 0]);
        expect(r.value.words[245]).toBe(Math.imul(245, 0x9e3779b1) >>> 0);
      }
    } finally {
      coll.close();
    }
  });

  it('a reader on a map that is neither a perf event array nor a ring buffer is an error naming its type', () => {
    const coll = Collection.load(obj('trace_events.o'), { programs: ['emit_perf'] });
    try {
      expect(() => coll.map('counters').reader()).toThrow("map 'counters' is a array map: readers are for perf_event_array and ringbuf maps");
      expect(() => coll.map('ring_events').reader({ pages: 4 })).toThrow("map 'ring_events' is a ring buffer: pages is a perf event array setting");
      expect(() => coll.map('perf_events').reader({ type: 'struct nosuch' })).toThrow(/has no struct nosuch/);
    } finally {
      coll.close();
    }
  });
});

describe.skipIf(!root || !bpftool)('BPF ring buffer readers through Collection', () => {
  it('yields exactly the submitted records, decoded, and none of the discarded ones', async () => {
    const fdsBefore = perfFds();
    const coll = traceEvents('emit_ringbuf', { perHit: 4, size: 24, discardEvery: 4 });
    const prog = coll.program('emit_ringbuf');
    try {
      using reader = coll.map('ring_events').reader<Event>({ type: 'struct event' });
      using link = prog.attachTracepoint('syscalls:sys_enter_getppid');
      getppid(10);
      link.detach();
      // 40 sequence numbers, every 4th reserved and discarded: 30 records.
      const events = await take(reader, 30);
      expect(events.length).toBe(30);
      const seqs = events.map((e) => (e.kind === 'record' ? e.value.seq : -1));
      expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i).filter((s) => s % 4 !== 0));
      for (const e of events) {
        if (e.kind !== 'record') throw new Error('a ring buffer has no lost events');
        expect(e.cpu).toBeNull();
        expect([e.value.len, e.value.pid]).toEqual([24, process.pid]);
        expect(e.value.words[1]).toBe(~e.value.seq >>> 0);
        expect(e.data.byteLength).toBe(24);
      }
      expect(reader.records).toBe(30);
      expect(coll.map('counters').get(2)).toBe(30n); // RING_SENT
      expect(coll.map('counters').get(4)).toBe(10n); // RING_DISCARDED
      expect(linksOfProgs([prog.id])).toEqual([]);
    } finally {
      coll.close();
    }
    expect(perfFds()).toBe(fdsBefore);
  });
});

describe.skipIf(!root || !bpftool)('raw tracepoints', () => {
  it('attach() takes raw_tp/netif_receive_skb from the section; attachRawTracepoint names it; bpftool sees both until close()', async () => {
    const coll = Collection.load(obj('icmp_trace.o'));
    const prog = coll.program('icmp_netif_rx');
    try {
      const auto = prog.attach();
      const named = prog.attachRawTracepoint('netif_receive_skb');
      expect([auto.kind, auto.target, named.kind]).toEqual(['raw_tp', 'netif_receive_skb', 'raw_tp']);
      const seen = linksOfProgs([prog.id]);
      expect(seen.map((l) => [l.id, l.type, l.tp_name]).sort()).toEqual([auto.ids[0], named.ids[0]].sort().map((id) => [id, 'raw_tracepoint', 'netif_receive_skb']));
      expect(() => prog.attachRawTracepoint('no_such_tracepoint_here')).toThrow(TracingError);
      expect(linksOfProgs([prog.id]).length).toBe(2);
    } finally {
      coll.close();
    }
    expect(linksOfProgs([prog.id])).toEqual([]);
    expect(await progsLeft([prog.id])).toEqual([]);
  });
});

describe.skipIf(!root || !bpftool || !cc)('uprobes', () => {
  let sum: ReturnType<typeof buildSumBinary>;
  beforeAll(() => {
    sum = buildSumBinary();
  });
  afterAll(() => sum?.cleanup());
  const run = (n: number) => BigInt(execFileSync(sum.path, [String(n)], { encoding: 'utf8' }).trim());

  it('a section without a target (SEC("uprobe")) is an error that says to call attachUprobe', () => {
    const coll = Collection.load(obj('trace_probes.o'), { programs: ['sum_enter'] });
    try {
      let err: unknown;
      try {
        coll.program('sum_enter').attach();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TracingError);
      expect((err as Error).message).toBe("program 'sum_enter' is in section 'uprobe', which names no target to attach to");
      expect((err as TracingError).hint).toBe("say where: program.attachUprobe({ binary: '/path/to/binary', symbol: 'FUNC' })");
      expect(() => coll.program('sum_enter').attachUprobe({ binary: sum.path })).toThrow(`a uprobe on ${sum.path} needs a symbol or a file offset`);
      expect(linksOfProgs([coll.program('sum_enter').id])).toEqual([]);
    } finally {
      coll.close();
    }
  });

  it('attachUprobe and its retprobe see every call of the test binary, its arguments and results; a pid filter sees none of another process', async () => {
    const coll = Collection.load(obj('trace_probes.o'), { programs: ['sum_enter', 'sum_exit'] });
    const ids = [coll.program('sum_enter').id, coll.program('sum_exit').id];
    try {
      const totals = () => coll.map('totals').get(0) as { enter: bigint; exit: bigint; args: bigint; results: bigint };
      const enter = coll.program('sum_enter').attachUprobe({ binary: sum.path, symbol: 'h_sum' });
      const exit = coll.program('sum_exit').attachUprobe({ binary: sum.path, symbol: 'h_sum', retprobe: true });
      expect([enter.kind, exit.kind, enter.target]).toEqual(['uprobe', 'uretprobe', `${sum.path}:h_sum`]);
      expect(linksOfProgs(ids).length).toBe(2);
      const printed = run(25);
      // h_sum(i, 2i) for i < 25: 3 * (0 + ... + 24) = 900, which the program printed.
      expect(printed).toBe(900n);
      expect(totals()).toMatchObject({ enter: 25n, exit: 25n, args: printed, results: printed });
      enter.detach();
      exit.detach();
      expect(linksOfProgs(ids)).toEqual([]);
      // The kernel frees a perf event link from a work item after its descriptor is closed, and the
      // uprobe consumer with it: a run started meanwhile can still hit. Wait until a run no longer does.
      for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
        const t = totals();
        run(1);
        if (totals().enter === t.enter && totals().exit === t.exit) break;
      }
      const settled = totals();
      run(7);
      expect(totals()).toEqual(settled);
      using only = coll.program('sum_enter').attachUprobe({ binary: sum.path, symbol: 'h_sum', pid: process.pid });
      run(7);
      expect(totals().enter).toBe(settled.enter);
      expect(only.attached).toBe(true);
    } finally {
      coll.close();
    }
    expect(linksOfProgs(ids)).toEqual([]);
    expect(await progsLeft(ids)).toEqual([]);
  });

  it('a pinned uprobe link outlives coll.close(), keeps counting, and goes with detachPinnedLink', () => {
    const pin = `/sys/fs/bpf/${uniqueName('bpfts_tl')}`;
    const coll = Collection.load(obj('trace_probes.o'), { programs: ['sum_enter'] });
    const prog = coll.program('sum_enter');
    try {
      const link = prog.attachUprobe({ binary: sum.path, symbol: 'h_sum' });
      link.pin(pin);
      expect(link.pinnedAt).toBe(pin);
      const totals = coll.map('totals').id;
      coll.close();
      expect(link.attached).toBe(false);
      expect(existsSync(pin)).toBe(true);
      expect(linksOfProgs([prog.id]).map((l) => l.type)).toEqual(['perf_event']);
      expect(kernelProgs()).toContain(prog.id); // held by the pinned link
      run(6);
      // struct probe_totals.enter, as bpftool reads the map the program still holds.
      const value = (JSON.parse(execFileSync(bpftool!, ['-j', 'map', 'lookup', 'id', String(totals), 'key', '0', '0', '0', '0'], { encoding: 'utf8' })) as { value: string[] }).value;
      expect(Buffer.from(value.slice(0, 8).map((b) => Number(b))).readBigUInt64LE(0)).toBe(6n);
      detachPinnedLink(pin);
      expect(existsSync(pin)).toBe(false);
      expect(linksOfProgs([prog.id])).toEqual([]);
    } finally {
      coll.close();
      rmSync(pin, { force: true });
    }
  });
});

describe.skipIf(!root || !bpftool)('perf software events', () => {
  it('attachPerfEvent runs on cpu-clock samples on every online CPU, one kernel link each, until detached; one path cannot pin them', async () => {
    const coll = Collection.load(obj('trace_probes.o'), { programs: ['on_sample'] });
    const prog = coll.program('on_sample');
    try {
      const samples = () => (coll.map('totals').get(0) as { samples: bigint }).samples;
      const link = prog.attachPerfEvent({ event: 'cpu-clock', frequency: 1000 });
      expect(link.ids.length).toBe(online());
      expect(linksOfProgs([prog.id]).map((l) => l.id).sort()).toEqual([...link.ids].sort());
      expect(() => link.pin('/sys/fs/bpf/unused')).toThrow(/cannot pin/);
      const until = Date.now() + 100;
      while (Date.now() < until) getppid(100);
      link.detach();
      const n = samples();
      expect(n).toBeGreaterThan(0n);
      await new Promise((r) => setTimeout(r, 30));
      expect(samples()).toBe(n);
      expect(linksOfProgs([prog.id])).toEqual([]);
    } finally {
      coll.close();
    }
  });
});

describe.skipIf(!root || !bpftool)('kprobes on a kernel without them', () => {
  const noKprobes = !existsSync('/sys/bus/event_source/devices/kprobe') && !existsSync('/sys/kernel/tracing/kprobe_events');
  if (!noKprobes) console.warn('\n*** SKIPPING: this kernel has kprobes, so the errors of a kernel without them cannot be checked here ***\n');

  it.runIf(noKprobes)('attach() on kretprobe/ip_rcv_core and attachKprobe are KprobesUnavailableErrors; nothing is left attached', () => {
    const coll = Collection.load(obj('icmp_trace_kretprobe.o'));
    const prog = coll.program('icmp_ip_rcv');
    try {
      for (const attach of [() => prog.attach(), () => prog.attachKprobe('ip_rcv_core', { retprobe: true })]) {
        let err: unknown;
        try {
          attach();
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(KprobesUnavailableError);
        expect((err as KprobesUnavailableError).func).toBe('ip_rcv_core');
        expect((err as Error).message).toMatch(/^this kernel has no kprobes \(CONFIG_KPROBES is not set/);
      }
      expect(prog.links).toEqual([]);
      expect(linksOfProgs([prog.id])).toEqual([]);
    } finally {
      coll.close();
    }
  });
});

describe.skipIf(!root || !bpftool || !clang)('BTF-attached programs', () => {
  it('an fentry program this kernel refuses is a TracingUnsupportedError from Collection.load; on a kernel that loads it, attachFentry attaches', () => {
    const build = buildTestObject(clang!, 'btf_attach', ['-DSEC_NAME="fentry/tcp_connect"']);
    try {
      let coll: Collection | undefined;
      let err: unknown;
      try {
        coll = Collection.load(build.path);
      } catch (e) {
        err = e;
      }
      if (coll) {
        try {
          const link = coll.program('prog').attachFentry();
          expect(linksOfProgs([coll.program('prog').id]).map((l) => l.id)).toEqual(link.ids);
        } finally {
          coll.close();
        }
        return;
      }
      expect(err).toBeInstanceOf(TracingUnsupportedError);
      expect((err as Error).message).toBe('this kernel refuses fentry programs (tcp_connect) with EPERM');
      expect((err as TracingUnsupportedError).hint).toMatch(/trampolines/);
      expect((err as TracingUnsupportedError).cause).toBeInstanceOf(LoadError);
    } finally {
      build.cleanup();
    }
  });

  it('tp_btf/sched_switch: attach() and attachTracing() link it with BPF_LINK_CREATE; attachFentry on it is an error', async () => {
    const build = buildTestObject(clang!, 'btf_attach', ['-DSEC_NAME="tp_btf/sched_switch"']);
    let coll: Collection | undefined;
    try {
      try {
        coll = Collection.load(build.path);
      } catch (e) {
        // A kernel that refuses tp_btf says so in the same typed way.
        expect(e).toBeInstanceOf(TracingUnsupportedError);
        expect((e as Error).message).toMatch(/^this kernel refuses tp_btf programs \(sched_switch\) with E/);
        return;
      }
      const prog = coll.program('prog');
      expect(() => prog.attachFentry()).toThrow("program 'prog' is in section 'tp_btf/sched_switch', not a fentry section");
      const link = prog.attach();
      expect([link.kind, link.target]).toEqual(['tp_btf', 'sched_switch']);
      const other = prog.attachTracing();
      expect(linksOfProgs([prog.id]).map((l) => l.id).sort()).toEqual([...link.ids, ...other.ids].sort());
      await new Promise((r) => setTimeout(r, 30));
      coll.close();
      expect(linksOfProgs([prog.id])).toEqual([]);
      expect(await progsLeft([prog.id])).toEqual([]);
    } finally {
      coll?.close();
      build.cleanup();
    }
  });
});

/** The code block of the README's "Tracing from TypeScript", as a user copies it. */
function readmeTracer(): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  return /```ts\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## Tracing from TypeScript')))![1]!;
}

describe.skipIf(!root || !bpftool)('the README tracer', () => {
  it('prints exactly the ICMP packets of pings in a namespace of the test, and leaves no link when stopped', async () => {
    ensureBuilt();
    // Under the repository, so that `bpfts/loader` resolves to this package through its exports.
    mkdirSync(join(repoRoot, 'tmp'), { recursive: true });
    const dir = mkdtempSync(join(repoRoot, 'tmp', 'readme-trace-'));
    const ns = new TestNetns();
    // The tracer's own links, from its descriptors' fdinfo (other tests may attach to the same tracepoint meanwhile).
    const linksOfPid = (pid: number) => readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      try {
        return [/^link_id:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))?.[1]].filter((x) => x !== undefined).map(Number);
      } catch {
        return []; // closed while listing
      }
    });
    let child: ReturnType<typeof spawn> | undefined;
    try {
      // Compiled as a user would, strict, against the published declarations.
      writeFileSync(join(dir, 'trace.mts'), readmeTracer());
      execFileSync(join(repoRoot, 'node_modules', '.bin', 'tsc'), [
        '--ignoreConfig', '--rootDir', dir, '--outDir', dir, '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext',
        '--strict', '--types', 'node', '--skipLibCheck', join(dir, 'trace.mts'),
      ], { cwd: repoRoot, stdio: 'pipe' });
      const net = `10.${randomInt(64, 250)}.${randomInt(1, 250)}`;
      const [a, b] = [`${net}.1`, `${net}.2`];
      ns.ip(['link', 'set', 'lo', 'up']);
      ns.ip(['addr', 'add', `${a}/24`, 'dev', ns.veth[0]]);
      ns.ip(['addr', 'add', `${b}/24`, 'dev', ns.veth[1]]);
      let out = '';
      child = spawn(process.execPath, [join(dir, 'trace.mjs')], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
      const waitFor = async (what: string, ok: () => boolean) => {
        for (const deadline = Date.now() + 10_000; !ok();) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; tracer stderr: ${err}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      let mine: number[] = [];
      await waitFor('the tracer to attach', () => (mine = linksOfPid(child!.pid!)).length > 0);
      expect(kernelLinks().filter((l) => mine.includes(l.id)).map((l) => [l.type, l.tp_name])).toEqual([['raw_tracepoint', 'netif_receive_skb']]);
      ns.exec('ping', ['-c', '3', '-i', '0.2', '-W', '1', '-I', a, b]);
      const ours = () => out.split('\n').filter((l) => l.includes(`${a} >`) || l.includes(`${b} >`));
      await waitFor('6 events', () => ours().length >= 6);
      // Three echo requests a > b and three replies b > a, each received once through the namespace's loopback.
      await new Promise((r) => setTimeout(r, 100));
      expect(ours().map((l) => l.replace(/^CPU \d+: /, '')).sort()).toEqual([...Array(3).fill(`${a} > ${b}`), ...Array(3).fill(`${b} > ${a}`)]);
      child.kill('SIGINT');
      await new Promise((r) => child!.once('exit', r));
      await waitFor('the link to go', () => !kernelLinks().some((l) => mine.includes(l.id)));
    } finally {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      ns.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
