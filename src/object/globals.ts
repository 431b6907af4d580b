import { type ElfFile, SHF_WRITE, SHT_NOBITS, STT_OBJECT, STB_GLOBAL } from '../elf/index.js';
import { isGlobalDataSection } from './relocations.js';
import type { GlobalDataSection } from './model.js';

/** Global variable sections, each of which a loader turns into a one-element array map. */
export function readGlobals(elf: ElfFile): GlobalDataSection[] {
  return elf.sections
    .filter((s) => isGlobalDataSection(s.name))
    .map((section) => ({
      section: section.name,
      sectionIndex: section.index,
      size: section.size,
      // .rodata* and .kconfig are frozen by loaders; clang marks them without SHF_WRITE.
      readOnly: section.name === '.kconfig' || (section.flags & SHF_WRITE) === 0,
      bytes: section.type === SHT_NOBITS ? new Uint8Array(section.size) : section.data,
      variables: elf.symbols
        .filter((s) => s.shndx === section.index && s.type === STT_OBJECT)
        .sort((a, b) => a.value - b.value)
        .map((s) => ({ name: s.name, offset: s.value, size: s.size, global: s.bind === STB_GLOBAL })),
    }));
}
