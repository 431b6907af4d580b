// readMapSlotInits against the toolchain: llvm-readobj-19 lists the .rel.maps relocations and the
// symbols they fall in, bpftool (libbpf's BTF parser) gives the offset of each map's `values`
// member; the slot is the relocation's distance from that member in pointers. The C sources'
// designated initialisers say independently which target each slot should get.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ObjectError, readMapSlotInits, readObject, type MapSlotInit } from '../../src/object/index.js';
import { repoRoot, tool } from '../helpers/env.js';
import { buildTestObject } from '../loader/clang.js';

const clang = tool('clang-19');
const readobj = tool('llvm-readobj-19');
const bpftool = tool('bpftool');

interface ReadobjSymbol { Symbol: { Name: { Name: string }; Value: number; Size: number; Type: { Name: string }; Section: { Name: string } } }
interface ReadobjSection { Section: { Index: number; Name: { Name: string } } }
interface ReadobjRelocs { SectionIndex: number; Relocs: { Relocation: { Offset: number; Symbol: { Name: string } } }[] }
interface BtfType { id: number; kind: string; name: string; type_id?: number; members?: { name: string; bits_offset: number }[] }

/** The slots as llvm-readobj-19 and bpftool see them. */
function oracle(path: string): MapSlotInit[] {
  const [file] = JSON.parse(execFileSync(readobj!, ['--elf-output-style=JSON', '--sections', '--symbols', '--relocations', path], { encoding: 'utf8' })) as
    { Sections: ReadobjSection[]; Symbols: ReadobjSymbol[]; Relocations: ReadobjRelocs[] }[];
  const types = (JSON.parse(execFileSync(bpftool!, ['-j', 'btf', 'dump', 'file', path], { encoding: 'utf8' })) as { types: BtfType[] }).types;
  const relMaps = file!.Sections.find((s) => s.Section.Name.Name === '.rel.maps')!.Section.Index;
  const symbols = file!.Symbols.map((s) => s.Symbol);
  const inMaps = symbols.filter((s) => s.Section.Name === '.maps' && s.Type.Name === 'Object');
  return file!.Relocations.find((r) => r.SectionIndex === relMaps)!.Relocs.map(({ Relocation: r }) => {
    const outer = inMaps.find((s) => s.Value <= r.Offset && r.Offset < s.Value + s.Size)!;
    const variable = types.find((t) => t.kind === 'VAR' && t.name === outer.Name.Name)!;
    const struct = types.find((t) => t.id === variable.type_id)!;
    const values = struct.members!.find((m) => m.name === 'values')!;
    const target = symbols.find((s) => s.Name.Name === r.Symbol.Name)!;
    return {
      map: outer.Name.Name, index: (r.Offset - outer.Value - values.bits_offset / 8) / 8,
      kind: target.Section.Name === '.maps' ? 'map' : 'program', target: r.Symbol.Name,
    };
  });
}

describe.skipIf(!clang || !readobj || !bpftool)('readMapSlotInits', () => {
  it('test/emulator/progs/map_in_map.c: array and hash of maps, a prog array', () => {
    const b = buildTestObject(clang!, 'map_in_map', [], join(repoRoot, 'test', 'emulator', 'progs'));
    try {
      const ours = readMapSlotInits(readObject(readFileSync(b.path)));
      expect(ours).toEqual(oracle(b.path));
      // .values = { [0] = &arr_a, [2] = &arr_b }, { [1] = &hash_a, [3] = &hash_b }, { [1] = &tail_one, [3] = &tail_three }
      expect(ours.map((s) => `${s.map}[${s.index}]=${s.kind}:${s.target}`).sort()).toEqual([
        'jumps[1]=program:tail_one', 'jumps[3]=program:tail_three',
        'outer_arr[0]=map:arr_a', 'outer_arr[2]=map:arr_b',
        'outer_hash[1]=map:hash_a', 'outer_hash[3]=map:hash_b',
      ]);
    } finally {
      b.cleanup();
    }
  });

  it.each([[[]], [['-DPROG_ARRAY']]])('test/loader/src/map_init.c %j', (flags) => {
    const b = buildTestObject(clang!, 'map_init', flags);
    try {
      const ours = readMapSlotInits(readObject(readFileSync(b.path)));
      expect(ours).toEqual(oracle(b.path));
      expect(ours.length).toBe(flags.length === 0 ? 2 : 3);
    } finally {
      b.cleanup();
    }
  });

  it('an object without .maps initialisers has none', () => {
    const b = buildTestObject(clang!, 'map_init', ['-DPROG_ARRAY']);
    try {
      const obj = readObject(readFileSync(b.path));
      obj.elf.relocationSections = obj.elf.relocationSections.filter((r) => r.target.name !== '.maps');
      expect(readMapSlotInits(obj)).toEqual([]);
    } finally {
      b.cleanup();
    }
  });

  it('a relocation off a slot boundary is an ObjectError naming .rel.maps and the offset', () => {
    const b = buildTestObject(clang!, 'map_init');
    try {
      const obj = readObject(readFileSync(b.path));
      const rel = obj.elf.relocationSections.find((r) => r.target.name === '.maps')!;
      rel.relocations[0] = { ...rel.relocations[0]!, offset: rel.relocations[0]!.offset - 4 };
      expect(() => readMapSlotInits(obj)).toThrow(ObjectError);
      expect(() => readMapSlotInits(obj)).toThrow(new RegExp(`^\\.rel\\.maps\\+0x${rel.relocations[0]!.offset.toString(16)}: .*slot`));
    } finally {
      b.cleanup();
    }
  });
});
