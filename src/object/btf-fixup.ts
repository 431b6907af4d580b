// What a loader must do to an object's .BTF before BPF_BTF_LOAD, following libbpf
// (tools/lib/bpf/libbpf.c: btf_fixup_datasec, bpf_object__collect_externs): clang leaves every
// DATASEC's size and its global variables' offsets at 0 because only the ELF section and symbol
// tables know them, and the kernel rejects such a DATASEC ("size == 0", "Invalid offset").
import {
  type ElfFile, SHN_UNDEF, STB_GLOBAL, STB_WEAK, STT_OBJECT, STV_HIDDEN,
} from '../elf/index.js';
import { BtfStringTable, btfContent, encodeBtf, type Btf, type BtfContent, type BtfType, type BtfVar } from '../btf/index.js';

/** STV_INTERNAL (elf.h): like hidden for our purposes. */
const STV_INTERNAL = 1;
/** include/uapi/linux/btf.h: BTF_VAR_* */
const BTF_VAR_STATIC = 0;
const BTF_VAR_GLOBAL_ALLOCATED = 1;
const BTF_VAR_GLOBAL_EXTERN = 2;
/** include/uapi/linux/btf.h: BTF_FUNC_GLOBAL */
const BTF_FUNC_GLOBAL = 1;

/** Sections whose DATASEC describes externs rather than ELF data (libbpf's KCONFIG_SEC, KSYMS_SEC). */
const KCONFIG_SECTIONS = new Set(['.kconfig', '.extern']);
const KSYMS_SECTION = '.ksyms';

export interface VarFixup {
  name: string;
  typeId: number;
  offsetBefore: number;
  offsetAfter: number;
  size: number;
  /** Linkage as clang wrote it and as the kernel will see it (hidden globals become static). */
  linkageBefore: number;
  linkageAfter: number;
}

export interface DatasecFixup {
  typeId: number;
  section: string;
  sizeBefore: number;
  sizeAfter: number;
  vars: VarFixup[];
  /** The variables were not in offset order and have been sorted. */
  reordered: boolean;
}

export interface BtfFixupProblem {
  section: string;
  typeId: number;
  /** libbpf's wording where libbpf reports the same problem. */
  message: string;
}

export interface BtfFixupResult {
  /** The fixed-up types and strings; encodeBtf(content) gives the bytes. */
  content: BtfContent;
  datasecs: DatasecFixup[];
  /** DATASECs libbpf would refuse to fix up; libbpf then fails to open the object. */
  problems: BtfFixupProblem[];
  /** Whether anything differs from the input BTF. */
  changed: boolean;
}

function findVarSymbol(elf: ElfFile, name: string) {
  return elf.symbols.find((s) => s.type === STT_OBJECT && (s.bind === STB_GLOBAL || s.bind === STB_WEAK) && s.name === name);
}

/** btf__align_of, enough for the scalar, array and struct types kconfig externs have. */
function alignOf(btf: Btf, id: number, depth = 0): number {
  if (depth > 32) return 1;
  const t = btf.types[btf.skipModsAndTypedefs(id)];
  switch (t?.kind) {
    case 'INT': case 'ENUM': case 'ENUM64': case 'FLOAT': return Math.min(t.size, 8) || 1;
    case 'PTR': return 8;
    case 'ARRAY': return alignOf(btf, t.type, depth + 1);
    case 'STRUCT': case 'UNION': return Math.max(1, ...t.members.map((m) => alignOf(btf, m.type, depth + 1)));
    default: return 1;
  }
}

function sizeOr(btf: Btf, id: number, fallback: number): number {
  try {
    return btf.resolveSize(id);
  } catch {
    return fallback;
  }
}

export interface BtfFixupOptions {
  /**
   * Lay out `.kconfig` / `.ksyms` externs as libbpf does just before loading (default true). An
   * object written back to disk must keep them as externs, or libbpf no longer recognises them.
   */
  externs?: boolean;
  /** Turn hidden globals into static VARs, as libbpf does in memory (default true). */
  hiddenToStatic?: boolean;
}

/**
 * Fill in DATASEC sizes and variable offsets from `elf`, lay out `.kconfig` / `.ksyms` externs and
 * sort every DATASEC's variables by offset, as libbpf does when it opens an object. Nothing in
 * `btf` is modified.
 */
