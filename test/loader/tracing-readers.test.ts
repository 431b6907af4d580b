// The perf event array and ring buffer readers against the kernel, with trace_events.o emitting a
// known number of records per getppid(): every record arrives once and intact (its sequence
// number first, its complement last, a fixed pattern between), records that wrap around the end
// of a ring come out whole, and when a ring overflows the lost records the kernel reports (perf)
// or the outputs it refused (ring buffer) match what the program counted, without a torn record.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  PerfEventArrayReader, RingBufferReader, attachTracepoint, decodeRecord, recordType, type LoadedObject, type ReaderEvent,
  type RecordEvent, type RingReader, type TracingLink,
} from '../../src/loader/raw.js';
import { haveRoot, tool } from '../helpers/env.js';
import { COUNTER, configure, counter, getppid, linksOf, loadTracing, mapFd, perfFds } from './tracing-fixtures.js';

const root = haveRoot();
const bpftool = tool('bpftool');

/** Checks one trace_events.c record; returns its sequence number. */
function checkRecord(data: Uint8Array, size: number): number {
  expect(data.byteLength).toBeGreaterThanOrEqual(size);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const seq = dv.getUint32(0, true);
  expect(dv.getUint32(4, true)).toBe(size);
  expect(dv.getUint32(8, true)).toBe(process.pid);
  for (let i = 0; (i + 1) * 4 + 16 < size; i++) {
    if (dv.getUint32(16 + i * 4, true) !== Math.imul(i, 0x9e3779b1) >>> 0) throw new Error(`record ${seq}: word ${i} is torn`);
  }
  expect(dv.getUint32(size - 4, true)).toBe(~seq >>> 0);
  return seq;
}

