import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseElf, ElfError } from '../../src/elf/index.js';
import { haveCorpus, tool } from '../helpers/env.js';
import { corpusObjects, label, projectObjects } from '../helpers/objects.js';

interface ReadobjSection { Index: number; Name: { Name: string }; Type: { Value: number }; Flags: { Value: number }; Offset: number; Size: number; Link: number; Info: number; AddressAlignment: number; EntrySize: number }
interface ReadobjSymbol { Name: { Name: string }; Value: number; Size: number; Binding: { Value: number }; Type: { Value: number }; Section: { Value: number } }
interface ReadobjReloc { Offset: number; Type: { Value: number }; Symbol: { Name: string; Value: number } }

const readobj = tool('llvm-readobj-19');

function oracle(path: string) {
  const out = execFileSync(readobj!, ['--elf-output-style=JSON', '--sections', '--symbols', '--relocations', path], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] });
  const [file] = JSON.parse(out) as [{ Sections: { Section: ReadobjSection }[]; Symbols?: { Symbol: ReadobjSymbol }[]; Relocations?: { SectionIndex: number; Relocs: { Relocation: ReadobjReloc }[] }[] }];
  return file;
}

// Objects llvm-readobj itself cannot read are compared only for "we fail too, with a typed error".
describe.skipIf(!readobj)('ELF reader agrees with llvm-readobj-19', () => {
  const objects = [...(haveCorpus() ? corpusObjects() : []), ...projectObjects()];
  let compared = 0;
  it.each(objects.map((p) => [label(p), p]))('%s', (_name, path) => {
    let expected: ReturnType<typeof oracle>;
    try {
      expected = oracle(path);
    } catch {
      expect(() => parseElf(readFileSync(path))).toThrow(ElfError);
      return;
    }
    let elf;
    try {
      elf = parseElf(readFileSync(path));
    } catch (e) {
      // llvm-readobj is lenient with some corrupt files (it warns and goes on); we must fail typed.
      expect(e).toBeInstanceOf(ElfError);
      return;
    }
    compared++;
    expect(elf.sections.map((s) => ({ index: s.index, name: s.name, type: s.type, flags: s.flags, offset: s.offset, size: s.size, link: s.link, info: s.info, align: s.addralign, entsize: s.entsize })))
      .toEqual(expected.Sections.map(({ Section: s }) => ({ index: s.Index, name: s.Name.Name, type: s.Type.Value, flags: s.Flags.Value, offset: s.Offset, size: s.Size, link: s.Link, info: s.Info, align: s.AddressAlignment, entsize: s.EntrySize })));
    // llvm-readobj names section symbols after their section; we keep the (empty) string table name.
    expect(elf.symbols.map((s) => ({ value: s.value, size: s.size, bind: s.bind, type: s.type, shndx: s.shndx })))
      .toEqual((expected.Symbols ?? []).map(({ Symbol: s }) => ({ value: s.Value, size: s.Size, bind: s.Binding.Value, type: s.Type.Value, shndx: s.Section.Value })));
    expect(elf.symbols.filter((s) => s.type !== 3).map((s) => s.name))
      .toEqual((expected.Symbols ?? []).filter(({ Symbol: s }) => s.Type.Value !== 3).map(({ Symbol: s }) => s.Name.Name));
    const ours = elf.relocationSections.map((r) => ({ section: r.section.index, relocs: r.relocations.map((x) => ({ offset: x.offset, type: x.type, symbol: x.symbol })) }));
    const theirs = (expected.Relocations ?? []).map((r) => ({ section: r.SectionIndex, relocs: r.Relocs.map(({ Relocation: x }) => ({ offset: x.Offset, type: x.Type.Value, symbol: x.Symbol.Value })) }));
    expect(ours).toEqual(theirs);
  });
  it('compared a meaningful number of objects', () => {
    console.log(`ELF reader: ${compared} of ${objects.length} objects identical to llvm-readobj-19`);
    expect(compared).toBeGreaterThan(objects.length * 0.9);
  });
});
