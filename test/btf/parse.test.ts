import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BtfError, dumpRaw, parseBtf, btfFromFile, type BtfType } from '../../src/btf/index.js';
import { tool } from '../helpers/env.js';
import { BtfBuilder, KIND } from './builder.js';

/** Every kind, with the kind_flag variants, laid out by hand. Ids in comments. */
function everyKind(): BtfBuilder {
  const b = new BtfBuilder();
  b.type('int', KIND.INT, 0, false, 4, (1 << 24) | 32); // 1: signed, 32 bits
  b.type('u8x', KIND.INT, 0, false, 1, (0 << 24) | (3 << 16) | 5); // 2: offset 3, 5 bits
  b.type('', KIND.PTR, 0, false, 1); // 3
  b.type('', KIND.ARRAY, 0, false, 0, 1, 1, 7); // 4: int[7]
  b.type('s', KIND.STRUCT, 3, false, 16, b.str('a'), 1, 0, b.str('b'), 3, 64, 0, 4, 96); // 5: plain offsets
  b.type('bf', KIND.STRUCT, 2, true, 4, b.str('x'), 1, (3 << 24) | 0, b.str('y'), 1, (29 << 24) | 3); // 6: bitfields
  b.type('u', KIND.UNION, 1, false, 4, b.str('m'), 1, 0); // 7
  b.type('e', KIND.ENUM, 2, true, 4, b.str('NEG'), -1, b.str('POS'), 5); // 8: signed
  b.type('ue', KIND.ENUM, 1, false, 4, b.str('BIG'), 0xffffffff); // 9: unsigned
  b.type('fs', KIND.FWD, 0, false, 0); // 10
  b.type('fu', KIND.FWD, 0, true, 0); // 11: union
  b.type('td', KIND.TYPEDEF, 0, false, 1); // 12
  b.type('', KIND.VOLATILE, 0, false, 1); // 13
  b.type('', KIND.CONST, 0, false, 13); // 14
  b.type('', KIND.RESTRICT, 0, false, 3); // 15
  b.type('', KIND.FUNC_PROTO, 3, false, 1, b.str('p'), 1, 0, 3, 0, 0); // 16: (int p, <anon> int*, ...)
  b.type('f_static', KIND.FUNC, 0, false, 16); // 17
  b.type('f_global', KIND.FUNC, 1, false, 16); // 18
  b.type('f_extern', KIND.FUNC, 2, false, 16); // 19
  b.type('v', KIND.VAR, 0, false, 1, 1); // 20: global
  b.type('sv', KIND.VAR, 0, false, 1, 0); // 21: static
  b.type('.data', KIND.DATASEC, 2, false, 8, 20, 0, 4, 21, 4, 4); // 22
  b.type('float', KIND.FLOAT, 0, false, 4); // 23
  b.type('tag', KIND.DECL_TAG, 0, false, 5, -1); // 24: on the struct
  b.type('mtag', KIND.DECL_TAG, 0, false, 17, 0); // 25: on parameter 0
  b.type('user', KIND.TYPE_TAG, 0, false, 1); // 26
  b.type('e64', KIND.ENUM64, 2, true, 8, b.str('M'), 0xfffffffe, 0xffffffff, b.str('L'), 0, 1); // 27: -2, 2^32
  b.type('u64e', KIND.ENUM64, 1, false, 8, b.str('X'), 0xffffffff, 0xffffffff); // 28: 2^64-1
  return b;
}

function byId(types: BtfType[], id: number): BtfType {
  return types[id]!;
}

