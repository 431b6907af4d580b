import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpusObjects, label, projectObjects } from '../helpers/objects.js';
import { corpusDir, haveCorpus, repoRoot, tool } from '../helpers/env.js';
import { ElfError, parseElf } from '../../src/elf/index.js';
import { writeElf, plannedSectionNames, type ElfEdits } from '../../src/elf/write.js';

const readelf = tool('llvm-readelf-19');
const objdump = tool('llvm-objdump-19');

/** The object's ELF, or undefined when parseElf refuses it (with an ElfError, as it must). */
function parsed(path: string): ReturnType<typeof parseElf> | undefined {
  try {
    return parseElf(new Uint8Array(readFileSync(path)));
  } catch (e) {
    if (e instanceof ElfError) return undefined;
    throw e;
  }
}

// The malformed objects of invalid/ that parseElf refuses have nothing to write.
describe.skipIf(!haveCorpus())('a write without edits reproduces the input byte for byte', () => {
  const objects = [...corpusObjects(), ...projectObjects()];
  it('covers the corpus', () => expect(objects.filter((p) => parsed(p) !== undefined).length).toBeGreaterThan(150));
  it.each(objects.map((p) => [label(p), p]))('%s', (_name, path) => {
    const elf = parsed(path);
    if (!elf) return;
    expect(Buffer.from(writeElf(elf)).equals(Buffer.from(readFileSync(path)))).toBe(true);
  });
});

interface View {
  sections: { name: string; type: string; flags: number; link: string; info: string | number; size: number }[];
  symbols: { name: string; type: string; bind: string; section: string; value: number; size: number }[];
  relocs: { in: string; offset: number; type: string; symbol: string }[];
}

