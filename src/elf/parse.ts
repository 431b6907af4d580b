import elfy from 'elfy';
import {
  ELF64_EHDR_SIZE, ELF64_REL_SIZE, ELF64_RELA_SIZE, ELF64_SHDR_SIZE, ELF64_SYM_SIZE,
  ELFCLASS64, ELFDATA2LSB, ELFDATA2MSB, EM_BPF, EM_NONE, SHN_LORESERVE, SHT_NOBITS, SHT_REL,
  SHT_RELA, SHT_STRTAB, SHT_SYMTAB,
} from './constants.js';
import { ElfError } from './errors.js';

export interface ElfSection {
  index: number;
  name: string;
  /** Offset of the name in the section-name string table. */
  nameOffset: number;
  type: number;
  flags: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
  /** The section's bytes (empty for SHT_NOBITS); a view into the file, not a copy. */
  data: Uint8Array;
}

export interface ElfSymbol {
  index: number;
  name: string;
  value: number;
  size: number;
  /** STT_* */
  type: number;
  /** STB_* */
  bind: number;
  /** STV_* */
  visibility: number;
  /** Section header index, or an SHN_* reserved value. */
  shndx: number;
}

export interface ElfRelocation {
  /** Offset inside the target section. */
  offset: number;
  /** R_BPF_* */
  type: number;
  /** Index into the symbol table. */
  symbol: number;
  /** Only SHT_RELA carries an explicit addend. */
  addend?: number;
}

export interface ElfRelocationSection {
  section: ElfSection;
  /** The section the relocations apply to (sh_info). */
  target: ElfSection;
  relocations: ElfRelocation[];
}

export interface ElfFile {
  bytes: Uint8Array;
  littleEndian: boolean;
  /** e_machine: EM_BPF, or EM_NONE for old objects that are BPF all the same. */
  machine: number;
  /** e_type: ET_REL for clang output. */
  type: number;
  /** e_flags */
  flags: number;
  sections: ElfSection[];
  /** The symbol table in index order, index 0 the null symbol; empty when there is none. */
  symbols: ElfSymbol[];
  /** The SHT_SYMTAB section, when present. */
  symtab?: ElfSection;
  relocationSections: ElfRelocationSection[];
}

function u64(view: DataView, off: number, le: boolean, what: string): number {
  const v = view.getBigUint64(off, le);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfError(`${what} is too large`, off, what);
  return Number(v);
}