export function fixupBtf(elf: ElfFile, btf: Btf, options: BtfFixupOptions = {}): BtfFixupResult {
  const externs = options.externs ?? true;
  const hiddenToStatic = options.hiddenToStatic ?? true;
  const content = btfContent(btf);
  const strings = new BtfStringTable(content.strings);
  const types = content.types;
  const byId = (id: number): BtfType | undefined => types[id - btf.startId];
  const datasecs: DatasecFixup[] = [];
  const problems: BtfFixupProblem[] = [];
  let changed = false;

  for (const t of types) {
    if (t.kind !== 'DATASEC') continue;
    const fix: DatasecFixup = { typeId: t.id, section: t.name, sizeBefore: t.size, sizeAfter: t.size, vars: [], reordered: false };
    const problem = (message: string): void => { problems.push({ section: t.name, typeId: t.id, message }); };
    const vars = t.vars.map((v) => ({ v, var: byId(v.type) }));
    const noteVar = (v: { offset: number; size: number; type: number }, vt: BtfVar | undefined, before: { offset: number; linkage: number }): void => {
      fix.vars.push({
        name: vt?.name ?? '', typeId: v.type, offsetBefore: before.offset, offsetAfter: v.offset, size: v.size,
        linkageBefore: before.linkage, linkageAfter: vt?.linkage ?? before.linkage,
      });
    };

    if (!externs && (KCONFIG_SECTIONS.has(t.name) || t.name === KSYMS_SECTION)) continue;
    if (KCONFIG_SECTIONS.has(t.name)) {
      // Externs get offsets by alignment (largest first), then size, then name; the whole
      // section becomes one map whose size is the end of the last one.
      const externs = vars.filter((x): x is { v: typeof x.v; var: BtfVar } => x.var?.kind === 'VAR')
        .map((x) => ({ ...x, align: alignOf(btf, x.var.type), size: sizeOr(btf, x.var.type, x.v.size) }))
        .sort((a, b) => b.align - a.align || a.size - b.size || (a.var.name < b.var.name ? -1 : a.var.name > b.var.name ? 1 : 0));
      let off = 0;
      for (const x of externs) {
        const before = { offset: x.v.offset, linkage: x.var.linkage };
        off = Math.ceil(off / x.align) * x.align;
        x.v.offset = off;
        x.v.size = x.size;
        off += x.size;
        x.var.linkage = BTF_VAR_GLOBAL_ALLOCATED;
        noteVar(x.v, x.var, before);
      }
      t.size = off;
    } else if (t.name === KSYMS_SECTION) {
      // Typeless ksyms and kfunc declarations become 4-byte int variables; typed ones keep their size.
      const intType = types.find((x) => x.kind === 'INT' && x.size === 4 && x.bits === 32);
      let dummyId = 0;
      let off = 0;
      for (const x of vars) {
        const before = { offset: x.v.offset, linkage: x.var?.kind === 'VAR' ? x.var.linkage : BTF_VAR_GLOBAL_EXTERN };
        if (x.var?.kind === 'FUNC') {
          if (dummyId === 0) {
            dummyId = btf.startId + types.length;
            const nameOff = strings.add('dummy_ksym');
            types.push({ id: dummyId, offset: 0, kind: 'VAR', name: 'dummy_ksym', nameOff, info: 0, type: intType?.id ?? 0, linkage: BTF_VAR_GLOBAL_ALLOCATED });
          }
          // The kernel wants every parameter of a FUNC named; extern declarations often are not.
          const proto = byId(x.var.type);
          if (proto?.kind === 'FUNC_PROTO') {
            const dummyName = (byId(dummyId) as BtfVar).nameOff;
            for (const p of proto.params) if (p.type !== 0 && p.nameOff === 0) p.nameOff = dummyName;
          }
          x.var.linkage = BTF_FUNC_GLOBAL;
          x.v.type = dummyId;
          x.v.size = 4;
        } else if (x.var?.kind === 'VAR') {
          x.var.linkage = BTF_VAR_GLOBAL_ALLOCATED;
          if (x.var.type === 0 || btf.types[btf.skipModsAndTypedefs(x.var.type)]?.kind === 'VOID') {
            x.var.type = intType?.id ?? 0;
            x.v.size = 4;
          }
        }
        x.v.offset = off;
        off += x.v.size;
        noteVar(x.v, x.var?.kind === 'VAR' ? x.var : undefined, before);
      }
      t.size = off;
      if (!intType && vars.length > 0) problem("no 4-byte INT in BTF to stand in for typeless ksyms");
    } else {
      let fixOffsets = false;
      if (t.size === 0) {
        const sec = elf.sections.find((s) => s.name === t.name && s.index !== 0);
        if (!sec || sec.size === 0) {
          problem(`failed to determine size from ELF: size ${sec?.size ?? 0}, err ${sec ? 0 : -2}`);
          continue;
        }
        t.size = sec.size;
        fixOffsets = true;
      }
      for (const x of vars) {
        if (x.var?.kind !== 'VAR') {
          problem('unexpected non-VAR type found');
          continue;
        }
        const before = { offset: x.v.offset, linkage: x.var.linkage };
        if (x.var.linkage === BTF_VAR_STATIC || x.var.linkage === BTF_VAR_GLOBAL_EXTERN) {
          noteVar(x.v, x.var, before);
          continue;
        }
        const sym = findVarSymbol(elf, x.var.name);
        if (!sym || sym.shndx === SHN_UNDEF) {
          problem(`failed to find ELF symbol for VAR '${x.var.name}'`);
          continue;
        }
        if (fixOffsets) x.v.offset = sym.value;
        if (hiddenToStatic && (sym.visibility === STV_HIDDEN || sym.visibility === STV_INTERNAL)) x.var.linkage = BTF_VAR_STATIC;
        noteVar(x.v, x.var, before);
      }
    }
    const sorted = [...t.vars].sort((a, b) => a.offset - b.offset);
    fix.reordered = sorted.some((v, i) => v !== t.vars[i]);
    t.vars = sorted;
    fix.sizeAfter = t.size;
    if (fix.reordered || fix.sizeBefore !== fix.sizeAfter || fix.vars.some((v) => v.offsetBefore !== v.offsetAfter || v.linkageBefore !== v.linkageAfter)) {
      changed = true;
    }
    datasecs.push(fix);
  }
  if (content.types.length !== btf.ownTypes().length) changed = true;
  content.strings = strings.data;
  return { content, datasecs, problems, changed };
}

/** The .BTF bytes a loader hands to BPF_BTF_LOAD for `elf`: fixed up, or the original when nothing changes. */
export function fixedBtfBytes(elf: ElfFile, btf: Btf): Uint8Array {
  const result = fixupBtf(elf, btf);
  return result.changed ? encodeBtf(result.content) : btf.records.bytes;
}
