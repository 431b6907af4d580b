// The parts of a native executable or shared library a uprobe needs: its function symbols (the
// static and the dynamic symbol table) and its loadable segments, which turn a symbol's virtual
// address into the file offset the kernel's uprobe PMU takes.
import { ELF64_EHDR_SIZE, PT_LOAD, SHN_UNDEF, SHT_DYNSYM, STT_FUNC, STT_GNU_IFUNC } from './constants.js';
import { ElfError } from './errors.js';
import { parseElf, readSymbols, type ElfFile, type ElfSymbol } from './parse.js';

const ELF64_PHDR_SIZE = 56;

export interface LoadSegment {
  /** p_offset, p_vaddr, p_filesz, p_memsz, p_flags (PF_*). */
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  flags: number;
}

export interface NativeElf {
  elf: ElfFile;
  segments: LoadSegment[];
  /** Defined functions of .symtab then .dynsym (a stripped file has only the latter). */
  functions: (ElfSymbol & { table: '.symtab' | '.dynsym' })[];
}

export function readNativeElf(bytes: Uint8Array): NativeElf {
  const elf = parseElf(bytes, { native: true });
  const le = elf.littleEndian;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const phoff = Number(view.getBigUint64(32, le));
  const phentsize = view.getUint16(54, le);
  const phnum = view.getUint16(56, le);
  if (phnum > 0 && phentsize !== ELF64_PHDR_SIZE) throw new ElfError(`e_phentsize is ${phentsize}, expected ${ELF64_PHDR_SIZE}`, 54, 'Elf64_Ehdr');
  if (phnum > 0 && (phoff < ELF64_EHDR_SIZE || phoff + phnum * ELF64_PHDR_SIZE > bytes.length)) {
    throw new ElfError(`program header table (${phnum} entries at 0x${phoff.toString(16)}) runs past the end of the file`, 32, 'Elf64_Ehdr');
  }
  const segments: LoadSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const h = phoff + i * ELF64_PHDR_SIZE;
    if (view.getUint32(h, le) !== PT_LOAD) continue;
    segments.push({
      flags: view.getUint32(h + 4, le),
      offset: Number(view.getBigUint64(h + 8, le)),
      vaddr: Number(view.getBigUint64(h + 16, le)),
      filesz: Number(view.getBigUint64(h + 32, le)),
      memsz: Number(view.getBigUint64(h + 40, le)),
    });
  }
  const isFunction = (s: ElfSymbol) => (s.type === STT_FUNC || s.type === STT_GNU_IFUNC) && s.shndx !== SHN_UNDEF && s.value !== 0;
  const functions: NativeElf['functions'] = elf.symbols.filter(isFunction).map((s) => ({ ...s, table: '.symtab' as const }));
  const dynsym = elf.sections.find((s) => s.type === SHT_DYNSYM);
  if (dynsym) {
    for (const s of readSymbols(dynsym, elf.sections, view, le)) if (isFunction(s)) functions.push({ ...s, table: '.dynsym' });
  }
  return { elf, segments, functions };
}

/** The file offset of virtual address `vaddr`: inside the PT_LOAD segment that maps it from the file. */
export function fileOffsetOf(native: NativeElf, vaddr: number): number | undefined {
  const seg = native.segments.find((s) => vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz);
  return seg === undefined ? undefined : vaddr - seg.vaddr + seg.offset;
}