/** llvm-readelf's view of an object, with indices turned into names so that renumbering cancels out. */
function view(bytes: Uint8Array): View {
  const dir = mkdtempSync(join(tmpdir(), 'bpfts-write-'));
  try {
    const file = join(dir, 'o.o');
    writeFileSync(file, bytes);
    const r = spawnSync(readelf!, ['--elf-output-style=JSON', '-S', '-s', '-r', file], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    type Json = { Sections: { Section: { Index: number; Name: { Name: string }; Type: { Name: string }; Flags: { Value: number }; Link: number; Info: number; Size: number } }[];
      Symbols: { Symbol: { Name: { Name: string }; Value: number; Size: number; Binding: { Name: string }; Type: { Name: string }; Section: { Name: string } } }[];
      Relocations: { SectionIndex: number; Relocs: { Relocation: { Offset: number; Type: { Name: string }; Symbol: { Name: string } } }[] }[] };
    const j = (JSON.parse(r.stdout) as Json[])[0]!;
    const names = j.Sections.map((s) => s.Section.Name.Name);
    return {
      sections: j.Sections.map(({ Section: s }) => ({
        name: s.Name.Name, type: s.Type.Name, flags: s.Flags.Value, link: names[s.Link] ?? `#${s.Link}`,
        info: s.Type.Name === 'SHT_REL' || s.Type.Name === 'SHT_RELA' ? names[s.Info] ?? `#${s.Info}` : s.Info, size: s.Size,
      })),
      symbols: j.Symbols.map(({ Symbol: s }) => ({
        name: s.Name.Name, type: s.Type.Name, bind: s.Binding.Name, section: s.Section.Name, value: s.Value, size: s.Size,
      })),
      relocs: j.Relocations.flatMap((rs) => rs.Relocs.map(({ Relocation: r }) => ({
        in: names[rs.SectionIndex]!, offset: r.Offset, type: r.Type.Name, symbol: r.Symbol.Name,
      }))),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function disassembly(bytes: Uint8Array, section: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'bpfts-write-'));
  try {
    const file = join(dir, 'o.o');
    writeFileSync(file, bytes);
    const out = execFileSync(objdump!, ['-d', '-r', '--no-show-raw-insn', `--section=${section}`, file], { encoding: 'utf8' });
    return out.split('\n').filter((l) => !l.includes('file format')).join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const provenance = (arch: string) => join(repoRoot, 'bpf', 'build', arch, 'provenance_egress.o');

describe.skipIf(!readelf || !objdump)('edits checked with llvm-readelf-19 and llvm-objdump-19', () => {
  describe.each(['bpfel', 'bpfeb'])('%s provenance_egress.o', (arch) => {
    let bytes: Uint8Array;
    let elf: ReturnType<typeof parseElf>;
    let before: View;
    beforeAll(() => {
      bytes = new Uint8Array(readFileSync(provenance(arch)));
      elf = parseElf(bytes);
      before = view(bytes);
    });

    it('renames a program section and its relocation section', () => {
      const edits: ElfEdits = { rename: [{ section: 'egress', name: 'classifier' }, { section: '.relegress', name: '.relclassifier' }] };
      const out = writeElf(elf, edits);
      const after = view(out);
      const rename = (n: string) => (n === 'egress' ? 'classifier' : n === '.relegress' ? '.relclassifier' : n);
      expect(after.sections).toEqual(before.sections.map((s) => ({
        ...s, name: rename(s.name), link: rename(s.link), info: typeof s.info === 'string' ? rename(s.info) : s.info,
        size: s.name === '.strtab' ? after.sections.find((a) => a.name === '.strtab')!.size : s.size,
      })));
      expect(after.sections.map((s) => s.name)).toEqual(plannedSectionNames(elf, edits));
      // The section symbol takes its name from the section.
      expect(after.symbols).toEqual(before.symbols.map((s) => ({ ...s, name: rename(s.name), section: rename(s.section) })));
      expect(after.relocs).toEqual(before.relocs.map((r) => ({ ...r, in: rename(r.in), symbol: rename(r.symbol) })));
      expect(disassembly(out, 'classifier')).toEqual(disassembly(bytes, 'egress').replaceAll('egress', 'classifier'));
      expect(parseElf(out).littleEndian).toBe(arch === 'bpfel');
    });

    it('drops .debug_frame with .rel.debug_frame, removing its section symbol and renumbering the rest', () => {
      const out = writeElf(elf, { drop: ['.debug_frame'] });
      const after = view(out);
      const gone = new Set(['.debug_frame', '.rel.debug_frame']);
      expect(after.sections).toEqual(before.sections.filter((s) => !gone.has(s.name)).map((s) =>
        s.name === '.symtab' ? { ...s, size: s.size - 24, info: (s.info as number) - 1 } : s.name === '.llvm_addrsig' ? { ...s, size: after.sections.find((a) => a.name === s.name)!.size } : s));
      expect(after.symbols).toEqual(before.symbols.filter((s) => s.section !== '.debug_frame'));
      expect(after.relocs).toEqual(before.relocs.filter((r) => r.in !== '.rel.debug_frame'));
      expect(disassembly(out, 'egress')).toEqual(disassembly(bytes, 'egress'));
      // What parseElf reads back agrees: every relocation names the same symbol as before.
      const reparsed = parseElf(out);
      const symName = (e: typeof elf, rs: (typeof elf)['relocationSections'][number]) => rs.relocations.map((r) => e.symbols[r.symbol]!.name);
      for (const rs of reparsed.relocationSections) {
        const orig = elf.relocationSections.find((o) => o.section.name === rs.section.name)!;
        expect(symName(reparsed, rs)).toEqual(symName(elf, orig));
      }
    });

    it('replaces a program with a longer one and moves what follows', () => {
      const egress = elf.sections.find((s) => s.name === 'egress')!;
      const longer = new Uint8Array(egress.size + 8);
      longer.set(egress.data);
      longer.set(egress.data.subarray(egress.size - 8), egress.size);
      const out = writeElf(elf, { replace: [{ section: 'egress', data: longer }] });
      const after = view(out);
      expect(after.sections.find((s) => s.name === 'egress')!.size).toBe(egress.size + 8);
      expect(after.relocs).toEqual(before.relocs);
      const lines = disassembly(out, 'egress').trim().split('\n');
      expect(lines.at(-1)).toMatch(/exit/);
      expect(lines.at(-2)).toMatch(/exit/);
    });

    it('refuses edits that would break the object', () => {
      expect(() => writeElf(elf, { drop: ['.symtab'] })).toThrow(ElfError);
      // .rel.debug_info still needs the section symbol of .debug_abbrev.
      expect(() => writeElf(elf, { drop: ['.debug_abbrev'] })).toThrow(/dropped section \.debug_abbrev/);
      expect(() => writeElf(elf, { rename: [{ section: 'nope', name: 'x' }] })).toThrow(/no section named 'nope'/);
      expect(() => writeElf(elf, { drop: [elf.sections.length] })).toThrow(ElfError);
      expect(() => writeElf(elf, { rename: [{ section: 'egress', name: 'a\0b' }] })).toThrow(ElfError);
      expect(() => writeElf(elf, { drop: ['.shstrtab'] })).toThrow(ElfError);
    });
  });

  it.skipIf(!haveCorpus())('drops .eh_frame and .rel.eh_frame from an old clang object', () => {
    const bytes = new Uint8Array(readFileSync(join(corpusDir, 'ebpf-samples', 'linux', 'tcp_bufs_kern.o')));
    const before = view(bytes);
    const out = writeElf(parseElf(bytes), { drop: ['.eh_frame'] });
    const after = view(out);
    expect(after.sections.map((s) => s.name)).toEqual(before.sections.map((s) => s.name).filter((n) => n !== '.eh_frame' && n !== '.rel.eh_frame'));
    expect(after.symbols).toEqual(before.symbols);
    expect(after.relocs).toEqual(before.relocs.filter((r) => r.in !== '.rel.eh_frame'));
    expect(out.length).toBeLessThan(bytes.length);
    expect(disassembly(out, 'sockops')).toEqual(disassembly(bytes, 'sockops'));
  });
});
