import { parseElf, sectionByName, ElfError } from '../elf/index.js';
import type { Btf } from './btf.js';
import { BtfError } from './errors.js';
import { parseBtfExt, type BtfExt } from './ext.js';
import { isBtf, parseBtf, type ParseBtfOptions } from './parse.js';

function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

function rethrowIn(section: string, e: unknown): never {
  if (e instanceof BtfError) throw e.inSection(section);
  throw e;
}

/**
 * BTF from a file's bytes: a raw BTF file (/sys/kernel/btf/vmlinux, a module's split BTF with
 * `base`) or an ELF object's .BTF section.
 */
export function btfFromFile(bytes: Uint8Array, options: ParseBtfOptions = {}): Btf {
  if (isBtf(bytes)) return parseBtf(bytes, options);
  if (!isElf(bytes)) throw new BtfError('not a BTF file or an ELF object (no BTF or ELF magic)', 0);
  const elf = parseElf(bytes);
  const section = sectionByName(elf, '.BTF');
  if (!section) throw new BtfError('object has no .BTF section (built without -g?)', undefined, undefined, { hint: 'build BPF objects with clang -g to get BTF' });
  try {
    return parseBtf(section.data, options);
  } catch (e) {
    rethrowIn('.BTF', e);
  }
}

/** An ELF object's .BTF and, when present, .BTF.ext. */
export function btfFromElf(bytes: Uint8Array): { btf: Btf; ext?: BtfExt } {
  if (!isElf(bytes)) throw new ElfError('not an ELF file (bad magic)', 0, 'e_ident');
  const elf = parseElf(bytes);
  const btf = btfFromFile(bytes);
  const extSection = sectionByName(elf, '.BTF.ext');
  if (!extSection) return { btf };
  try {
    return { btf, ext: parseBtfExt(extSection.data, btf) };
  } catch (e) {
    rethrowIn('.BTF.ext', e);
  }
}