function cString(bytes: Uint8Array, start: number, table: string, tableOffset: number): string {
  if (start >= bytes.length) {
    throw new ElfError(`string offset ${start} is outside ${table} (size ${bytes.length})`, tableOffset + start, table);
  }
  let end = start;
  while (end < bytes.length && bytes[end] !== 0) end++;
  if (end === bytes.length) throw new ElfError(`string at ${start} in ${table} is not NUL-terminated`, tableOffset + start, table);
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

/**
 * Read an ELF64 BPF relocatable object. Every offset and size is checked against the file before
 * it is used, so malformed input gives an ElfError naming the structure and offset. `native` reads
 * another machine's executable or library instead (what uprobes attach to): any e_machine, and its
 * dynamic relocations, which name no section, are left out of relocationSections.
 */
export function parseElf(input: Uint8Array, opts: { native?: boolean } = {}): ElfFile {
  const bytes = input;
  if (bytes.length < 16 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new ElfError('not an ELF file (bad magic)', 0, 'e_ident');
  }
  if (bytes[4] !== ELFCLASS64) throw new ElfError(`ELF class ${bytes[4]} is not ELFCLASS64; BPF objects are 64-bit`, 4, 'e_ident');
  if (bytes[5] !== ELFDATA2LSB && bytes[5] !== ELFDATA2MSB) throw new ElfError(`unknown ELF data encoding ${bytes[5]}`, 5, 'e_ident');
  if (bytes.length < ELF64_EHDR_SIZE) throw new ElfError(`file is ${bytes.length} bytes, shorter than the ELF header`, 0, 'Elf64_Ehdr');
  const le = bytes[5] === ELFDATA2LSB;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  const type = view.getUint16(16, le);
  const machine = view.getUint16(18, le);
  if (!opts.native && machine !== EM_BPF && machine !== EM_NONE) {
    throw new ElfError(`e_machine is ${machine}, not EM_BPF (${EM_BPF}): this is not a BPF object`, 18, 'Elf64_Ehdr');
  }
  const flags = view.getUint32(48, le);
  const shoff = u64(view, 40, le, 'e_shoff');
  const shentsize = view.getUint16(58, le);
  const shnum = view.getUint16(60, le);
  const shstrndx = view.getUint16(62, le);
  if (shnum === 0) throw new ElfError('the object has no section header table', 40, 'Elf64_Ehdr');
  if (shentsize !== ELF64_SHDR_SIZE) throw new ElfError(`e_shentsize is ${shentsize}, expected ${ELF64_SHDR_SIZE}`, 58, 'Elf64_Ehdr');
  if (shoff + shnum * ELF64_SHDR_SIZE > bytes.length) {
    throw new ElfError(`section header table (${shnum} entries at 0x${shoff.toString(16)}) runs past the end of the ${bytes.length}-byte file`, shoff, 'section header table');
  }
  if (shstrndx >= shnum) throw new ElfError(`e_shstrndx ${shstrndx} is not a section (there are ${shnum})`, 62, 'Elf64_Ehdr');

  // Validate every header before elfy sees the file: it slices silently past the end.
  const raw: Omit<ElfSection, 'name' | 'data'>[] = [];
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * ELF64_SHDR_SIZE;
    const structure = `section header ${i}`;
    const section = {
      index: i,
      nameOffset: view.getUint32(h, le),
      type: view.getUint32(h + 4, le),
      // Only the low 32 bits carry flags a BPF loader acts on; OS/processor bits above are kept out.
      flags: Number(view.getBigUint64(h + 8, le) & 0xffffffffn),
      offset: u64(view, h + 24, le, `${structure} sh_offset`),
      size: u64(view, h + 32, le, `${structure} sh_size`),
      link: view.getUint32(h + 40, le),
      info: view.getUint32(h + 44, le),
      addralign: u64(view, h + 48, le, `${structure} sh_addralign`),
      entsize: u64(view, h + 56, le, `${structure} sh_entsize`),
    };
    if (section.type !== SHT_NOBITS && i !== 0 && section.offset + section.size > bytes.length) {
      throw new ElfError(`section ${i} (offset 0x${section.offset.toString(16)}, size ${section.size}) runs past the end of the ${bytes.length}-byte file`, h, structure);
    }
    raw.push(section);
  }
  if (raw[shstrndx]!.type !== SHT_STRTAB) throw new ElfError(`e_shstrndx ${shstrndx} is not a string table`, 62, 'Elf64_Ehdr');

  let container: ReturnType<typeof elfy.parse>;
  try {
    container = elfy.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    throw new ElfError(`ELF container could not be read: ${(e as Error).message}`, 0, 'ELF');
  }
  const shstrtab = raw[shstrndx]!;
  const shstrData = bytes.subarray(shstrtab.offset, shstrtab.offset + shstrtab.size);
  const sections: ElfSection[] = raw.map((s, i) => {
    // Check the name offset and termination elfy trusts, then take its decoded name.
    if (i !== 0 || s.nameOffset !== 0) cString(shstrData, s.nameOffset, '.shstrtab', shstrtab.offset);
    const name = container.body.sections[i]?.name ?? '';
    const data = s.type === SHT_NOBITS || i === 0 ? new Uint8Array(0) : bytes.subarray(s.offset, s.offset + s.size);
    return { ...s, name, data };
  });

  const symtab = sections.find((s) => s.type === SHT_SYMTAB);
  const symbols = symtab ? readSymbols(symtab, sections, view, le) : [];
  const relocationSections = opts.native ? [] : sections
    .filter((s) => s.type === SHT_REL || s.type === SHT_RELA)
    .map((s) => readRelocations(s, sections, symbols.length, view, le));

  return { bytes, littleEndian: le, machine, type, flags, sections, symbols, symtab, relocationSections };
}

