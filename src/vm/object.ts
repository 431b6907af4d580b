// Programs of an ELF object made runnable, as libbpf would load them: maps created from their
// definitions, global data sections as one-element array maps holding their initial contents (frozen
// for .rodata*/.kconfig), `.text` sub-programs appended after the entry program with call offsets
// fixed, and ld_imm64 instructions pointing at map handles or into global data.
import type { Btf, BtfExt } from '../btf/index.js';
import { BpfError } from '../errors.js';
import { sectionByName } from '../elf/index.js';
import { BPF_INSN_SIZE, BPF_PSEUDO_FUNC, BPF_PSEUDO_KFUNC_CALL, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE } from '../isa/opcodes.js';
import { applyCoreRelocations, CoreRelocationError, legacyInnerMap, readMapSlotInits, type BpfObject, type BpfProgram, type MapDefinition, type ProgramRelocation } from '../object/index.js';
import { BPF_F_RDONLY_PROG, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS } from '../uapi/index.js';
import { decodeProgram, type Program } from './decode.js';
import { ArrayMap } from './maps/array.js';
import type { BpfMap, MapDef } from './maps/map.js';
import { MapError, type MapRegistry } from './maps/registry.js';

/** The object cannot be run by the emulator (an extern, an unknown relocation, a big-endian object...). */
export class EmulatorError extends BpfError {}

export interface ObjectMap {
  name: string;
  /** Index in the registry (what BPF_PSEUDO_MAP_FD refers to), or undefined when the type is not emulated. */
  fd: number | undefined;
  map: BpfMap | undefined;
  /** Why the map could not be created. */
  error?: string;
  /** For global data: the section. */
  section?: string;
}

/** Create every map and global data section of `obj` in `registry`. */
export function createObjectMaps(obj: BpfObject, registry: MapRegistry): ObjectMap[] {
  const out: ObjectMap[] = [];
  for (const def of obj.maps) {
    try {
      const inner = innerDefinition(obj, def);
      const { fd, map } = registry.create({ ...mapDef(def), ...(inner ? { inner: mapDef(inner) } : {}) });
      out.push({ name: def.name, fd, map, section: def.section });
    } catch (e) {
      if (!(e instanceof MapError)) throw e;
      out.push({ name: def.name, fd: undefined, map: undefined, error: e.message, section: def.section });
    }
  }
  for (const g of obj.globals) {
    if (g.size === 0) continue;
    const { fd, map } = registry.create({
      type: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: g.size, maxEntries: 1,
      flags: g.readOnly ? BPF_F_RDONLY_PROG : 0, name: g.section,
    });
    (map as ArrayMap).element(0).set(g.bytes.subarray(0, g.size));
    out.push({ name: g.section, fd, map, section: g.section });
  }
  for (const s of readMapSlotInits(obj)) {
    if (s.kind !== 'map') continue;
    const outer = out.find((m) => m.name === s.map && m.section === '.maps');
    const target = out.find((m) => m.name === s.target && m.section === '.maps');
    // libbpf would not have loaded an object with either missing; the emulator fails only when used.
    if (outer?.map === undefined || target?.fd === undefined) continue;
    const r = outer.map.update(u32(s.index), u32(target.fd), 0);
    if (r < 0) {
      throw new EmulatorError(`cannot put map '${s.target}' into slot ${s.index} of map '${s.map}' (errno ${-r})`, {
        hint: 'an inner map must have the type, key and value sizes and flags of the declared inner map (arrays also its max_entries)',
      });
    }
  }
  return out;
}

function mapDef(def: MapDefinition): MapDef {
  return { type: def.type, keySize: def.keySize, valueSize: def.valueSize, maxEntries: def.maxEntries, flags: def.flags, name: def.name };
}

