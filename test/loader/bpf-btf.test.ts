// BPF_BTF_LOAD and BTF-annotated programs/maps through our bpf() binding; bpftool's rendering of
// the loaded BTF and of the program's source lines is the oracle.
import { describe, expect, it } from 'vitest';
import {
  VerifierError,
  bpf_prog_type,
  btfGetInfo,
  btfLoad,
  mapCreate,
  mapGetInfo,
  progGetInfo,
  progLoad,
} from '../../src/loader/raw.js';
import { BPF_MAP_TYPE_ARRAY } from '../../src/uapi/bpf.js';
import { haveRoot, tool } from '../helpers/env.js';
import { json, returns, run, using } from './fixtures.js';

const root = haveRoot();
const bpftool = root ? tool('bpftool') : undefined;

/** Little-endian u32 words as bytes. */
function words(...ws: number[]): Uint8Array {
  const b = new Uint8Array(ws.length * 4);
  ws.forEach((w, i) => new DataView(b.buffer).setUint32(i * 4, w >>> 0, true));
  return b;
}

// A hand-written .BTF blob (format: Documentation/bpf/btf.rst), independent of src/btf:
//   [1] INT 'int' size 4, signed, 32 bits   [2] FUNC_PROTO returning [1]   [3] FUNC 'main' global, type [2]
const strings = new TextEncoder().encode('\0int\0main\0t.c\0r0 = 1\0');
const STR = { int: 1, main: 5, file: 10, line: 14 };
const types = new Uint8Array([
  ...words(STR.int, 1 << 24, 4, (1 << 24) | 32),
  ...words(0, 13 << 24, 1),
  ...words(STR.main, (12 << 24) | 1, 2),
]);

function btfBlob(magic = 0xeb9f): Uint8Array {
  const header = new Uint8Array(24);
  const dv = new DataView(header.buffer);
  dv.setUint16(0, magic, true);
  dv.setUint8(2, 1);
  dv.setUint32(4, 24, true);
  dv.setUint32(8, 0, true);
  dv.setUint32(12, types.length, true);
  dv.setUint32(16, types.length, true);
  dv.setUint32(20, strings.length, true);
  return new Uint8Array([...header, ...types, ...strings]);
}

describe.skipIf(!root || !bpftool)('BPF_BTF_LOAD (oracle: bpftool btf dump)', () => {
  it('loads BTF that bpftool renders type by type', () => {
    const { fd, log } = btfLoad(btfBlob(), { logLevel: 1 });
    using([fd], () => {
      expect(log).toBeDefined();
      const { id, size } = btfGetInfo(fd);
      expect(size).toBe(btfBlob().length);
      expect(json<{ id: number; size: number }>(bpftool!, ['btf', 'show', 'id', String(id), '-j'])).toMatchObject({ id, size });
      const dump = run(bpftool!, ['btf', 'dump', 'id', String(id)]);
      expect(dump).toContain("[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED");
      expect(dump).toContain("[3] FUNC 'main' type_id=2 linkage=global");
    });
  });

  it('rejects a bad magic number with the kernel\'s BTF log', () => {
    let err: unknown;
    try {
      btfLoad(btfBlob(0x1234)).fd.close();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VerifierError);
    expect(err).toMatchObject({ command: 'BPF_BTF_LOAD', errnoName: 'EINVAL' });
    expect((err as VerifierError).log).toMatch(/magic/i);
  });

  it('loads a program with func_info and line_info that bpftool shows as source', () => {
    const btf = btfLoad(btfBlob()).fd;
    using([btf], () => {
      const { fd } = progLoad({
        type: bpf_prog_type.BPF_PROG_TYPE_SOCKET_FILTER,
        insns: returns(1),
        license: 'GPL',
        name: 'main',
        progBtfFd: btf,
        funcInfo: { recSize: 8, data: words(0, 3) },
        lineInfo: { recSize: 16, data: words(0, STR.file, STR.line, (1 << 10) | 1) },
      });
      using([fd], () => {
        const info = progGetInfo(fd);
        expect(info.btfId).toBeGreaterThan(0);
        expect(json<{ btf_id: number }>(bpftool!, ['prog', 'show', 'id', String(info.id), '-j']).btf_id).toBe(info.btfId);
        const xlated = run(bpftool!, ['prog', 'dump', 'xlated', 'id', String(info.id)]);
        expect(xlated).toContain('int main(');
        expect(xlated).toContain('; r0 = 1');
      });
    });
  });

  it('creates a map whose key and value types refer to the BTF', () => {
    const btf = btfLoad(btfBlob()).fd;
    using([btf], () => {
      const map = mapCreate({ type: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, btfFd: btf, btfKeyTypeId: 1, btfValueTypeId: 1, name: 'typed' });
      using([map], () => {
        const info = mapGetInfo(map);
        expect(info).toMatchObject({ btfKeyTypeId: 1, btfValueTypeId: 1 });
        expect(json<{ btf_id: number }>(bpftool!, ['map', 'show', 'id', String(info.id), '-j']).btf_id).toBe(info.btfId);
        const dump = json<{ formatted: unknown }[]>(bpftool!, ['map', 'dump', 'id', String(info.id), '-j']);
        expect(dump.map((r) => r.formatted)).toEqual([{ key: 0, value: 0 }]);
      });
    });
  });
});