/** The symbols of a SHT_SYMTAB or SHT_DYNSYM section. */
export function readSymbols(symtab: ElfSection, sections: ElfSection[], view: DataView, le: boolean): ElfSymbol[] {
  const structure = `symbol table ${symtab.name}`;
  if (symtab.entsize !== 0 && symtab.entsize !== ELF64_SYM_SIZE) throw new ElfError(`sh_entsize is ${symtab.entsize}, expected ${ELF64_SYM_SIZE}`, symtab.offset, structure);
  if (symtab.size % ELF64_SYM_SIZE !== 0) throw new ElfError(`size ${symtab.size} is not a multiple of ${ELF64_SYM_SIZE}`, symtab.offset, structure);
  const strtab = sections[symtab.link];
  if (!strtab || strtab.type !== SHT_STRTAB) throw new ElfError(`sh_link ${symtab.link} is not a string table`, symtab.offset, structure);
  const symbols: ElfSymbol[] = [];
  for (let i = 0; i < symtab.size / ELF64_SYM_SIZE; i++) {
    const o = symtab.offset + i * ELF64_SYM_SIZE;
    const info = view.getUint8(o + 4);
    const shndx = view.getUint16(o + 6, le);
    if (shndx !== 0 && shndx < SHN_LORESERVE && shndx >= sections.length) {
      throw new ElfError(`symbol ${i} names section ${shndx}, which does not exist`, o, structure);
    }
    symbols.push({
      index: i,
      name: cString(strtab.data, view.getUint32(o, le), strtab.name, strtab.offset),
      type: info & 0xf,
      bind: info >> 4,
      visibility: view.getUint8(o + 5) & 0x3,
      shndx,
      value: u64(view, o + 8, le, `symbol ${i} st_value`),
      size: u64(view, o + 16, le, `symbol ${i} st_size`),
    });
  }
  return symbols;
}

function readRelocations(section: ElfSection, sections: ElfSection[], symbolCount: number, view: DataView, le: boolean): ElfRelocationSection {
  const rela = section.type === SHT_RELA;
  const entsize = rela ? ELF64_RELA_SIZE : ELF64_REL_SIZE;
  const structure = `relocation section ${section.name}`;
  if (section.size % entsize !== 0) throw new ElfError(`size ${section.size} is not a multiple of ${entsize}`, section.offset, structure);
  const target = sections[section.info];
  if (!target || section.info === 0) throw new ElfError(`sh_info ${section.info} does not name a section`, section.offset, structure);
  const relocations: ElfRelocation[] = [];
  for (let i = 0; i < section.size / entsize; i++) {
    const o = section.offset + i * entsize;
    const offset = u64(view, o, le, `${structure} r_offset`);
    const symbol = view.getUint32(o + (le ? 12 : 8), le);
    const type = view.getUint32(o + (le ? 8 : 12), le);
    if (symbol >= symbolCount) throw new ElfError(`relocation ${i} names symbol ${symbol}, but the symbol table has ${symbolCount}`, o, structure);
    if (offset >= target.size && target.size > 0) throw new ElfError(`relocation ${i} at offset ${offset} is outside ${target.name} (size ${target.size})`, o, structure);
    const rel: ElfRelocation = { offset, type, symbol };
    if (rela) rel.addend = Number(view.getBigInt64(o + 16, le));
    relocations.push(rel);
  }
  return { section, target, relocations };
}

export function sectionByName(elf: ElfFile, name: string): ElfSection | undefined {
  return elf.sections.find((s) => s.name === name);
}
