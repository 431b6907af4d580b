import { parseElf, sectionByName, EM_NONE, ET_REL } from '../elf/index.js';
import { findPrograms } from './programs.js';
import { attachRelocations } from './relocations.js';
import { readLegacyMaps } from './legacy-maps.js';
import { readGlobals } from './globals.js';
import type { BpfObject, Diagnostic } from './model.js';

function readLicense(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return Buffer.from(bytes.subarray(0, end < 0 ? bytes.length : end)).toString('latin1');
}

/**
 * Read a clang-built BPF object into the program model. Malformed ELF raises ElfError; problems
 * that only some loaders mind are collected as diagnostics instead.
 */
export function readObject(bytes: Uint8Array): BpfObject {
  const elf = parseElf(bytes);
  const diagnostics: Diagnostic[] = [];
  if (elf.machine === EM_NONE) {
    diagnostics.push({ severity: 'warning', code: 'machine-none', message: 'e_machine is EM_NONE rather than EM_BPF (built by an old toolchain); bpfts treats it as BPF' });
  }
  if (elf.type !== ET_REL) {
    diagnostics.push({ severity: 'warning', code: 'not-relocatable', message: `e_type is ${elf.type}, not ET_REL: BPF loaders expect a relocatable object from clang -c` });
  }
  const programs = findPrograms(elf, diagnostics);
  attachRelocations(elf, programs, diagnostics);
  const maps = readLegacyMaps(elf, diagnostics);
  const licenseSection = sectionByName(elf, 'license');
  const versionSection = sectionByName(elf, 'version');
  const object: BpfObject = {
    elf, littleEndian: elf.littleEndian, programs, maps, globals: readGlobals(elf), diagnostics,
  };
  if (licenseSection) object.license = readLicense(licenseSection.data);
  if (versionSection && versionSection.size >= 4) {
    object.kernelVersion = new DataView(versionSection.data.buffer, versionSection.data.byteOffset, 4).getUint32(0, elf.littleEndian);
  }
  const btf = sectionByName(elf, '.BTF');
  const btfExt = sectionByName(elf, '.BTF.ext');
  if (btf) object.btfSection = btf;
  if (btfExt) object.btfExtSection = btfExt;
  return object;
}
