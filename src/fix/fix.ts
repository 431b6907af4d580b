// `bpfts fix`: rewrite an object so that loaders accept it: renamed program sections (with their
// relocation sections and the section names .BTF.ext refers to), DATASEC sizes and variable offsets
// filled in, BTF kinds an older kernel lacks rewritten, .eh_frame dropped. Everything else is left
// as it was; with nothing to do the output is the input, byte for byte.
import { parseElf, writeElf, sectionByName, SHT_REL, SHT_RELA, type ElfFile, type ElfEdits } from '../elf/index.js';
import {
  parseBtf, parseBtfExt, btfContent, encodeBtf, sanitizeBtf, btfFeaturesOf, BtfStringTable, type Btf, type BtfContent,
} from '../btf/index.js';
import { fixupBtf, readObject } from '../object/index.js';
import { BpfError, UsageError } from '../errors.js';

export interface SectionRename {
  from: string;
  to: string;
}

export interface FixOptions {
  /** Program (or data) sections to rename. */
  renames?: readonly SectionRename[];
  /** Fill DATASEC sizes and variable offsets from the ELF (default true). */
  fixupDatasecs?: boolean;
  /** Rewrite BTF kinds this kernel release lacks ("5.4"). */
  sanitizeFor?: string;
  /** Drop .eh_frame and its relocations. */
  stripEhFrame?: boolean;
}

export interface FixResult {
  bytes: Uint8Array;
  /** One line per change, for the report. */
  changes: string[];
  /** False when the output is the input unchanged. */
  changed: boolean;
}

/** A fix that cannot be made as asked: exit code 1, no output written. */
export class FixError extends BpfError {}

/** Section names a loader keys on must be C strings without NULs; libbpf also forbids nothing else. */
function checkName(name: string): void {
  if (name === '' || name.includes('\0')) throw new UsageError(`'${name}' is not a usable section name`);
}

function relocationSectionsOf(elf: ElfFile, index: number) {
  return elf.sections.filter((s) => (s.type === SHT_REL || s.type === SHT_RELA) && s.info === index);
}

/**
 * Rewrite the `sec_name_off` of each func_info / line_info / core_relo block in a .BTF.ext copy
 * (tools/lib/bpf/libbpf_internal.h: struct btf_ext_header, btf_ext_info_sec).
 */
function renameExtSections(ext: Uint8Array, btf: Btf, rename: ReadonlyMap<string, number>): { bytes: Uint8Array; count: number } {
  // Uint8Array.from: a Buffer's slice() would be a view into the input.
  const out = Uint8Array.from(ext);
  const le = out[0] === 0x9f;
  const v = new DataView(out.buffer);
  const hdrLen = v.getUint32(4, le);
  const blocks: [number, number][] = [[8, 12], [16, 20]];
  if (hdrLen >= 32) blocks.push([24, 28]);
  let count = 0;
  for (const [offField, lenField] of blocks) {
    const len = v.getUint32(lenField, le);
    if (len === 0) continue;
    const start = hdrLen + v.getUint32(offField, le);
    const end = start + len;
    const recSize = v.getUint32(start, le);
    for (let p = start + 4; p + 8 <= end;) {
      const name = btf.strings.tryGet(v.getUint32(p, le));
      const n = v.getUint32(p + 4, le);
      const to = name === undefined ? undefined : rename.get(name);
      if (to !== undefined) {
        v.setUint32(p, to, le);
        count++;
      }
      p += 8 + n * recSize;
    }
  }
  return { bytes: out, count };
}