/** The inner map template of a map of maps: BTF `__array(values, ...)`, or legacy inner_map_idx. */
function innerDefinition(obj: BpfObject, def: MapDefinition): MapDefinition | undefined {
  if (def.type !== BPF_MAP_TYPE_ARRAY_OF_MAPS && def.type !== BPF_MAP_TYPE_HASH_OF_MAPS) return undefined;
  return def.inner ?? legacyInnerMap(obj.maps, def);
}

export function u32(n: number): Uint8Array {
  return new Uint8Array(new Uint32Array([n]).buffer);
}

/** Where instruction `pc` of a linked program came from, for source lines in faults. */
export interface LinkedProgram {
  name: string;
  section: string;
  program: Program;
  /** Section and byte offset in it of instruction pc. */
  origin(pc: number): { section: string; offset: number };
  /** Names of kfuncs by the imm the linked calls carry. */
  kfuncs: string[];
}

function setLdImm64(code: DataView, at: number, src: number, imm: number, nextImm: number): void {
  const p = at * BPF_INSN_SIZE;
  code.setUint8(p + 1, (code.getUint8(p + 1) & 0x0f) | (src << 4));
  code.setInt32(p + 4, imm, true);
  code.setInt32(p + 12, nextImm, true);
}

/**
 * Link entry program `prog` of `obj` against the maps made by createObjectMaps and decode it. With
 * `coreTarget`, the BTF of the kernel being emulated, CO-RE relocations are applied as libbpf
 * applies them at load time; without it the program keeps the offsets of its own headers.
 */
