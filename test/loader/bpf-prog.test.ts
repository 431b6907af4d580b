// Program loading, the verifier log, test runs, object info and pinning through our bpf()
// binding; the kernel's verdicts and bpftool's view of the same objects are the oracles.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SyscallError,
  VerifierError,
  bpf_prog_type,
  mapCreate,
  mapGetInfo,
  mapLookupElem,
  mapUpdateElem,
  objGet,
  objPin,
  progGetFdById,
  progGetInfo,
  progGetNextId,
  progLoad,
  progTestRun,
} from '../../src/loader/raw.js';
import { BpfError } from '../../src/errors.js';
import { BPF_F_NO_PREALLOC, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH } from '../../src/uapi/bpf.js';
import { concatBytes } from '../../src/testing/bytes.js';
import { haveRoot, tool } from '../helpers/env.js';
import { asm, json, returns, thrown, using } from './fixtures.js';

const root = haveRoot();
const bpftool = root ? tool('bpftool') : undefined;

/** XDP: if data + 1 <= data_end, *data = 0xaa; return XDP_PASS. */
const xdpMarkFirstByte = concatBytes([
  asm.ldxw(2, 1, 0),
  asm.ldxw(3, 1, 4),
  asm.movReg(4, 2),
  asm.addImm(4, 1),
  asm.jgtReg(4, 3, 1),
  asm.stb(2, 0, 0xaa),
  asm.movImm(0, 2),
  asm.exit(),
]);

/** A program that touches every instruction path twice so that a level-2 log is long. */
const chatty = concatBytes([...Array.from({ length: 200 }, (_, i) => asm.movImm(i % 10, i)), returns(0)]);