async function take(reader: RingReader, n: number, ms = 5000): Promise<ReaderEvent[]> {
  const out: ReaderEvent[] = [];
  const deadline = Date.now() + ms;
  while (out.filter((e) => e.kind === 'record').length < n) {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([reader.next(), new Promise<null>((res) => { timer = setTimeout(() => res(null), Math.max(deadline - Date.now(), 1)); })]);
    clearTimeout(timer);
    if (r === null) throw new Error(`timed out after ${out.length} events`);
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

const records = (events: ReaderEvent[]) => events.filter((e): e is RecordEvent => e.kind === 'record');

describe.skipIf(!root || !bpftool)('perf event array reader', () => {
  let obj: LoadedObject;
  let link: TracingLink | undefined;
  let reader: PerfEventArrayReader | undefined;
  let fdsBefore: number;
  beforeEach(() => {
    fdsBefore = perfFds();
    obj = loadTracing('trace_events.o', ['emit_perf']);
  });
  afterEach(() => {
    link?.detach();
    reader?.close();
    const progId = obj.programs[0]!.id;
    obj.close();
    link = undefined;
    reader = undefined;
    expect(perfFds()).toBe(fdsBefore);
    expect(linksOf([progId])).toEqual([]);
  });

  it('delivers exactly the records emitted, each once and intact, with the CPU that wrote it', async () => {
    configure(obj, { perHit: 1, size: 36 });
    reader = PerfEventArrayReader.open(mapFd(obj, 'perf_events'));
    link = attachTracepoint(obj.programs[0]!.fd, 'syscalls:sys_enter_getppid');
    getppid(200);
    const events = await take(reader, 200);
    const recs = records(events);
    expect(recs.length).toBe(200);
    // 36 bytes of output come out as the kernel's raw sample: 4 bytes of padding to 8 with its size.
    expect(new Set(recs.map((r) => r.data.byteLength))).toEqual(new Set([36]));
    expect(recs.map((r) => checkRecord(r.data, 36)).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    for (const r of recs) expect(new DataView(r.data.buffer, r.data.byteOffset).getUint32(12, true)).toBe(r.cpu);
    expect(counter(obj, COUNTER.PERF_SENT)).toBe(200);
    expect(counter(obj, COUNTER.PERF_FAILED)).toBe(0);
    expect(reader.lost).toBe(0);
    expect(reader.drain()).toEqual([]);
  });

  it('reassembles records that wrap around the end of a one-page ring', async () => {
    // 1016-byte records in 4096 bytes: every ring that holds five or more wraps one around its end.
    configure(obj, { perHit: 1, size: 1004 });
    reader = PerfEventArrayReader.open(mapFd(obj, 'perf_events'), { pages: 1 });
    link = attachTracepoint(obj.programs[0]!.fd, 'syscalls:sys_enter_getppid');
    const recs: RecordEvent[] = [];
    for (let i = 0; i < 60; i++) {
      getppid(1);
      recs.push(...records(await take(reader, 1)));
    }
    expect(recs.length).toBe(60);
    expect(recs.map((r) => checkRecord(r.data, 1004)).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(reader.lost).toBe(0);
  });

  it('counts the records lost when a ring overflows: exactly the outputs the kernel refused, and no torn record', () => {
    configure(obj, { perHit: 20, size: 1004 });
    reader = PerfEventArrayReader.open(mapFd(obj, 'perf_events'), { pages: 1 });
    link = attachTracepoint(obj.programs[0]!.fd, 'syscalls:sys_enter_getppid');
    getppid(5);
    const first = reader.drain();
    // The kernel writes PERF_RECORD_LOST at the next output that finds room: one more record flushes it.
    configure(obj, { perHit: 1, size: 1004 });
    getppid(1);
    const events = [...first, ...reader.drain()];
    const failed = counter(obj, COUNTER.PERF_FAILED);
    expect(failed).toBeGreaterThan(0);
    const lost = events.filter((e) => e.kind === 'lost').reduce((n, e) => n + (e.kind === 'lost' ? e.count : 0), 0);
    expect(lost).toBe(failed);
    expect(reader.lost).toBe(failed);
    const recs = records(events);
    expect(recs.length).toBe(counter(obj, COUNTER.PERF_SENT));
    expect(recs.length + failed).toBe(101);
    for (const r of recs) checkRecord(r.data, 1004);
  });

  it('waits without busy polling and without blocking the event loop, and close() ends a pending next()', async () => {
    configure(obj, { perHit: 1, size: 36 });
    reader = PerfEventArrayReader.open(mapFd(obj, 'perf_events'));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const cpu = process.cpuUsage();
    const pending = reader.next();
    await new Promise((r) => setTimeout(r, 500));
    const used = process.cpuUsage(cpu);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(20);
    // Half a second of waiting costs the timers' wake-ups, not a spinning loop.
    expect((used.user + used.system) / 1000).toBeLessThan(100);
    reader.close();
    expect(await pending).toEqual({ value: undefined, done: true });
  });

  it('with wakeupBytes the kernel wakes the reader only once that many bytes wait in a ring', async () => {
    configure(obj, { perHit: 1, size: 36 });
    reader = PerfEventArrayReader.open(mapFd(obj, 'perf_events'), { wakeupBytes: 2048 });
    link = attachTracepoint(obj.programs[0]!.fd, 'syscalls:sys_enter_getppid');
    const pending = reader.next();
    await new Promise((r) => setTimeout(r, 50));
    getppid(1);
    // One 48-byte record is below the watermark: no wake-up, the record waits in the ring.
    expect(await Promise.race([pending, new Promise((r) => setTimeout(() => r('still waiting'), 300))])).toBe('still waiting');
    // 100 more: at least one ring passes 2048 bytes.
    getppid(100);
    const first = await pending;
    expect(first.done).toBe(false);
    const recs = records([first.value!, ...reader.drain()]);
    expect(recs.length).toBe(101);
  });

  it('decodes records through the object BTF', async () => {
    configure(obj, { perHit: 1, size: 36 });
    reader = PerfEventArrayReader.open(mapFd(obj, 'perf_events'));
    link = attachTracepoint(obj.programs[0]!.fd, 'syscalls:sys_enter_getppid');
    getppid(1);
    const [rec] = records(await take(reader, 1));
    const type = recordType(obj.object.btf!, 'struct event');
    expect(type.size).toBe(4096);
    const value = decodeRecord(type, rec!.data) as Record<string, unknown>;
    expect(value).toMatchObject({ seq: 0, len: 36, pid: process.pid, cpu: rec!.cpu });
    expect((value.words as number[]).slice(0, 5)).toEqual([0, 0x9e3779b1, Math.imul(2, 0x9e3779b1) >>> 0, Math.imul(3, 0x9e3779b1) >>> 0, ~0 >>> 0]);
    expect(() => recordType(obj.object.btf!, 'struct nope')).toThrow(/no struct nope/);
  });
});

describe.skipIf(!root || !bpftool)('BPF ring buffer reader', () => {
  let obj: LoadedObject;
  let link: TracingLink | undefined;
  let reader: RingBufferReader | undefined;
  beforeEach(() => {
    obj = loadTracing('trace_events.o', ['emit_ringbuf']);
  });
  afterEach(() => {
    link?.detach();
    reader?.close();
    const progId = obj.programs[0]!.id;
    obj.close();
    link = undefined;
    reader = undefined;
    expect(linksOf([progId])).toEqual([]);
  });

  it('delivers exactly the submitted records and skips the discarded ones', async () => {
    configure(obj, { perHit: 1, size: 100, discardEvery: 5 });
    reader = RingBufferReader.open(mapFd(obj, 'ring_events'));
    expect(reader.size).toBe(16384);
    link = attachTracepoint(obj.programs[0]!.fd, 'syscalls:sys_enter_getppid');
    getppid(100);
    const recs = records(await take(reader, 80));
    expect(recs.length).toBe(80);
    expect(counter(obj, COUNTER.RING_DISCARDED)).toBe(20);
    expect(new Set(recs.map((r) => r.data.byteLength))).toEqual(new Set([100]));
    expect(recs.every((r) => r.cpu === null)).toBe(true);
    expect(recs.map((r) => checkRecord(r.data, 100))).toEqual(Array.from({ length: 100 }, (_, i) => i).filter((i) => i % 5 !== 0));
    expect(reader.drain()).toEqual([]);
  });

  it('reads records that wrap around the end of the ring whole, in order', async () => {
    configure(obj, { perHit: 1, size: 1000 });
    reader = RingBufferReader.open(mapFd(obj, 'ring_events'));
    link = attachTracepoint(obj.programs[0]!.fd, 'syscalls:sys_enter_getppid');
    const seqs: number[] = [];
    // 1008 bytes a record with its header: 100 of them go round the 16 KiB ring six times.
    for (let i = 0; i < 100; i++) {
      getppid(1);
      for (const r of records(await take(reader, 1))) seqs.push(checkRecord(r.data, 1000));
    }
    expect(seqs).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('when the ring is full, the reader gets exactly the records the kernel accepted, none torn', () => {
    configure(obj, { perHit: 40, size: 1000 });
    reader = RingBufferReader.open(mapFd(obj, 'ring_events'));
    link = attachTracepoint(obj.programs[0]!.fd, 'syscalls:sys_enter_getppid');
    getppid(1);
    const recs = records(reader.drain());
    const sent = counter(obj, COUNTER.RING_SENT);
    expect(counter(obj, COUNTER.RING_FAILED)).toBe(40 - sent);
    expect(sent).toBe(Math.floor(16384 / 1008));
    expect(recs.map((r) => checkRecord(r.data, 1000))).toEqual(Array.from({ length: sent }, (_, i) => i));
  });
});
