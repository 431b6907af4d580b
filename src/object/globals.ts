import { type ElfFile, SHF_WRITE, SHT_NOBITS, STT_OBJECT, STB_GLOBAL } from '../elf/index.js';
import { ObjectError } from './errors.js';
import { isGlobalDataSection } from './relocations.js';
import type { GlobalDataSection } from './model.js';

/**
 * The kernel refuses array map values above KMALLOC_MAX_SIZE (4 MiB on common configurations);
 * a zero-filled section far larger than that is a corrupt sh_size, not something to allocate.
 */
const MAX_ZERO_FILLED_SECTION = 64 * 1024 * 1024;

/** Global variable sections, each of which a loader turns into a one-element array map. */
export function readGlobals(elf: ElfFile): GlobalDataSection[] {
  return elf.sections
    .filter((s) => isGlobalDataSection(s.name))
    .map((section) => {
      if (section.type === SHT_NOBITS && section.size > MAX_ZERO_FILLED_SECTION) {
        throw new ObjectError(`sh_size ${section.size} of ${section.name} is larger than any BPF global data map can be`, section.name);
      }
      return {
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
      };
    });
}
