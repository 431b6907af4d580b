import { parseElf, sectionByName, EM_NONE, ET_REL, type ElfFile } from '../elf/index.js';
import { parseBtf, parseBtfExt, type Btf, type BtfExt } from '../btf/index.js';
import { BpfError } from '../errors.js';
import { readBtfMaps } from './btf-maps.js';
import { attachBtfExt, markKfuncCalls } from './btf-ext.js';
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
  if (versionSection && versionSection.data.length >= 4) {
    object.kernelVersion = new DataView(versionSection.data.buffer, versionSection.data.byteOffset, 4).getUint32(0, elf.littleEndian);
  }
  readBtf(elf, object);
  if (object.btf) {
    object.maps.push(...readBtfMaps(object.btf, diagnostics));
    markKfuncCalls(programs, object.btf);
    if (object.btfExt) attachBtfExt(programs, object.btf, object.btfExt, diagnostics);
  } else if (sectionByName(elf, '.maps')) {
    diagnostics.push({ severity: 'error', code: 'btf-maps-without-btf', section: '.maps', message: 'the object defines maps in .maps but has no usable BTF to describe them', hint: 'build with clang -g' });
  }
  return object;
}

/** Parse .BTF and .BTF.ext; a malformed one becomes a diagnostic, since the programs may still be usable. */
function readBtf(elf: ElfFile, object: BpfObject): void {
  const btfSection = sectionByName(elf, '.BTF');
  const extSection = sectionByName(elf, '.BTF.ext');
  if (extSection) object.btfExtSection = extSection;
  if (!btfSection) return;
  object.btfSection = btfSection;
  let btf: Btf;
  try {
    btf = parseBtf(btfSection.data);
  } catch (e) {
    if (!(e instanceof BpfError)) throw e;
    object.diagnostics.push({ severity: 'error', code: 'btf-invalid', section: '.BTF', message: e.message });
    return;
  }
  object.btf = btf;
  if (!extSection) return;
  let ext: BtfExt;
  try {
    ext = parseBtfExt(extSection.data, btf);
  } catch (e) {
    if (!(e instanceof BpfError)) throw e;
    object.diagnostics.push({ severity: 'error', code: 'btf-ext-invalid', section: '.BTF.ext', message: e.message });
    return;
  }
  object.btfExt = ext;
}
