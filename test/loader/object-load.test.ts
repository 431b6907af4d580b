// Loading the project's objects with bpfts, checked against bpftool v7.1 (libbpf 1.1) loading the
// same objects: the kernel's program tags (a hash of the relocated instructions, map fds masked)
// and map names/flags must agree, and what libbpf refuses must still load.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  LoadError, ProgramRejectedError, SyscallError, btfGetInfo, btfLoad, kernelTestRun, loadObject, mapCreate, mapGetInfo, mapUpdateElem,
  objPin, probeBtfFeatures, rawBtf, type LoadedObject,
} from '../../src/loader/raw.js';
import { btfContent, btfFeaturesOf, encodeBtf, parseBtf, sanitizeBtf } from '../../src/btf/index.js';
import { release } from 'node:os';
import { BPF_MAP_TYPE_HASH } from '../../src/uapi/index.js';
import { bpftoolLoadall, withBpftoolLoadall } from '../helpers/bpftool.js';
import { haveRoot, repoRoot, tool } from '../helpers/env.js';

const root = haveRoot();
const bpftool = root ? tool('bpftool') : undefined;
const obj = (f: string) => join(repoRoot, 'bpf', 'build', 'bpfel', f);
const scratch = `/sys/fs/bpf/bpfts-objtest-${process.pid}`;

interface BpftoolProg { id: number; name: string; tag: string; map_ids?: number[] }
interface BpftoolMap { id: number; name: string; flags: number; bytes_key: number; bytes_value: number; max_entries: number; type: string }

function bpftoolJson<T>(...args: string[]): T {
  return JSON.parse(execFileSync(bpftool!, ['-j', ...args], { encoding: 'utf8' })) as T;
}

