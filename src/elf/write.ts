// Writes an ELF64 relocatable object back out after edits: replaced section contents, renamed
// sections (a new .shstrtab) and dropped sections (with their relocation sections, their symbols,
// and every section index renumbered). Sections keep their original file order and alignment and are
// packed the way LLVM's object writer packs them, so a write without edits reproduces a clang-built
// object byte for byte.
import {
  ELF64_EHDR_SIZE, ELF64_REL_SIZE, ELF64_RELA_SIZE, ELF64_SHDR_SIZE, ELF64_SYM_SIZE, SHN_LORESERVE,
  SHT_LLVM_ADDRSIG, SHT_NOBITS, SHT_NULL, SHT_REL, SHT_RELA,
} from './constants.js';
import { ElfError } from './errors.js';
import type { ElfFile, ElfSection } from './parse.js';

/** sh_type values (elf.h) whose contents hold section indices this writer cannot renumber. */
const SHT_GROUP = 17;
const SHT_SYMTAB_SHNDX = 18;
/** SHF_INFO_LINK (elf.h): sh_info holds a section index. */
const SHF_INFO_LINK = 0x40;
/** SHN_XINDEX (elf.h): the real index is in SHT_SYMTAB_SHNDX. */
const SHN_XINDEX = 0xffff;

/** A section by index or by (unique) name. */
export type SectionRef = number | string;

export interface ElfEdits {
  /** New contents for sections; sh_size follows the new length. */
  replace?: ReadonlyArray<{ section: SectionRef; data: Uint8Array }>;
  rename?: ReadonlyArray<{ section: SectionRef; name: string }>;
  /**
   * Sections to remove. Relocation sections that apply to them go too, as do symbols defined in
   * them; a relocation elsewhere that still needs such a symbol is an error.
   */
  drop?: readonly SectionRef[];
}

function resolve(elf: ElfFile, ref: SectionRef): number {
  if (typeof ref === 'number') {
    if (!Number.isInteger(ref) || ref <= 0 || ref >= elf.sections.length) {
      throw new ElfError(`section index ${ref} is not a section of this object (1..${elf.sections.length - 1})`);
    }
    return ref;
  }
  const found = elf.sections.filter((s) => s.index !== 0 && s.name === ref);
  if (found.length === 0) throw new ElfError(`no section named '${ref}'`);
  if (found.length > 1) throw new ElfError(`${found.length} sections are named '${ref}'; give an index (${found.map((s) => s.index).join(', ')})`);
  return found[0]!.index;
}

const MAX_SECTION_ALIGN = 4096;

function alignUp(n: number, align: number): number {
  return align > 1 ? Math.ceil(n / align) * align : n;
}

function isRelocation(s: ElfSection): boolean {
  return s.type === SHT_REL || s.type === SHT_RELA;
}

/** Whether sh_info of `s` names a section (relocation target, or flagged with SHF_INFO_LINK). */
function infoIsSection(s: ElfSection): boolean {
  return isRelocation(s) || (s.flags & SHF_INFO_LINK) !== 0;
}

function readUleb(bytes: Uint8Array, at: number, section: ElfSection): [number, number] {
  let value = 0;
  let shift = 0;
  for (let i = at; i < bytes.length; i++) {
    const b = bytes[i]!;
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [value, i + 1];
    shift += 7;
    if (shift > 49) break;
  }
  throw new ElfError('malformed ULEB128 symbol index', section.offset + at, `section ${section.name}`, section.name);
}

function writeUleb(out: number[], value: number): void {
  let v = value;
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) b |= 0x80;
    out.push(b);
  } while (v > 0);
}

/** The symbol indices in an SHT_LLVM_ADDRSIG section, renumbered, dropping removed symbols. */
function renumberAddrsig(section: ElfSection, symbolMap: Int32Array): Uint8Array {
  const out: number[] = [];
  for (let at = 0; at < section.data.length;) {
    const [index, next] = readUleb(section.data, at, section);
    at = next;
    const mapped = index < symbolMap.length ? symbolMap[index]! : -1;
    if (mapped >= 0) writeUleb(out, mapped);
  }
  return Uint8Array.from(out);
}

/**
 * Serialise `elf` with `edits` applied, in the input's byte order. The input is not modified.
 * Throws ElfError for edits that would leave a broken object (a dropped section still linked from a
 * kept one, a removed symbol still used by a relocation, section kinds this writer cannot renumber).
 */