export function linkProgram(obj: BpfObject, prog: BpfProgram, maps: ObjectMap[], registry: MapRegistry, coreTarget?: Btf): LinkedProgram {
  if (!obj.littleEndian) {
    throw new EmulatorError(`${prog.name}: the emulator runs little-endian (bpfel) objects only`, { hint: 'build with -target bpfel' });
  }
  const text = obj.programs.filter((p) => p.section === '.text');
  const needsText = prog.section !== '.text' && prog.relocations.some((r) => (r.kind === 'call' || r.kind === 'subprog-address') && r.targetSection === '.text');
  const textSection = needsText ? sectionByName(obj.elf, '.text') : undefined;
  const textBase = prog.insnCount;
  const bytes = new Uint8Array(prog.size + (textSection?.size ?? 0));
  bytes.set(prog.bytes);
  if (textSection) bytes.set(textSection.data.subarray(0, textSection.size - (textSection.size % BPF_INSN_SIZE)), prog.size);
  const view = new DataView(bytes.buffer);
  const kfuncs: string[] = [];

  const where = (r: ProgramRelocation, owner: BpfProgram) => `${prog.name} (${owner.section}${owner === prog ? '' : `:${owner.name}`}) instruction ${r.insn}`;
  const mapFd = (name: string, r: ProgramRelocation, owner: BpfProgram): number => {
    const m = maps.find((x) => x.name === name && (r.targetSection === undefined || x.section === r.targetSection)) ??
      maps.find((x) => x.name === name);
    if (m === undefined) throw new EmulatorError(`${where(r, owner)} refers to map '${name}', which the object does not define`);
    if (m.fd === undefined) throw new EmulatorError(`${where(r, owner)} uses ${m.error ?? `map '${name}'`}`);
    return m.fd;
  };

  const apply = (owner: BpfProgram, base: number) => {
    for (const r of owner.relocations) {
      const at = base + r.insn;
      const imm = view.getInt32(at * BPF_INSN_SIZE + 4, true);
      switch (r.kind) {
        case 'map': {
          let name = r.target;
          if (r.symbol.type === 3 /* STT_SECTION */) {
            const off = r.symbol.value + imm;
            name = obj.maps.find((d) => d.section === r.targetSection && d.offset === off)?.name ?? name;
          }
          setLdImm64(view, at, BPF_PSEUDO_MAP_FD, mapFd(name, r, owner), 0);
          break;
        }
        case 'global-data':
          setLdImm64(view, at, BPF_PSEUDO_MAP_VALUE, mapFd(r.targetSection!, r, owner), r.dataOffset ?? 0);
          break;
        case 'call':
        case 'subprog-address': {
          const local = r.kind === 'call' ? r.symbol.value / BPF_INSN_SIZE + imm + 1 : (r.symbol.value + imm) / BPF_INSN_SIZE;
          let target: number;
          if (r.targetSection === '.text' && owner.section !== '.text' && !textSection) {
            throw new EmulatorError(`${where(r, owner)} calls into .text, which is missing`);
          }
          if (r.targetSection === '.text') target = textBase + local;
          else if (r.targetSection === prog.section && owner === prog) target = local - prog.offset / BPF_INSN_SIZE;
          else throw new EmulatorError(`${where(r, owner)} calls ${r.target} in section ${r.targetSection}, outside the program`);
          if (!Number.isInteger(target)) throw new EmulatorError(`${where(r, owner)}: call target ${r.target} is not on an instruction`);
          if (r.kind === 'call') view.setInt32(at * BPF_INSN_SIZE + 4, target - (at + 1), true);
          else setLdImm64(view, at, BPF_PSEUDO_FUNC, target - (at + 1), 0);
          break;
        }
        case 'kfunc':
        case 'extern-call': {
          const p = at * BPF_INSN_SIZE;
          view.setUint8(p + 1, (view.getUint8(p + 1) & 0x0f) | (BPF_PSEUDO_KFUNC_CALL << 4));
          view.setInt32(p + 4, kfuncs.length, true);
          kfuncs.push(`${r.target} (program ${prog.name}, instruction ${at})`);
          break;
        }
        case 'extern':
          throw new EmulatorError(`unsupported: extern ${r.target} in ${where(r, owner)}`, {
            hint: 'the emulator has no kernel configuration or kernel symbols (__kconfig, __ksym)',
          });
        default:
          throw new EmulatorError(`${where(r, owner)}: relocation against ${r.target} (${r.kind}) cannot be emulated`);
      }
    }
  };

  const core = (fn: BpfProgram, at: number) => {
    if (coreTarget === undefined || fn.coreRelocations.length === 0) return;
    if (obj.btf === undefined) throw new EmulatorError(`${fn.name} has CO-RE relocations but the object's BTF is unusable`);
    try {
      applyCoreRelocations(bytes.subarray(at, at + fn.size), fn, obj.btf, coreTarget);
    } catch (e) {
      if (e instanceof CoreRelocationError) throw new EmulatorError(e.message, { cause: e });
      throw e;
    }
  };
  core(prog, 0);
  if (textSection) for (const sub of text) core(sub, textBase * BPF_INSN_SIZE + sub.offset);
  apply(prog, 0);
  if (textSection) for (const sub of text) apply(sub, textBase + sub.offset / BPF_INSN_SIZE);

  let program: Program;
  try {
    program = decodeProgram(bytes, { resolveLdImm64: registry.resolveLdImm64 });
  } catch (e) {
    if (e instanceof BpfError) throw new EmulatorError(`${prog.name}: ${e.message}`, { cause: e });
    throw e;
  }
  return {
    name: prog.name,
    section: prog.section,
    program,
    kfuncs,
    origin: (pc) => (pc < textBase
      ? { section: prog.section, offset: prog.offset + pc * BPF_INSN_SIZE }
      : { section: '.text', offset: (pc - textBase) * BPF_INSN_SIZE }),
  };
}

/** `file:line: text` of the C source line an instruction came from, from .BTF.ext line_info. */
export function sourceLineAt(ext: BtfExt | undefined, section: string, offset: number): string | undefined {
  const records = ext?.lineInfo.find((s) => s.section === section)?.records;
  if (!records) return undefined;
  let best: (typeof records)[number] | undefined;
  for (const r of records) if (r.insnOff <= offset && (best === undefined || r.insnOff >= best.insnOff)) best = r;
  if (best === undefined) return undefined;
  const file = best.fileName.split('/').pop();
  return `${file}:${best.lineNum}: ${best.line.trim()}`;
}