/** What bpftool prog loadall makes of an object: its programs and their maps. */
function viaBpftool(file: string): { progs: BpftoolProg[]; maps: BpftoolMap[] } {
  const dir = `${scratch}-bpftool`;
  return withBpftoolLoadall(bpftool!, file, dir, (r) => {
    expect(r.status, r.stderr).toBe(0);
    const progs = readdirSync(dir).map((n) => bpftoolJson<BpftoolProg>('prog', 'show', 'pinned', `${dir}/${n}`));
    const mapIds = [...new Set(progs.flatMap((p) => p.map_ids ?? []))];
    return { progs, maps: mapIds.map((id) => bpftoolJson<BpftoolMap>('map', 'show', 'id', String(id))) };
  });
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

describe.skipIf(!root || !bpftool)('loadObject against bpftool prog loadall', () => {
  let loaded: LoadedObject | undefined;
  afterEach(() => {
    loaded?.close();
    loaded = undefined;
    rmSync(scratch, { recursive: true, force: true });
  });

  const manifest = JSON.parse(readFileSync(join(repoRoot, 'bpf', 'programs.json'), 'utf8')) as { objects: { file: string; expectLoad: string }[] };
  for (const o of manifest.objects.filter((x) => x.expectLoad === 'ok')) {
    it(`${o.file}: same program tags, map names, sizes and flags as libbpf`, () => {
      const theirs = viaBpftool(obj(o.file));
      loaded = loadObject(readFileSync(obj(o.file)), { objectName: o.file.split('.')[0]! });
      expect(loaded.programs.map((p) => [p.name.slice(0, 15), p.tag]).sort())
        .toEqual(theirs.progs.map((p) => [p.name, p.tag]).sort());
      const ours = loaded.maps.map((m) => mapGetInfo(m.fd)).map((m) => [m.name, m.keySize, m.valueSize, m.maxEntries, m.flags]).sort();
      expect(ours).toEqual(theirs.maps.map((m) => [m.name, m.bytes_key, m.bytes_value, m.max_entries, m.flags]).sort());
    });
  }

  it('freezes .rodata after filling it, so user space cannot change it', () => {
    loaded = loadObject(readFileSync(obj('globals.o')), { objectName: 'globals' });
    const rodata = loaded.maps.find((m) => m.spec.objectName === '.rodata')!;
    expect(() => mapUpdateElem(rodata.fd, new Uint8Array(4), new Uint8Array(rodata.spec.valueSize))).toThrow(SyscallError);
    const bss = loaded.maps.find((m) => m.spec.objectName === '.bss')!;
    mapUpdateElem(bss.fd, new Uint8Array(4), new Uint8Array(bss.spec.valueSize));
  });

  it('loads legacy_maps.o (28-byte bpf_map_def in "maps"), which libbpf 1.x refuses', () => {
    expect(bpftoolLoadall(bpftool!, obj('legacy_maps.o'), `${scratch}-legacy`).status).not.toBe(0);
    loaded = loadObject(readFileSync(obj('legacy_maps.o')), { objectName: 'legacy_maps' });
    expect(loaded.programs.map((p) => p.typeName)).toEqual(['socket_filter']);
    const m = mapGetInfo(loaded.maps[0]!.fd);
    expect([m.name, m.type, m.keySize, m.valueSize, m.maxEntries]).toEqual(['proto_bytes', 2, 4, 8, 256]);
  });

  it('maps carry BTF key/value types, so bpftool pretty-prints them', () => {
    loaded = loadObject(readFileSync(obj('monitor.o')), { objectName: 'monitor', pinDir: scratch, pinAll: true });
    const dump = bpftoolJson<{ formatted?: { key: number; value: { packets: number; bytes: number } } }[]>('map', 'dump', 'pinned', `${scratch}/pkt_count`);
    expect(dump[0]!.formatted).toEqual({ key: 0, value: { packets: 0, bytes: 0 } });
  });

  it('shares maps pinned by an earlier load and refuses an incompatible pin, leaving nothing behind', () => {
    loaded = loadObject(readFileSync(obj('proxy.o')), { programs: ['proxy_egress'], objectName: 'proxy', pinDir: scratch, pinAll: true });
    const first = mapGetInfo(loaded.maps[0]!.fd).id;
    const second = loadObject(readFileSync(obj('proxy.o')), { programs: ['proxy_ingress'], objectName: 'proxy', pinDir: scratch, pinAll: true });
    try {
      expect(second.maps.every((m) => m.reused)).toBe(true);
      expect(mapGetInfo(second.maps[0]!.fd).id).toBe(first);
    } finally {
      second.close();
    }
    loaded.close();
    loaded = undefined;
    rmSync(scratch, { recursive: true, force: true });
    // A stale proxy_targets with another value size: the load must refuse it and create nothing.
    mkdirSync(scratch);
    const stale = mapCreate({ type: BPF_MAP_TYPE_HASH, keySize: 8, valueSize: 16, maxEntries: 256, name: 'proxy_targets' });
    objPin(stale, `${scratch}/proxy_targets`);
    stale.close();
    const fds = openFds();
    let error: unknown;
    try {
      loadObject(readFileSync(obj('proxy.o')), { programs: ['proxy_egress'], objectName: 'proxy', pinDir: scratch, pinAll: true });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LoadError);
    expect((error as LoadError).message).toContain('value size 16 (object wants 8)');
    expect(openFds()).toBe(fds);
    expect(readdirSync(scratch)).toEqual(['proxy_targets']);
  });

  it('a verifier rejection carries the log with C source lines and leaves no fd or pin', () => {
    const before = openFds();
    let error: unknown;
    try {
      loadObject(readFileSync(obj('xdp_monitor.o')), { type: 'classifier', objectName: 'x', pinDir: scratch, pinAll: true });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProgramRejectedError);
    const log = (error as ProgramRejectedError).log;
    expect(log).toMatch(/^; .+ @ xdp_monitor\.c:\d+$/m);
    expect(openFds()).toBe(before);
    expect(existsSync(`${scratch}/proto_count`)).toBe(false);
  });

  it('refuses an unknown section without an attach point, with the fix in the hint', () => {
    let error: unknown;
    try {
      loadObject(readFileSync(obj('provenance_egress.o')));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LoadError);
    expect((error as LoadError).hint).toContain('--type');
    const warnings: string[] = [];
    loaded = loadObject(readFileSync(obj('provenance_egress.o')), { attach: 'tc-egress', warn: (w) => warnings.push(w) });
    expect(warnings.join('\n')).toContain("section 'egress'");
  });

  it('sanitized BTF (FLOAT, DECL_TAG, TYPE_TAG for an old kernel) still loads, with the kinds replaced', () => {
    const blob = rawBtf([
      1, 0x01000000, 4, 32, // [1] INT int size 4
      5, 0x10000000, 8, // [2] FLOAT double size 8
      12, 0x11000000, 1, 0xffffffff, // [3] DECL_TAG tag -> int
      12, 0x12000000, 1, // [4] TYPE_TAG tag -> int
      0, 0x02000000, 4, // [5] PTR -> [4]
    ], '\0int\0double\0tag\0');
    const content = btfContent(parseBtf(blob));
    const changed = sanitizeBtf(content, new Set(['func', 'datasec', 'global-func', 'enum64']));
    expect(changed.map((c) => `${c.from}→${c.to}`).sort()).toEqual(['DECL_TAG→INT', 'FLOAT→STRUCT', 'TYPE_TAG→CONST']);
    const bytes = encodeBtf(content);
    const fd = btfLoad(bytes).fd;
    try {
      const dump = execFileSync(bpftool!, ['btf', 'dump', 'id', String(btfGetInfo(fd).id)], { encoding: 'utf8' });
      expect(dump).toMatch(/\[2\] STRUCT '[^']*' size=8 vlen=0/);
      expect(dump).toMatch(/\[3\] INT '[^']*' size=1/);
      expect(dump).toContain("[4] CONST '(anon)' type_id=1");
    } finally {
      fd.close();
    }
  });

  it('probes the BTF kinds the kernel has, agreeing with the kernel release history', () => {
    expect([...probeBtfFeatures()].sort()).toEqual([...btfFeaturesOf(release())].sort());
  });

  it('kernelTestRun runs a classifier on packets: ICMP is dropped, TCP passes', () => {
    const eth = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00];
    const ip = (proto: number) => [0x45, 0, 0, 40, 0, 0, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, ...new Array(20).fill(0)];
    const r = kernelTestRun(readFileSync(obj('tc_drop_icmp.o')), { packets: [Uint8Array.from([...eth, ...ip(1)]), Uint8Array.from([...eth, ...ip(6)])] });
    // TC_ACT_SHOT = 2, TC_ACT_OK = 0 (include/uapi/linux/pkt_cls.h)
    expect(r.map((x) => x.retval)).toEqual([2, 0]);
    expect(r[1]!.packet).toEqual(Uint8Array.from([...eth, ...ip(6)]));
  });
});