export function writeElf(elf: ElfFile, edits: ElfEdits = {}): Uint8Array {
  const le = elf.littleEndian;
  const sections = elf.sections;
  const inView = new DataView(elf.bytes.buffer, elf.bytes.byteOffset, elf.bytes.byteLength);
  const shoff = Number(inView.getBigUint64(40, le));
  const shstrndx = inView.getUint16(62, le);

  const replaced = new Map<number, Uint8Array>();
  for (const r of edits.replace ?? []) {
    const i = resolve(elf, r.section);
    if (sections[i]!.type === SHT_NOBITS) throw new ElfError(`section ${sections[i]!.name} is SHT_NOBITS and has no contents to replace`);
    replaced.set(i, r.data);
  }
  const renamed = new Map<number, string>();
  for (const r of edits.rename ?? []) {
    if (r.name === '' || r.name.includes('\0')) throw new ElfError(`'${r.name}' is not a usable section name`);
    renamed.set(resolve(elf, r.section), r.name);
  }

  const dropped = new Set<number>();
  for (const ref of edits.drop ?? []) dropped.add(resolve(elf, ref));
  for (const s of sections) if (isRelocation(s) && dropped.has(s.info)) dropped.add(s.index);
  if (dropped.has(shstrndx)) throw new ElfError('the section-name string table cannot be dropped');

  const kept = sections.filter((s) => !dropped.has(s.index));
  const newIndex = new Int32Array(sections.length).fill(-1);
  kept.forEach((s, i) => { newIndex[s.index] = i; });
  const mapSection = (old: number, from: ElfSection, field: string): number => {
    if (old === 0) return 0;
    const n = old < sections.length ? newIndex[old]! : -1;
    if (n < 0) {
      throw new ElfError(`${from.name} still refers to section ${old}${old < sections.length ? ` (${sections[old]!.name})` : ''} through ${field}, which is being dropped`);
    }
    return n;
  };
  if (dropped.size > 0) {
    for (const s of kept) {
      if (s.type === SHT_GROUP || s.type === SHT_SYMTAB_SHNDX) {
        throw new ElfError(`${s.name} (sh_type ${s.type}) lists section indices; dropping sections from such an object is not supported`);
      }
    }
  }

  const contents = new Map<number, Uint8Array>(replaced);

  // Symbols defined in dropped sections go; the rest are renumbered in symtab, relocations and addrsig.
  const symtab = elf.symtab && !dropped.has(elf.symtab.index) ? elf.symtab : undefined;
  let firstGlobal: number | undefined;
  if (symtab && dropped.size > 0) {
    const symbolMap = new Int32Array(elf.symbols.length).fill(-1);
    let count = 0;
    for (const sym of elf.symbols) {
      const inDropped = sym.index !== 0 && sym.shndx !== 0 && sym.shndx < SHN_LORESERVE && dropped.has(sym.shndx);
      if (!inDropped) symbolMap[sym.index] = count++;
    }
    firstGlobal = symbolMap.slice(0, Math.min(symtab.info, symbolMap.length)).filter((i) => i >= 0).length;
    const symData = new Uint8Array(count * ELF64_SYM_SIZE);
    const symView = new DataView(symData.buffer);
    for (const sym of elf.symbols) {
      const to = symbolMap[sym.index]!;
      if (to < 0) continue;
      symData.set(symtab.data.subarray(sym.index * ELF64_SYM_SIZE, (sym.index + 1) * ELF64_SYM_SIZE), to * ELF64_SYM_SIZE);
      if (sym.shndx === SHN_XINDEX) throw new ElfError(`symbol ${sym.name} uses SHN_XINDEX, which this writer does not renumber`);
      if (sym.shndx !== 0 && sym.shndx < SHN_LORESERVE) {
        symView.setUint16(to * ELF64_SYM_SIZE + 6, mapSection(sym.shndx, symtab, `symbol ${sym.name}`), le);
      }
    }
    if (!replaced.has(symtab.index)) contents.set(symtab.index, symData);
    const removedAny = count < elf.symbols.length;
    for (const rs of elf.relocationSections) {
      const s = rs.section;
      if (dropped.has(s.index) || s.link !== symtab.index || replaced.has(s.index)) continue;
      if (!removedAny) continue;
      const entsize = s.type === SHT_RELA ? ELF64_RELA_SIZE : ELF64_REL_SIZE;
      const data = Uint8Array.from(s.data);
      const view = new DataView(data.buffer);
      rs.relocations.forEach((rel, i) => {
        const to = symbolMap[rel.symbol]!;
        if (to < 0) {
          const sym = elf.symbols[rel.symbol]!;
          throw new ElfError(`relocation ${i} in ${s.name} uses symbol '${sym.name || `#${sym.index}`}' of dropped section ${sections[sym.shndx]!.name}`, s.offset + i * entsize, `relocation section ${s.name}`, s.name);
        }
        view.setUint32(i * entsize + (le ? 12 : 8), to, le);
      });
      contents.set(s.index, data);
    }
    if (removedAny) {
      for (const s of kept) {
        if (s.type === SHT_LLVM_ADDRSIG && s.link === symtab.index && !replaced.has(s.index)) contents.set(s.index, renumberAddrsig(s, symbolMap));
      }
    }
  }

  // Section names. clang shares one string table between section and symbol names, so existing
  // strings keep their offsets; a new name reuses any string that ends the same way, or is appended.
  const nameOffsets = new Map<number, number>(kept.map((s) => [s.index, s.nameOffset]));
  if (renamed.size > 0) {
    if (replaced.has(shstrndx)) throw new ElfError('renaming sections rewrites the section-name string table, so it cannot also be replaced');
    const original = Buffer.from(sections[shstrndx]!.data);
    const appended: Buffer[] = [];
    let size = original.length;
    const added = new Map<string, number>();
    for (const [index, name] of renamed) {
      const bytes = Buffer.from(`${name}\0`, 'latin1');
      let at = original.indexOf(bytes);
      if (at < 0) at = added.get(name) ?? -1;
      if (at < 0) {
        at = size;
        added.set(name, at);
        appended.push(bytes);
        size += bytes.length;
      }
      nameOffsets.set(index, at);
    }
    contents.set(shstrndx, new Uint8Array(Buffer.concat([original, ...appended])));
  }

  const dataOf = (s: ElfSection): Uint8Array => contents.get(s.index) ?? s.data;
  const sizeOf = (s: ElfSection): number => (s.type === SHT_NOBITS ? s.size : dataOf(s).length);

  // Layout: file order of the input, each section at its own alignment, the header table 8-aligned.
  // An empty section shares its offset with the next one; LLVM puts it first.
  type Item = { order: number; empty: number; index: number; section?: ElfSection };
  const items: Item[] = kept.filter((s) => s.type !== SHT_NULL)
    .map((s) => ({ order: s.offset, empty: s.type === SHT_NOBITS || s.size === 0 ? 0 : 1, index: s.index, section: s }));
  items.push({ order: shoff, empty: 1, index: sections.length });
  items.sort((a, b) => a.order - b.order || a.empty - b.empty || a.index - b.index);
  const offsets = new Map<number, number>();
  let cursor = ELF64_EHDR_SIZE;
  let newShoff = 0;
  for (const item of items) {
    const align = item.section?.addralign ?? 8;
    // ELF wants a power of two; anything past a page is a corrupt header, not a layout to honour.
    if (align > 1 && ((align & (align - 1)) !== 0 || align > MAX_SECTION_ALIGN)) {
      throw new ElfError(`section ${item.section!.name} has sh_addralign ${align}, not a power of two up to ${MAX_SECTION_ALIGN}`, item.section!.offset, `section header ${item.index}`);
    }
    if (!item.section) {
      newShoff = alignUp(cursor, 8);
      cursor = newShoff + kept.length * ELF64_SHDR_SIZE;
      continue;
    }
    const at = alignUp(cursor, item.section.addralign);
    offsets.set(item.index, at);
    if (item.section.type !== SHT_NOBITS) cursor = at + sizeOf(item.section);
  }

  const out = new Uint8Array(cursor);
  const view = new DataView(out.buffer);
  out.set(elf.bytes.subarray(0, ELF64_EHDR_SIZE), 0);
  view.setBigUint64(40, BigInt(newShoff), le);
  if (kept.length >= SHN_LORESERVE) throw new ElfError(`${kept.length} sections need extended section numbering, which this writer does not produce`);
  view.setUint16(60, kept.length, le);
  view.setUint16(62, newIndex[shstrndx]!, le);

  kept.forEach((s, i) => {
    const h = newShoff + i * ELF64_SHDR_SIZE;
    out.set(elf.bytes.subarray(shoff + s.index * ELF64_SHDR_SIZE, shoff + (s.index + 1) * ELF64_SHDR_SIZE), h);
    if (s.index === 0) return;
    // An SHT_NULL entry past index 0 (a corrupt or padded table) has no contents to place.
    if (s.type === SHT_NULL) {
      view.setBigUint64(h + 24, 0n, le);
      return;
    }
    const at = offsets.get(s.index)!;
    if (s.type !== SHT_NOBITS) out.set(dataOf(s), at);
    view.setUint32(h, nameOffsets.get(s.index)!, le);
    view.setBigUint64(h + 24, BigInt(at), le);
    view.setBigUint64(h + 32, BigInt(sizeOf(s)), le);
    view.setUint32(h + 40, mapSection(s.link, s, 'sh_link'), le);
    if (infoIsSection(s)) view.setUint32(h + 44, mapSection(s.info, s, 'sh_info'), le);
    else if (s === symtab && firstGlobal !== undefined) view.setUint32(h + 44, firstGlobal, le);
  });
  return out;
}

/** The section names of `elf` after `edits`, in new index order; handy for checking a plan first. */
export function plannedSectionNames(elf: ElfFile, edits: ElfEdits): string[] {
  const dropped = new Set((edits.drop ?? []).map((r) => resolve(elf, r)));
  for (const s of elf.sections) if (isRelocation(s) && dropped.has(s.info)) dropped.add(s.index);
  const renamed = new Map((edits.rename ?? []).map((r) => [resolve(elf, r.section), r.name]));
  return elf.sections.filter((s) => !dropped.has(s.index)).map((s) => renamed.get(s.index) ?? s.name);
}