/** Apply `options` to the object in `input`. Throws UsageError/FixError when the fix cannot be made. */
export function fixObject(input: Uint8Array, options: FixOptions = {}): FixResult {
  const elf = parseElf(input);
  const changes: string[] = [];
  const edits: { replace: NonNullable<ElfEdits['replace']>[number][]; rename: NonNullable<ElfEdits['rename']>[number][]; drop: number[] } = { replace: [], rename: [], drop: [] };
  const renames = options.renames ?? [];
  const extRenames = new Map<string, string>();

  const taken = new Set(elf.sections.map((s) => s.name));
  for (const { from, to } of renames) {
    checkName(to);
    const matches = elf.sections.filter((s) => s.name === from && s.index !== 0);
    if (matches.length === 0) throw new UsageError(`no section named '${from}'`, { hint: `sections: ${elf.sections.filter((s) => s.index !== 0).map((s) => s.name).join(', ')}` });
    if (matches.length > 1) throw new FixError(`${matches.length} sections are named '${from}'; bpfts renames only unique names`);
    if (from === to) continue;
    if (taken.has(to)) throw new FixError(`a section named '${to}' already exists`, { hint: 'pick a name no other section has (libbpf keys programs by section and function name)' });
    const section = matches[0]!;
    edits.rename.push({ section: section.index, name: to });
    changes.push(`renamed section ${from} -> ${to}`);
    for (const rel of relocationSectionsOf(elf, section.index)) {
      const prefix = rel.type === SHT_RELA ? '.rela' : '.rel';
      if (rel.name === `${prefix}${from}`) {
        const newName = `${prefix}${to}`;
        if (taken.has(newName)) throw new FixError(`a section named '${newName}' already exists`);
        edits.rename.push({ section: rel.index, name: newName });
        changes.push(`renamed section ${rel.name} -> ${newName}`);
      }
    }
    taken.delete(from);
    taken.add(to);
    extRenames.set(from, to);
  }

  if (options.stripEhFrame) {
    const eh = sectionByName(elf, '.eh_frame');
    if (eh) {
      edits.drop.push(eh.index);
      changes.push('dropped .eh_frame and its relocations');
    }
  }

  const btfSection = sectionByName(elf, '.BTF');
  if (btfSection) {
    let btf: Btf | undefined;
    try {
      btf = parseBtf(btfSection.data);
    } catch (e) {
      if (!(e instanceof BpfError)) throw e;
      // Malformed BTF is left alone unless the fix asked for needs to edit it.
      if (options.sanitizeFor || (extRenames.size > 0 && sectionByName(elf, '.BTF.ext'))) throw new FixError(`cannot edit .BTF: ${e.message}`);
      changes.push(`left .BTF as it is: ${e.message}`);
    }
    if (btf) editBtf(elf, btf, options, extRenames, edits, changes);
  } else if (options.sanitizeFor) {
    changes.push('no .BTF to sanitise');
  }

  if (edits.rename.length === 0 && edits.replace.length === 0 && edits.drop.length === 0) {
    return { bytes: input, changes, changed: false };
  }
  const bytes = writeElf(elf, edits);
  // The output must read back as a BPF object: never hand out something the reader refuses.
  readObject(bytes);
  return { bytes, changes, changed: true };
}

function editBtf(
  elf: ElfFile, btf: Btf, options: FixOptions, extRenames: ReadonlyMap<string, string>,
  edits: { replace: NonNullable<ElfEdits['replace']>[number][] }, changes: string[],
): void {
  let content: BtfContent = btfContent(btf);
  let btfChanged = false;
  if (options.fixupDatasecs ?? true) {
    // Externs stay externs and hidden globals keep their linkage: libbpf decides those at load time.
    const fixed = fixupBtf(elf, btf, { externs: false, hiddenToStatic: false });
    for (const p of fixed.problems) changes.push(`left DATASEC ${p.section} as it is: ${p.message}`);
    if (fixed.changed) {
      content = fixed.content;
      btfChanged = true;
      for (const d of fixed.datasecs) {
        if (d.sizeBefore !== d.sizeAfter) changes.push(`BTF DATASEC ${d.section}: size ${d.sizeBefore} -> ${d.sizeAfter}`);
        const moved = d.vars.filter((x) => x.offsetBefore !== x.offsetAfter);
        if (moved.length) changes.push(`BTF DATASEC ${d.section}: offsets of ${moved.map((x) => `${x.name} -> ${x.offsetAfter}`).join(', ')}`);
        if (d.reordered) changes.push(`BTF DATASEC ${d.section}: variables sorted by offset`);
      }
    }
  }
  const strings = new BtfStringTable(content.strings);
  const offsets = new Map<string, number>();
  for (const [from, to] of extRenames) {
    offsets.set(from, strings.add(to));
    for (const t of content.types) {
      if (t.kind === 'DATASEC' && t.name === from) {
        t.name = to;
        t.nameOff = offsets.get(from)!;
        changes.push(`BTF DATASEC ${from} renamed to ${to}`);
      }
    }
  }
  if (strings.data.length !== content.strings.length) {
    content.strings = strings.data;
    btfChanged = true;
  }
  if (options.sanitizeFor) {
    const sanitized = sanitizeBtf(content, btfFeaturesOf(options.sanitizeFor));
    for (const c of sanitized) changes.push(`BTF [${c.typeId}] ${c.from} -> ${c.to} (for Linux ${options.sanitizeFor})`);
    if (sanitized.length) btfChanged = true;
  }
  if (btfChanged) edits.replace.push({ section: '.BTF', data: encodeBtf(content) });

  const ext = sectionByName(elf, '.BTF.ext');
  if (ext && offsets.size > 0) {
    // The rewrite below walks the blocks the header points at: read them first, so that a header or
    // block length pointing outside the section is a typed error naming it, not an out-of-range read.
    try {
      parseBtfExt(ext.data, btf);
    } catch (e) {
      if (e instanceof BpfError) throw new FixError(`cannot edit .BTF.ext: ${e.message}`, { cause: e });
      throw e;
    }
    const renamed = renameExtSections(ext.data, btf, offsets);
    if (renamed.count > 0) {
      edits.replace.push({ section: '.BTF.ext', data: renamed.bytes });
      changes.push(`.BTF.ext: ${renamed.count} section references renamed`);
    }
  }
}
