// The typed library (Collection, BpfMap, Program, Link) against the real kernel, with bpftool as
// the oracle for map contents and tc/ip for attachments, in the test's own network namespace.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BtfValueError, cValueToJson, type CValue } from '../../src/btf/index.js';
import { BpfMap, Collection, MapOperationError, NameNotFoundError, type Link } from '../../src/loader/index.js';
import { mapCreate } from '../../src/loader/raw.js';
import { BPF_MAP_TYPE_HASH } from '../../src/uapi/bpf.js';
import { haveLinuxHeaders, haveRoot, repoRoot, tool } from '../helpers/env.js';
import { buildTestObject } from './clang.js';
import { TestNetns, json, run, thrown } from './fixtures.js';

const root = haveRoot();
const bpftool = root ? tool('bpftool') : undefined;
const clang = root && haveLinuxHeaders() ? tool('clang-19') : undefined;

type Row = { key: string[]; value?: string[]; values?: { cpu: number; value: string[] }[]; formatted?: { key: unknown; value?: unknown; values?: { cpu: number; value: unknown }[] } };

const dump = (id: number) => json<Row[]>(bpftool!, ['map', 'dump', 'id', String(id), '-j']);
const bytesOf = (hex: string[]) => hex.map(Number);
const hexArgs = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0'));
/** A JSON text for each formatted key/value, order-free. */
const canon = (v: unknown) => JSON.stringify(v, (_, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x));

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u8 = fc.integer({ min: 0, max: 255 });
/** bpftool prints 64-bit integers as JSON numbers, exact up to 2^53. */
const u53 = fc.bigInt({ min: 0n, max: (1n << 53n) - 1n });
const flowKey = fc.record({ saddr: u32, daddr: u32, sport: u16, dport: u16, proto: u8, pad: fc.constant([0, 0, 0]) });
const comm = fc.string({ unit: fc.constantFrom(...'abcdefgh-_01'.split('')), maxLength: 7 });
const flowVal = fc.record({ packets: u53, bytes: u53, comm });

/** The bytes of a struct flow_key / flow_val, laid out by hand from the C source. */
function flowKeyBytes(k: { saddr: number; daddr: number; sport: number; dport: number; proto: number }): Uint8Array {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, k.saddr, true); dv.setUint32(4, k.daddr, true); dv.setUint16(8, k.sport, true); dv.setUint16(10, k.dport, true); b[12] = k.proto;
  return b;
}
function flowValBytes(v: { packets: bigint; bytes: bigint; comm: string }): Uint8Array {
  const b = new Uint8Array(24);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, v.packets, true); dv.setBigUint64(8, v.bytes, true); b.set(new TextEncoder().encode(v.comm), 16);
  return b;
}

const u32le = (v: number) => new Uint8Array(new Uint32Array([v]).buffer);
const u64le = (v: bigint) => new Uint8Array(new BigUint64Array([v]).buffer);

function clear(m: BpfMap): void {
  for (const k of [...m.keys()]) m.delete(k as CValue);
}