describe.each([true, false])('every BTF kind, littleEndian=%s', (le) => {
  const btf = parseBtf(everyKind().build(le));
  const t = btf.types;

  it('reads the header and counts types', () => {
    expect(btf.littleEndian).toBe(le);
    expect(btf.count).toBe(29);
    expect(t[0]!.kind).toBe('VOID');
  });

  it('INT: size, encoding, offset, bits', () => {
    expect(byId(t, 1)).toMatchObject({ kind: 'INT', name: 'int', size: 4, encoding: 1, bitsOffset: 0, bits: 32 });
    expect(byId(t, 2)).toMatchObject({ kind: 'INT', size: 1, encoding: 0, bitsOffset: 3, bits: 5 });
  });

  it('PTR, ARRAY, modifiers, typedef, type tag', () => {
    expect(byId(t, 3)).toMatchObject({ kind: 'PTR', name: '', type: 1 });
    expect(byId(t, 4)).toMatchObject({ kind: 'ARRAY', type: 1, indexType: 1, nelems: 7 });
    expect(byId(t, 12)).toMatchObject({ kind: 'TYPEDEF', name: 'td', type: 1 });
    expect(byId(t, 13)).toMatchObject({ kind: 'VOLATILE', type: 1 });
    expect(byId(t, 14)).toMatchObject({ kind: 'CONST', type: 13 });
    expect(byId(t, 15)).toMatchObject({ kind: 'RESTRICT', type: 3 });
    expect(byId(t, 26)).toMatchObject({ kind: 'TYPE_TAG', name: 'user', type: 1 });
  });

  it('STRUCT/UNION members; kind_flag splits bitfield size from offset', () => {
    const s = byId(t, 5);
    expect(s).toMatchObject({ kind: 'STRUCT', size: 16, kflag: false });
    if (s.kind !== 'STRUCT') throw new Error();
    expect(s.members.map((m) => [m.name, m.type, m.bitOffset, m.bitfieldSize])).toEqual([['a', 1, 0, 0], ['b', 3, 64, 0], ['', 4, 96, 0]]);
    const bf = byId(t, 6);
    if (bf.kind !== 'STRUCT') throw new Error();
    expect(bf.kflag).toBe(true);
    expect(bf.members.map((m) => [m.name, m.bitOffset, m.bitfieldSize])).toEqual([['x', 0, 3], ['y', 3, 29]]);
    expect(byId(t, 7)).toMatchObject({ kind: 'UNION', size: 4 });
  });

  it('ENUM signedness from kind_flag; ENUM64 values as bigint', () => {
    const e = byId(t, 8);
    if (e.kind !== 'ENUM') throw new Error();
    expect(e.signed).toBe(true);
    expect(e.values).toEqual([{ name: 'NEG', nameOff: expect.any(Number), value: -1 }, { name: 'POS', nameOff: expect.any(Number), value: 5 }]);
    const ue = byId(t, 9);
    if (ue.kind !== 'ENUM') throw new Error();
    expect(ue.signed).toBe(false);
    expect(ue.values[0]!.value).toBe(0xffffffff);
    const e64 = byId(t, 27);
    if (e64.kind !== 'ENUM64') throw new Error();
    expect(e64.values.map((v) => v.value)).toEqual([-2n, 1n << 32n]);
    const u64 = byId(t, 28);
    if (u64.kind !== 'ENUM64') throw new Error();
    expect(u64.values[0]!.value).toBe((1n << 64n) - 1n);
  });

  it('FWD union flag, FUNC linkage, FUNC_PROTO params incl. varargs', () => {
    expect(byId(t, 10)).toMatchObject({ kind: 'FWD', union: false });
    expect(byId(t, 11)).toMatchObject({ kind: 'FWD', union: true });
    expect([17, 18, 19].map((id) => (byId(t, id) as { linkage: number }).linkage)).toEqual([0, 1, 2]);
    const fp = byId(t, 16);
    if (fp.kind !== 'FUNC_PROTO') throw new Error();
    expect(fp.returnType).toBe(1);
    expect(fp.params.map((p) => [p.name, p.type])).toEqual([['p', 1], ['', 3], ['', 0]]);
  });

  it('VAR linkage, DATASEC entries, FLOAT, DECL_TAG component_idx', () => {
    expect(byId(t, 20)).toMatchObject({ kind: 'VAR', type: 1, linkage: 1 });
    expect(byId(t, 21)).toMatchObject({ kind: 'VAR', linkage: 0 });
    expect(byId(t, 22)).toMatchObject({ kind: 'DATASEC', name: '.data', size: 8, vars: [{ type: 20, offset: 0, size: 4 }, { type: 21, offset: 4, size: 4 }] });
    expect(byId(t, 23)).toMatchObject({ kind: 'FLOAT', size: 4 });
    expect(byId(t, 24)).toMatchObject({ kind: 'DECL_TAG', type: 5, componentIdx: -1 });
    expect(byId(t, 25)).toMatchObject({ kind: 'DECL_TAG', type: 17, componentIdx: 0 });
  });

  it('helpers: lookup by name, resolveSize, modifiers and typedefs', () => {
    expect(btf.find('s', 'STRUCT')?.id).toBe(5);
    expect(btf.byName('int').map((x) => x.id)).toEqual([1]);
    expect(btf.resolveSize(4)).toBe(28);
    expect(btf.resolveSize(14)).toBe(4);
    expect(btf.resolveSize(3)).toBe(8);
    expect(btf.resolveSize(20)).toBe(4);
    expect(() => btf.resolveSize(16)).toThrow(BtfError);
    expect(btf.skipModifiers(14)).toBe(1);
    expect(btf.skipModsAndTypedefs(12)).toBe(1);
    expect(btf.typeName(14)).toBe('const volatile int');
    expect(btf.typeName(4)).toBe('int[7]');
  });
});