describe.skipIf(!root || !bpftool)('BPF_PROG_LOAD and friends (oracles: the kernel, bpftool)', () => {
  it('loads `r0 = 1; exit` as a socket filter that bpftool sees with the same id, tag, name and size', () => {
    const { fd, log } = progLoad({ type: bpf_prog_type.BPF_PROG_TYPE_SOCKET_FILTER, insns: returns(1), license: 'GPL', name: 'bpfts_one' });
    using([fd], () => {
      expect(log).toBeUndefined();
      const info = progGetInfo(fd);
      const shown = json<Record<string, unknown>>(bpftool!, ['prog', 'show', 'id', String(info.id), '-j']);
      expect(shown).toMatchObject({ id: info.id, type: 'socket_filter', name: 'bpfts_one', tag: info.tag, bytes_xlated: info.xlatedProgLen });
      expect(info.type).toBe(bpf_prog_type.BPF_PROG_TYPE_SOCKET_FILTER);
      expect(info.xlatedProgLen).toBe(16);
    });
  });

  it('returns the verifier log on success when a log level is asked for', () => {
    const { fd, log } = progLoad({ type: bpf_prog_type.BPF_PROG_TYPE_SOCKET_FILTER, insns: returns(1), license: 'GPL', logLevel: 1 });
    using([fd], () => expect(log).toMatch(/^processed 2 insns/m));
  });

  it('grows a too-small log buffer until the whole level-2 log fits', () => {
    const small = progLoad({ type: bpf_prog_type.BPF_PROG_TYPE_SOCKET_FILTER, insns: chatty, license: 'GPL', logLevel: 2, logSize: 128 });
    const large = progLoad({ type: bpf_prog_type.BPF_PROG_TYPE_SOCKET_FILTER, insns: chatty, license: 'GPL', logLevel: 2, logSize: 16 << 20 });
    using([small.fd, large.fd], () => {
      expect(small.log!.length).toBeGreaterThan(4096);
      expect(small.log).toBe(large.log);
      expect(small.log).toMatch(/processed 202 insns/);
    });
  });

  it('rejects a program that exits without setting r0 with the verifier\'s own words', () => {
    const err = thrown(() => progLoad({ type: bpf_prog_type.BPF_PROG_TYPE_SOCKET_FILTER, insns: asm.exit(), license: 'GPL' }));
    expect(err).toBeInstanceOf(VerifierError);
    const v = err as VerifierError;
    expect(v.command).toBe('BPF_PROG_LOAD');
    expect(v.errnoName).toBe('EACCES');
    expect(v.log).toContain('R0 !read_ok');
    expect(v.message).toContain('verifier: R0 !read_ok');
  });

  it('attaches the verifier log to EINVAL for a jump out of range', () => {
    const insns = concatBytes([asm.movImm(0, 0), asm.jgtReg(0, 0, 5), asm.exit()]);
    const err = thrown(() => progLoad({ type: bpf_prog_type.BPF_PROG_TYPE_SOCKET_FILTER, insns, license: 'GPL' })) as VerifierError;
    expect(err).toBeInstanceOf(VerifierError);
    expect(err.errnoName).toBe('EINVAL');
    expect(err.log).toMatch(/jump out of range/);
  });

  it('refuses a malformed instruction buffer before calling the kernel', () => {
    expect(thrown(() => progLoad({ type: 1, insns: new Uint8Array(5), license: 'GPL' }))).toBeInstanceOf(BpfError);
    expect(thrown(() => progLoad({ type: 1, insns: returns(0), license: 'GPL', name: 'x'.repeat(16) }))).toBeInstanceOf(BpfError);
  });

  it('test-runs an XDP program: retval is XDP_PASS and data_out has the first byte rewritten', () => {
    const { fd } = progLoad({ type: bpf_prog_type.BPF_PROG_TYPE_XDP, insns: xdpMarkFirstByte, license: 'GPL' });
    using([fd], () => {
      const packet = Uint8Array.from({ length: 64 }, (_, i) => i + 1);
      const r = progTestRun(fd, { dataIn: packet, repeat: 5 });
      expect(r.retval).toBe(2);
      expect(r.dataOut).toEqual(Uint8Array.from(packet, (b, i) => (i === 0 ? 0xaa : b)));
      expect(r.duration).toBeGreaterThanOrEqual(0);
      expect(progGetInfo(fd).runCnt).toBe(0n);
    });
  });

  it('reports the maps a program uses, as bpftool does', () => {
    const map = mapCreate({ type: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
    using([map], () => {
      const insns = concatBytes([asm.ldMapFd(1, map.value), returns(0)]);
      const { fd } = progLoad({ type: bpf_prog_type.BPF_PROG_TYPE_SOCKET_FILTER, insns, license: 'GPL' });
      using([fd], () => {
        const info = progGetInfo(fd);
        expect(info.mapIds).toEqual([mapGetInfo(map).id]);
        expect(json<{ map_ids: number[] }>(bpftool!, ['prog', 'show', 'id', String(info.id), '-j']).map_ids).toEqual(info.mapIds);
      });
    });
  });

  it('walks program ids and reopens a program by id', () => {
    const { fd } = progLoad({ type: bpf_prog_type.BPF_PROG_TYPE_SOCKET_FILTER, insns: returns(3), license: 'GPL' });
    using([fd], () => {
      const id = progGetInfo(fd).id;
      const ids: number[] = [];
      for (let i = progGetNextId(0); i !== undefined; i = progGetNextId(i)) ids.push(i);
      expect(ids).toContain(id);
      const again = progGetFdById(id);
      using([again], () => {
        expect(progGetInfo(again).id).toBe(id);
        expect(progTestRun(again, { dataIn: new Uint8Array(20) }).retval).toBe(3);
      });
      const gone = thrown(() => progGetFdById(0xfffffff0));
      expect(gone).toMatchObject({ command: 'BPF_PROG_GET_FD_BY_ID', errnoName: 'ENOENT' });
    });
  });
});

describe.skipIf(!root || !bpftool)('BPF_OBJ_PIN / BPF_OBJ_GET under /sys/fs/bpf', () => {
  const dir = `/sys/fs/bpf/bpfts-test-${process.pid}`;
  beforeAll(() => mkdirSync(dir));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('pins a map and a program and gets them back with the same ids', () => {
    const map = mapCreate({ type: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 4, maxEntries: 2, flags: BPF_F_NO_PREALLOC });
    const { fd: prog } = progLoad({ type: bpf_prog_type.BPF_PROG_TYPE_SOCKET_FILTER, insns: returns(0), license: 'GPL' });
    using([map, prog], () => {
      objPin(map, join(dir, 'map'));
      objPin(prog, join(dir, 'prog'));
      expect(readdirSync(dir).sort()).toEqual(['map', 'prog']);
      expect(json<{ id: number }>(bpftool!, ['map', 'show', 'pinned', join(dir, 'map'), '-j']).id).toBe(mapGetInfo(map).id);
      expect(json<{ id: number }>(bpftool!, ['prog', 'show', 'pinned', join(dir, 'prog'), '-j']).id).toBe(progGetInfo(prog).id);
      const m2 = objGet(join(dir, 'map'));
      const p2 = objGet(join(dir, 'prog'));
      using([m2, p2], () => {
        expect(mapGetInfo(m2).id).toBe(mapGetInfo(map).id);
        expect(progGetInfo(p2).id).toBe(progGetInfo(prog).id);
        mapUpdateElem(m2, new Uint8Array(4), Uint8Array.of(1, 2, 3, 4));
        expect(mapLookupElem(map, new Uint8Array(4), 4)).toEqual(Uint8Array.of(1, 2, 3, 4));
      });
      expect(thrown(() => objPin(map, join(dir, 'map')))).toMatchObject({ command: 'BPF_OBJ_PIN', errnoName: 'EEXIST' });
    });
  });

  it('reports ENOENT for a missing pin with the path in the message', () => {
    const err = thrown(() => objGet(join(dir, 'nothing'))) as SyscallError;
    expect(err).toMatchObject({ command: 'BPF_OBJ_GET', errnoName: 'ENOENT' });
    expect(err.message).toContain(join(dir, 'nothing'));
  });
});

describe.skipIf(!root)('nothing left behind by the pin tests', () => {
  it('removed its bpffs directory', () => {
    expect(existsSync(`/sys/fs/bpf/bpfts-test-${process.pid}`)).toBe(false);
  });
});