describe.skipIf(!root || !bpftool || !clang)('the library against the kernel (oracle: bpftool)', () => {
  let build: ReturnType<typeof buildTestObject>;
  let coll: Collection;
  beforeAll(() => {
    build = buildTestObject(clang!, 'library');
    coll = Collection.load(build.path, { constants: { target_port: 8080, banner: 'hi' } });
  });
  afterAll(() => {
    coll?.close();
    build?.cleanup();
  });

  it('sets constants in .rodata before the load, by name, checked against their BTF types', () => {
    const rodata = dump(coll.map('.rodata').id);
    expect(rodata[0]!.formatted!.value).toEqual({ '.rodata': [{ target_port: 8080 }, { banner: 'hi' }] });
    expect(coll.globals.get('target_port')).toBe(8080);
    expect(coll.globals.get('banner')).toBe('hi');
    // The program sees them: target_port + seed + banner[0].
    expect(coll.program('ret_config').testRun({ dataIn: new Uint8Array(64) }).retval).toBe(8080 + 7 + 'h'.charCodeAt(0));
    const nope = thrown(() => Collection.load(build.path, { constants: { nope: 1 } }));
    expect(nope).toBeInstanceOf(NameNotFoundError);
    expect(nope).toMatchObject({ what: 'constant', wanted: 'nope', available: ['target_port', 'banner'] });
    expect(thrown(() => Collection.load(build.path, { constants: { seed: 1 } }))).toMatchObject({ hint: expect.stringMatching(/'seed' is in \.data/) });
    expect(thrown(() => Collection.load(build.path, { constants: { target_port: -1 } }))).toBeInstanceOf(BtfValueError);
    expect(String(thrown(() => Collection.load(build.path, { constants: { banner: 'much too long' } })))).toMatch(/constant 'banner'.*holds 7 and the NUL/);
  });

  it('reads and writes .data and .bss globals by name, as bpftool sees them', () => {
    coll.globals.set('seed', 3);
    expect(dump(coll.map('.data').id)[0]!.formatted!.value).toEqual({ '.data': [{ seed: 3 }] });
    const before = coll.globals.get('seen') as bigint;
    coll.program('ret_config').testRun({ dataIn: new Uint8Array(64), repeat: 5 });
    expect(coll.globals.get('seen')).toBe(before + 5n);
    expect(dump(coll.map('.bss').id)[0]!.formatted!.value).toEqual({ '.bss': [{ seen: Number(before + 5n) }] });
    expect(coll.program('ret_config').testRun({ dataIn: new Uint8Array(64) }).retval).toBe(8080 + 3 + 104);
    expect(thrown(() => coll.globals.set('target_port', 1))).toMatchObject({ message: expect.stringMatching(/frozen after load/) });
    expect(thrown(() => coll.globals.get('nope'))).toMatchObject({ what: 'variable', available: ['target_port', 'banner', 'seed', 'seen'] });
  });

  it('names what exists when a map or program is not there', () => {
    const m = thrown(() => coll.map('flow'));
    expect(m).toBeInstanceOf(NameNotFoundError);
    expect((m as NameNotFoundError).available).toEqual(expect.arrayContaining(['flows', 'counters', 'pcpu', 'q', 'st', '.bss']));
    const shown = json<{ name: string }[]>(bpftool!, ['prog', 'show', '-j']).map((p) => p.name);
    const p = thrown(() => coll.program('ret')) as NameNotFoundError;
    expect(p.available).toEqual(['ret_config', 'tail_target', 'tail_caller', 'xdp_pass']);
    for (const name of p.available) expect(shown).toContain(name);
    expect(thrown(() => coll.map('q').get(0))).toBeInstanceOf(MapOperationError);
    expect(thrown(() => coll.map('flows').push({}))).toBeInstanceOf(MapOperationError);
  });

  it('hash: random entries set through the library are what bpftool dumps, and the reverse', () => {
    const flows = coll.map('flows');
    fc.assert(fc.property(fc.uniqueArray(fc.tuple(flowKey, flowVal), { selector: ([k]) => canon(k), maxLength: 40 }), (entries) => {
      clear(flows);
      for (const [k, v] of entries) flows.set(k, v);
      const rows = dump(flows.id);
      expect(new Set(rows.map((r) => canon(r.formatted)))).toEqual(new Set(entries.map(([k, v]) => canon({ key: k, value: cValueToJson(v) }))));
      expect(new Set([...flows.entries()].map((e) => canon(cValueToJson(e))))).toEqual(new Set(entries.map((e) => canon(cValueToJson(e)))));
    }), { numRuns: 15 });
    fc.assert(fc.property(flowKey, flowVal, (k, v) => {
      clear(flows);
      run(bpftool!, ['map', 'update', 'id', String(flows.id), 'key', 'hex', ...hexArgs(flowKeyBytes(k)), 'value', 'hex', ...hexArgs(flowValBytes(v))]);
      expect(flows.get(k)).toEqual(v);
      expect(flows.has(k)).toBe(true);
      expect(flows.delete(k)).toBe(true);
      expect(flows.has(k)).toBe(false);
      expect(dump(flows.id)).toEqual([]);
    }), { numRuns: 10 });
  });

  it('array and LRU hash: what the library sets, bpftool dumps', () => {
    const counters = coll.map('counters');
    const lru = coll.map('lru');
    fc.assert(fc.property(fc.dictionary(fc.integer({ min: 0, max: 15 }).map(String), u53), fc.uniqueArray(fc.tuple(u53, u32), { selector: ([k]) => k, maxLength: 30 }), (arr, pairs) => {
      for (let i = 0; i < 16; i++) counters.set(i, 0n);
      for (const [i, v] of Object.entries(arr)) counters.set(Number(i), v);
      const rows = dump(counters.id);
      expect(rows.map((r) => [r.formatted!.key, r.formatted!.value])).toEqual(Array.from({ length: 16 }, (_, i) => [i, Number(arr[String(i)] ?? 0n)]));
      expect([...counters.entries()]).toEqual(Array.from({ length: 16 }, (_, i) => [i, arr[String(i)] ?? 0n]));
      clear(lru);
      for (const [k, v] of pairs) lru.set(k, v);
      expect(new Set(dump(lru.id).map((r) => canon([r.formatted!.key, r.formatted!.value])))).toEqual(new Set(pairs.map(([k, v]) => canon([Number(k), v]))));
    }), { numRuns: 15 });
    expect(thrown(() => counters.set(16, 1n))).toMatchObject({ errnoName: 'E2BIG' });
    // The reverse: bpftool writes the bytes (laid out by hand), the library reads values.
    fc.assert(fc.property(fc.integer({ min: 0, max: 15 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), u32, (i, v, lk, lv) => {
      run(bpftool!, ['map', 'update', 'id', String(counters.id), 'key', 'hex', ...hexArgs(u32le(i)), 'value', 'hex', ...hexArgs(u64le(v))]);
      expect(counters.get(i)).toBe(v);
      clear(lru);
      run(bpftool!, ['map', 'update', 'id', String(lru.id), 'key', 'hex', ...hexArgs(u64le(lk)), 'value', 'hex', ...hexArgs(u32le(lv))]);
      expect([...lru.entries()]).toEqual([[lk, lv]]);
    }), { numRuns: 10 });
  });

  it('per-CPU array and hash: one value per possible CPU, as bpftool dumps them', () => {
    const pcpu = coll.map('pcpu');
    const pcpuHash = coll.map('pcpu_hash');
    const cpus = dump(pcpu.id)[0]!.values!.length;
    expect(pcpu.cpus).toBe(cpus);
    const pc = fc.record({ a: u32, b: u16 });
    fc.assert(fc.property(fc.integer({ min: 0, max: 3 }), fc.array(pc, { minLength: cpus, maxLength: cpus }), fc.array(u53, { minLength: cpus, maxLength: cpus }), u32, (i, vals, wide, hk) => {
      pcpu.set(i, vals);
      const row = dump(pcpu.id).find((r) => r.formatted!.key === i)!;
      expect(row.formatted!.values!.map((v) => v.value)).toEqual(vals);
      expect(pcpu.get(i)).toEqual(vals);
      clear(pcpuHash);
      pcpuHash.set(hk, wide);
      expect(dump(pcpuHash.id).map((r) => [r.formatted!.key, r.formatted!.values!.map((v) => v.value)])).toEqual([[hk, wide.map(Number)]]);
      expect([...pcpuHash.entries()]).toEqual([[hk, wide]]);
    }), { numRuns: 15 });
    expect(thrown(() => pcpu.set(0, [{ a: 1, b: 1 }]))).toMatchObject({ name: 'MapSizeError', expected: cpus, given: 1 });
    // The reverse: bpftool stores one value for every CPU; the library reads it back per CPU.
    fc.assert(fc.property(fc.integer({ min: 0, max: 3 }), pc, u53, u32, (i, v, wide, hk) => {
      const bytes = new Uint8Array(8);
      new DataView(bytes.buffer).setUint32(0, v.a, true);
      new DataView(bytes.buffer).setUint16(4, v.b, true);
      run(bpftool!, ['map', 'update', 'id', String(pcpu.id), 'key', 'hex', ...hexArgs(u32le(i)), 'value', 'hex', ...hexArgs(bytes)]);
      expect(pcpu.get(i)).toEqual(Array.from({ length: cpus }, () => v));
      clear(pcpuHash);
      run(bpftool!, ['map', 'update', 'id', String(pcpuHash.id), 'key', 'hex', ...hexArgs(u32le(hk)), 'value', 'hex', ...hexArgs(u64le(wide))]);
      expect(pcpuHash.get(hk)).toEqual(Array.from({ length: cpus }, () => wide));
    }), { numRuns: 10 });
  });

  it('queue and stack: push, pop and peek agree with bpftool peek and push', () => {
    const q = coll.map('q');
    const st = coll.map('st');
    fc.assert(fc.property(fc.array(u32, { minLength: 1, maxLength: 8 }), fc.array(u53, { minLength: 1, maxLength: 8 }), (qs, ss) => {
      while (q.pop() !== undefined);
      while (st.pop() !== undefined);
      for (const v of qs) q.push(v);
      for (const v of ss) st.push(v);
      expect(bytesOf(json<Row>(bpftool!, ['map', 'peek', 'id', String(q.id), '-j']).value!)).toEqual([...new Uint8Array(new Uint32Array([qs[0]!]).buffer)]);
      expect(bytesOf(json<Row>(bpftool!, ['map', 'peek', 'id', String(st.id), '-j']).value!)).toEqual([...new Uint8Array(new BigUint64Array([ss.at(-1)!]).buffer)]);
      expect(q.peek()).toBe(qs[0]);
      const popped: CValue[] = [];
      for (let v = q.pop(); v !== undefined; v = q.pop()) popped.push(v);
      expect(popped).toEqual(qs);
      const unstacked: CValue[] = [];
      for (let v = st.pop(); v !== undefined; v = st.pop()) unstacked.push(v);
      expect(unstacked).toEqual([...ss].reverse());
    }), { numRuns: 10 });
    run(bpftool!, ['map', 'push', 'id', String(q.id), 'value', 'hex', '2a', '00', '00', '00']);
    expect(q.pop()).toBe(42);
    for (let i = 0; i < 8; i++) q.push(i);
    expect(thrown(() => q.push(8))).toMatchObject({ errnoName: 'E2BIG' });
    q.push(8, { flags: 'exist' });
    expect(q.pop()).toBe(1);
  });

  it('prog arrays take program handles; maps of maps give inner map handles', () => {
    const jump = coll.map('jump');
    const target = coll.program('tail_target');
    jump.set(1, target);
    expect(dump(jump.id).map((r) => r.formatted!.value)).toEqual([target.id]);
    expect(jump.get(1)).toBe(target.id);
    expect(coll.program('tail_caller').testRun({ dataIn: new Uint8Array(64) }).retval).toBe(42);
    expect(jump.delete(1)).toBe(true);
    expect(coll.program('tail_caller').testRun({ dataIn: new Uint8Array(64) }).retval).toBe(1);

    const outer = coll.map('outer');
    const innerId = new DataView(Uint8Array.from(bytesOf(dump(outer.id)[0]!.value!)).buffer).getUint32(0, true);
    const inner = outer.inner(0)!;
    try {
      expect(inner.id).toBe(innerId);
      expect(inner.id).toBe(coll.map('inner_a').id);
      inner.set(1, 77);
      expect(dump(innerId).map((r) => r.formatted!.value)).toEqual([0, 77]);
    } finally {
      inner.close();
    }
    expect(outer.inner(1)).toBeUndefined();
    outer.set(1, coll.map('inner_a'));
    expect(dump(outer.id).length).toBe(2);
  });

  it('entries() reads large maps in batches, the same entries bpftool dumps', () => {
    const fd = mapCreate({ type: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 4, maxEntries: 2000, name: 'batchy' });
    const m = new BpfMap(fd);
    try {
      for (let i = 0; i < 1500; i++) m.set(Uint8Array.of(i & 0xff, i >> 8, 0, 0), Uint8Array.of(i & 0xff, 0, 0, 1));
      const ours = new Set([...m.entries()].map(([k, v]) => `${hexArgs(k as Uint8Array).join('')}=${hexArgs(v as Uint8Array).join('')}`));
      const theirs = new Set(dump(m.id).map((r) => `${hexArgs(Uint8Array.from(bytesOf(r.key))).join('')}=${hexArgs(Uint8Array.from(bytesOf(r.value!))).join('')}`));
      expect(ours.size).toBe(1500);
      expect(ours).toEqual(theirs);
    } finally {
      m.close();
    }
  });

  describe('attachments in the test\'s own network namespace', () => {
    let ns: TestNetns;
    let att: Collection;
    beforeAll(() => {
      ns = new TestNetns();
      att = Collection.load(build.path, { programs: ['ret_config', 'xdp_pass'] });
    });
    afterAll(() => {
      att?.close();
      ns?.destroy();
    });
    const filters = (dir: string) => ns.exec('tc', ['-j', 'filter', 'show', 'dev', 'veth0', dir]);
    const qdiscs = () => json<{ kind: string }[]>('tc', ['-n', ns.name, '-j', 'qdisc', 'show', 'dev', 'veth0']).map((q) => q.kind);

    it('tc: detach removes only its own filter; the qdisc it added goes with the last of its links', () => {
      const prog = att.program('ret_config');
      const link = prog.attachTc({ dev: 'veth0', direction: 'ingress', netns: ns.name });
      try {
        expect(qdiscs()).toContain('clsact');
        expect(filters('ingress')).toMatch(new RegExp(`"id":${prog.id}`));
        // Another tool's filter on the same hook: tc loading an object of its own.
        run('tc', ['-n', ns.name, 'filter', 'add', 'dev', 'veth0', 'ingress', 'prio', '9', 'bpf', 'da', 'obj', join(repoRoot, 'bpf', 'build', 'bpfel', 'tc_drop_icmp.o'), 'sec', 'tc']);
        link.detach();
        expect(link.attached).toBe(false);
        expect(filters('ingress')).not.toMatch(new RegExp(`"id":${prog.id}`));
        expect(filters('ingress')).toMatch(/"name":"drop_icmp"/);
        expect(qdiscs()).toContain('clsact');
      } finally {
        link.detach();
      }
      ns.exec('tc', ['filter', 'del', 'dev', 'veth0', 'ingress', 'prio', '9']);
      ns.exec('tc', ['qdisc', 'del', 'dev', 'veth0', 'clsact']);
      {
        using _in = prog.attachTc({ dev: 'veth0', direction: 'ingress', netns: ns.name });
        using _out = prog.attachTc({ dev: 'veth0', direction: 'egress', netns: ns.name });
        expect(prog.links.length).toBe(2);
        expect(filters('egress')).toMatch(new RegExp(`"id":${prog.id}`));
      }
      expect(prog.links.length).toBe(0);
      expect(qdiscs()).not.toContain('clsact');
    });

    it('tcx and XDP links: attached while the handle lives, gone after detach', () => {
      const prog = att.program('ret_config');
      const links = () => json<{ prog_id: number; type: string | number }[]>(bpftool!, ['link', 'show', '-j']).filter((l) => l.prog_id === prog.id || l.prog_id === att.program('xdp_pass').id);
      let tcx: Link | undefined;
      let xdp: Link | undefined;
      try {
        tcx = prog.attachTcx({ dev: 'veth0', direction: 'egress', netns: ns.name });
        xdp = att.program('xdp_pass').attachXdp({ dev: 'veth1', mode: 'generic', netns: ns.name });
        // bpftool before v7.3 shows tcx links by number (BPF_LINK_TYPE_TCX = 11).
        expect(links().map((l) => (l.type === 11 ? 'tcx' : l.type)).sort()).toEqual(['tcx', 'xdp']);
        expect(json<{ xdp?: { prog: { id: number } } }[]>('ip', ['-n', ns.name, '-j', '-d', 'link', 'show', 'veth1'])[0]!.xdp?.prog.id).toBe(att.program('xdp_pass').id);
      } finally {
        tcx?.detach();
        xdp?.detach();
      }
      expect(links()).toEqual([]);
      expect(json<{ xdp?: unknown }[]>('ip', ['-n', ns.name, '-j', '-d', 'link', 'show', 'veth1'])[0]!.xdp).toBeUndefined();
    });

    it('close() detaches every link made through the collection', () => {
      const c = Collection.load(build.path, { programs: ['ret_config', 'xdp_pass'] });
      try {
        c.program('ret_config').attachTc({ dev: 'veth0', direction: 'ingress', netns: ns.name });
        c.program('ret_config').attachTcx({ dev: 'veth0', direction: 'egress', netns: ns.name });
        c.program('xdp_pass').attachXdp({ dev: 'veth0', mode: 'generic', netns: ns.name });
        expect(filters('ingress')).toMatch(new RegExp(`"id":${c.program('ret_config').id}`));
        expect(json<{ xdp?: unknown }[]>('ip', ['-n', ns.name, '-j', '-d', 'link', 'show', 'veth0'])[0]!.xdp).toBeDefined();
      } finally {
        c.close();
      }
      expect(qdiscs()).not.toContain('clsact');
      expect(json<{ xdp?: unknown }[]>('ip', ['-n', ns.name, '-j', '-d', 'link', 'show', 'veth0'])[0]!.xdp).toBeUndefined();
      expect(thrown(() => c.program('ret_config').fd.value)).toMatchObject({ message: expect.stringMatching(/used after close/) });
    });

    it('closeOnExit: SIGINT detaches everything and the process still dies of SIGINT', async () => {
      const script = join(build.dir, 'exit.mjs');
      writeFileSync(script, `
        import { Collection } from ${JSON.stringify(join(repoRoot, 'dist', 'loader', 'index.js'))};
        const c = Collection.load(${JSON.stringify(build.path)}, { programs: ['ret_config'] }).closeOnExit();
        const p = c.program('ret_config');
        p.attachTc({ dev: 'veth0', direction: 'ingress', netns: ${JSON.stringify(ns.name)} });
        p.attachTc({ dev: 'veth0', direction: 'egress', netns: ${JSON.stringify(ns.name)} });
        console.log(p.id);
        setInterval(() => {}, 1000);
      `);
      const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        const id = await new Promise<number>((resolve, reject) => {
          child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
          child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
        });
        expect(filters('ingress')).toMatch(new RegExp(`"id":${id}`));
        expect(filters('egress')).toMatch(new RegExp(`"id":${id}`));
        const ended = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_, signal) => resolve(signal)));
        child.kill('SIGINT');
        expect(await ended).toBe('SIGINT');
        expect(qdiscs()).not.toContain('clsact');
        // The kernel frees a program whose last reference went after an RCU grace period.
        for (let i = 0; i < 50 && json<{ id: number }[]>(bpftool!, ['prog', 'show', '-j']).some((p) => p.id === id); i++) await sleep(100);
        expect(json<{ id: number }[]>(bpftool!, ['prog', 'show', '-j']).map((p) => p.id)).not.toContain(id);
      } finally {
        child.kill('SIGKILL');
      }
    });
  });

  it('pins every map and program under pinDir with pinAll, and the pins outlive close()', () => {
    const pinDir = `/sys/fs/bpf/bpfts-test-${process.pid}-${randomBytes(3).toString('hex')}`;
    try {
      const c = Collection.load(build.path, { pinDir, pinAll: true, programs: ['tail_target'] });
      const ids = { flows: c.map('flows').id, prog: c.program('tail_target').id };
      c.close();
      expect(json<{ id: number }>(bpftool!, ['map', 'show', 'pinned', `${pinDir}/flows`, '-j']).id).toBe(ids.flows);
      expect(json<{ id: number }>(bpftool!, ['prog', 'show', 'pinned', `${pinDir}/tail_target`, '-j']).id).toBe(ids.prog);
      // bpffs refuses dots in names: the data maps are pinned as libbpf pins them.
      expect(json<{ name: string }>(bpftool!, ['map', 'show', 'pinned', `${pinDir}/library_rodata`, '-j']).name).toBe('library.rodata');
      // A second load shares the pinned maps.
      using again = Collection.load(build.path, { pinDir, pinAll: true, programs: ['ret_config'] });
      expect(again.map('flows').id).toBe(ids.flows);
    } finally {
      rmSync(pinDir, { recursive: true, force: true });
    }
  });

  it('reads the object from bytes as well as from a path', () => {
    using c = Collection.load(readFileSync(build.path), { programs: ['tail_target'] });
    expect(c.program('tail_target').testRun({ dataIn: new Uint8Array(64) }).retval).toBe(42);
    expect(c.map('.rodata').get(0)).toEqual({ target_port: 80, banner: 'none' });
  });
});