describe.skipIf(!tool('bpftool'))('raw dump of hand-assembled BTF matches bpftool', () => {
  it.each([true, false])('every kind, littleEndian=%s', (le) => {
    const dir = mkdtempSync(join(tmpdir(), 'btf-'));
    try {
      const file = join(dir, 'all.btf');
      const bytes = everyKind().build(le);
      writeFileSync(file, bytes);
      const expected = execFileSync('bpftool', ['btf', 'dump', 'file', file], { encoding: 'utf8' });
      expect(dumpRaw(btfFromFile(bytes))).toBe(expected);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe('split BTF', () => {
  const base = new BtfBuilder();
  base.type('int', KIND.INT, 0, false, 4, (1 << 24) | 32); // 1
  base.type('base_s', KIND.STRUCT, 1, false, 4, base.str('f'), 1, 0); // 2
  const baseBytes = base.build();
  const baseBtf = parseBtf(baseBytes);
  const strBase = baseBtf.strings.end;

  it('continues type ids and string offsets after the base', () => {
    const mod = new BtfBuilder(strBase, 3, true);
    mod.type('mod_s', KIND.STRUCT, 1, false, 8, mod.str('p'), 4, 0); // 3
    mod.type('', KIND.PTR, 0, false, 2); // 4: points into the base
    mod.type('v', KIND.VAR, 0, false, 3, 1); // 5
    mod.type('.data', KIND.DATASEC, 1, false, 8, 5, 0, 8); // 6
    const btf = parseBtf(mod.build(), { base: baseBtf });
    expect(btf.startId).toBe(3);
    expect(btf.count).toBe(7);
    expect(btf.types[3]).toMatchObject({ kind: 'STRUCT', name: 'mod_s' });
    expect(btf.types[2]).toMatchObject({ kind: 'STRUCT', name: 'base_s' });
    expect(btf.resolveSize(4)).toBe(8);
    expect(btf.typeName(4)).toBe('struct base_s *');
    expect(btf.ownTypes().map((t) => t.id)).toEqual([3, 4, 5, 6]);
    // A name offset from the base's table resolves there.
    expect(btf.strings.tryGet(btf.types[1]!.nameOff)).toBe('int');
    expect(dumpRaw(btf)).toBe(
      "[3] STRUCT 'mod_s' size=8 vlen=1\n\t'p' type_id=4 bits_offset=0\n[4] PTR '(anon)' type_id=2\n[5] VAR 'v' type_id=3, linkage=global\n" +
        "[6] DATASEC '.data' size=8 vlen=1\n\ttype_id=5 offset=0 size=8 (VAR 'v')\n",
    );
  });

  it('rejects references past the split BTF\'s last type', () => {
    const mod = new BtfBuilder(strBase, 3, true);
    mod.type('', KIND.PTR, 0, false, 9);
    expect(() => parseBtf(mod.build(), { base: baseBtf })).toThrow(/refers to type 9/);
  });
});

describe('malformed BTF', () => {
  const good = everyKind().build();

  it('names the problem, the offset and the type id', () => {
    const bad = good.slice();
    // Kind 25 in the first record's info word (type id 1 at type section offset 0).
    new DataView(bad.buffer).setUint32(24 + 4, (25 << 24) >>> 0, true);
    const err = (() => { try { parseBtf(bad); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(BtfError);
    expect(err).toMatchObject({ typeId: 1, offset: 24 });
    expect((err as Error).message).toMatch(/unknown BTF kind 25/);
  });

  it('rejects bad magic, truncation and out-of-range names', () => {
    expect(() => parseBtf(new Uint8Array(10))).toThrow(BtfError);
    expect(() => parseBtf(good.subarray(0, good.length - 1))).toThrow(BtfError);
    const badName = good.slice();
    new DataView(badName.buffer).setUint32(24, 0xfffff, true);
    expect(() => parseBtf(badName)).toThrow(/outside the string section/);
  });

  it.skipIf(!tool('clang-19'))('rejects an ELF object without .BTF with a clear message', () => {
    const elf = execFileSync('clang-19', ['-target', 'bpf', '-O2', '-c', '-x', 'c', '-', '-o', '-'], { input: 'int x;', maxBuffer: 1 << 20 });
    expect(() => btfFromFile(new Uint8Array(elf))).toThrow('object has no .BTF section (built without -g?)');
  });
});
