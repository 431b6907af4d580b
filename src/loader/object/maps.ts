// The maps of an object: one per map definition (legacy bpf_map_def, iproute2 bpf_elf_map, BTF
// .maps) and one single-element array per global data section, named, sized and typed the way
// libbpf creates them so that bpftool shows the same thing for both loaders.
import { existsSync, mkdirSync, rmdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { mapDefFromStruct, type Btf } from '../../btf/index.js';
import { legacyInnerMap, type BpfObject, type GlobalDataSection, type MapDefinition } from '../../object/index.js';
import {
  BPF_F_MMAPABLE, BPF_F_RDONLY_PROG, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS,
  BPF_MAP_TYPE_PERF_EVENT_ARRAY, BPF_MAP_TYPE_RINGBUF, BPF_MAP_TYPE_USER_RINGBUF, BPF_MAP_TYPE_NAMES,
} from '../../uapi/index.js';
import { BPF_OBJ_NAME_LEN } from '../abi/index.js';
import { mapCreate, mapFreeze, mapGetInfo, mapUpdateElem, objGet, objPin, type MapCreateOptions } from '../sys/bpf.js';
import { SyscallError } from '../sys/errors.js';
import { possibleCpus } from '../sys/cpus.js';
import type { Fd } from '../sys/fd.js';
import { LoadError } from './errors.js';
import type { Undo } from './undo.js';

/** tools/lib/bpf/libbpf.h: enum libbpf_pin_type. */
export const LIBBPF_PIN_BY_NAME = 1;
/** iproute2 include/bpf_elf.h: PIN_OBJECT_NS, PIN_GLOBAL_NS. */
export const PIN_OBJECT_NS = 1;
export const PIN_GLOBAL_NS = 2;
/** Where tc pins PIN_GLOBAL_NS maps, so that tc and bpfts share them. */
export const TC_GLOBALS_DIR = '/sys/fs/bpf/tc/globals';
export const BPFFS = '/sys/fs/bpf';

export interface MapSpec {
  /** The name as in the object: the map's symbol, or the data section's name. */
  objectName: string;
  /** The name given to the kernel (at most BPF_OBJ_NAME_LEN - 1 bytes). */
  name: string;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  numaNode?: number;
  mapExtra?: bigint;
  btfKeyTypeId?: number;
  btfValueTypeId?: number;
  /** The template of the inner maps of a map-in-map. */
  inner?: MapSpec;
  /** Where the map is (or is to be) pinned. */
  pinPath?: string;
  /** Global data: the section's initial contents, stored as element 0. */
  data?: GlobalDataSection;
  /** Frozen after filling: .rodata and other read-only sections. */
  freeze: boolean;
  definition?: MapDefinition;
}

export interface CreatedMap {
  spec: MapSpec;
  fd: Fd;
  /** The map was already pinned and is shared rather than created. */
  reused: boolean;
  /** Set when this load pinned it. */
  pinnedAt?: string;
}

/** Characters the kernel accepts in object names (kernel/bpf/syscall.c bpf_obj_name_cpy). */
function sanitizeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.]/g, '_');
}

/** A map's kernel name: its object name cut to BPF_OBJ_NAME_LEN - 1 bytes, as libbpf passes it. */
export function kernelMapName(name: string): string {
  return sanitizeName(name).slice(0, BPF_OBJ_NAME_LEN - 1);
}

/**
 * libbpf's internal_map_name: up to 8 characters of the object name (file name up to its first
 * dot) followed by the section name, unless the section name has a second dot (`.rodata.str1.1`,
 * `.data.custom`), which is then used alone; at most BPF_OBJ_NAME_LEN - 1 characters in all.
 */
export function dataMapName(objectName: string, section: string): string {
  const sfxLen = Math.max(7, section.length);
  const pfxLen = section.indexOf('.', 1) >= 0 ? 0 : Math.max(0, Math.min(BPF_OBJ_NAME_LEN - sfxLen - 1, objectName.length));
  return sanitizeName(`${objectName.slice(0, pfxLen)}${section}`).slice(0, BPF_OBJ_NAME_LEN - 1);
}

/** Kernels want ringbuf key/value sizes 0 and perf event array 4/4, whatever the BTF type says. */
function kernelSizes(type: number, keySize: number, valueSize: number): { keySize: number; valueSize: number; btf: boolean } {
  if (type === BPF_MAP_TYPE_RINGBUF || type === BPF_MAP_TYPE_USER_RINGBUF) return { keySize: 0, valueSize: 0, btf: false };
  if (type === BPF_MAP_TYPE_PERF_EVENT_ARRAY) return { keySize: 4, valueSize: 4, btf: false };
  if (type === BPF_MAP_TYPE_ARRAY_OF_MAPS || type === BPF_MAP_TYPE_HASH_OF_MAPS) return { keySize, valueSize: 4, btf: false };
  return { keySize, valueSize, btf: true };
}

function fromDefinition(def: MapDefinition, btf: Btf | undefined, maps: readonly MapDefinition[]): MapSpec {
  const sizes = kernelSizes(def.type, def.keySize, def.valueSize);
  const spec: MapSpec = {
    objectName: def.name, name: kernelMapName(def.name), type: def.type, keySize: sizes.keySize,
    valueSize: sizes.valueSize, maxEntries: def.maxEntries, flags: def.flags, freeze: false, definition: def,
  };
  // libbpf sizes a perf event array left at 0 entries to the number of possible CPUs.
  if (def.type === BPF_MAP_TYPE_PERF_EVENT_ARRAY && spec.maxEntries === 0) spec.maxEntries = possibleCpus();
  if (def.numaNode !== undefined) spec.numaNode = def.numaNode;
  if (def.mapExtra !== undefined) spec.mapExtra = BigInt(def.mapExtra);
  if (sizes.btf && def.style === 'btf') {
    if (def.keyTypeId !== undefined) spec.btfKeyTypeId = def.keyTypeId;
    if (def.valueTypeId !== undefined) spec.btfValueTypeId = def.valueTypeId;
  }
  const mapInMap = def.type === BPF_MAP_TYPE_ARRAY_OF_MAPS || def.type === BPF_MAP_TYPE_HASH_OF_MAPS;
  if (mapInMap) {
    const inner = innerDefinition(def, btf, maps);
    if (!inner) {
      throw new LoadError(`map '${def.name}' is a map of maps but declares no inner map`, {
        map: def.name, hint: 'declare it with __array(values, struct { ... }) or set inner_map_idx',
      });
    }
    spec.inner = fromDefinition(inner, btf, maps);
  }
  return spec;
}

function innerDefinition(def: MapDefinition, btf: Btf | undefined, maps: readonly MapDefinition[]): MapDefinition | undefined {
  if (def.inner) return def.inner;
  if (def.style === 'btf' && btf && def.btfTypeId !== undefined) {
    const outer = mapDefFromStruct(btf, def.btfTypeId, def.name);
    if (outer.values === undefined) return undefined;
    const d = mapDefFromStruct(btf, outer.values, `${def.name}.inner`);
    const size = (t: number | undefined, explicit: number | undefined) => explicit ?? (t === undefined ? 0 : btf.resolveSize(t));
    const inner: MapDefinition = {
      name: d.name, style: 'btf', section: def.section, offset: 0, type: d.type ?? 0,
      keySize: size(d.key, d.keySize), valueSize: size(d.value, d.valueSize), maxEntries: d.maxEntries ?? 0,
      flags: d.mapFlags ?? 0, pinning: 0,
    };
    if (d.key !== undefined) inner.keyTypeId = d.key;
    if (d.value !== undefined) inner.valueTypeId = d.value;
    return inner;
  }
  return legacyInnerMap(maps, def);
}

function fromData(data: GlobalDataSection, objectName: string, btf: Btf | undefined): MapSpec {
  const datasec = btf?.find(data.section, 'DATASEC');
  const spec: MapSpec = {
    objectName: data.section, name: dataMapName(objectName, data.section), type: BPF_MAP_TYPE_ARRAY, keySize: 4,
    valueSize: data.size, maxEntries: 1, flags: (data.readOnly ? BPF_F_RDONLY_PROG : 0) | BPF_F_MMAPABLE,
    data, freeze: data.readOnly,
  };
  if (datasec) spec.btfValueTypeId = datasec.id;
  return spec;
}

export interface MapPlanOptions {
  /** libbpf's object name: the file name up to its first dot. */
  objectName: string;
  /** Directory for LIBBPF_PIN_BY_NAME maps (default /sys/fs/bpf). */
  pinDir?: string;
  /** Pin every map in pinDir, reusing those already there. */
  pinAll?: boolean;
  /** The bpffs mount holding by-name and tc/globals pins (default /sys/fs/bpf). */
  bpffsRoot?: string;
  /** The `.kconfig` externs' values, which become one more read-only data map (after the others, as libbpf orders them). */
  kconfig?: GlobalDataSection;
}

/** Every map the object needs, in the order libbpf creates them: definitions, then global data. */
export function planMaps(obj: BpfObject, o: MapPlanOptions): MapSpec[] {
  const specs = obj.maps.map((def) => {
    const spec = fromDefinition(def, obj.btf, obj.maps);
    const root = o.bpffsRoot ?? BPFFS;
    const dir = o.pinDir ?? root;
    if (def.style === 'iproute2' && def.pinning === PIN_GLOBAL_NS) spec.pinPath = `${root}${TC_GLOBALS_DIR.slice(BPFFS.length)}/${def.name}`;
    else if (def.pinning === LIBBPF_PIN_BY_NAME || o.pinAll) spec.pinPath = `${dir}/${def.name}`;
    return spec;
  });
  // .kconfig is the extern resolver's, whatever the ELF says.
  const datas = [...obj.globals.filter((d) => d.section !== '.kconfig'), ...(o.kconfig ? [o.kconfig] : [])];
  for (const data of datas) {
    if (data.size === 0) continue;
    const spec = fromData(data, o.objectName, obj.btf);
    // bpffs refuses names with a dot (EPERM), so libbpf pins "obj.rodata" as "obj_rodata".
    if (o.pinAll && o.pinDir) spec.pinPath = `${o.pinDir}/${spec.name.replace(/\./g, '_')}`;
    specs.push(spec);
  }
  return specs;
}

function createOptions(spec: MapSpec, btfFd: Fd | undefined, innerFd: Fd | undefined): MapCreateOptions {
  const o: MapCreateOptions = {
    type: spec.type, keySize: spec.keySize, valueSize: spec.valueSize, maxEntries: spec.maxEntries,
    flags: spec.flags, name: spec.name,
  };
  if (spec.numaNode !== undefined) o.numaNode = spec.numaNode;
  if (spec.mapExtra !== undefined) o.mapExtra = spec.mapExtra;
  if (innerFd) o.innerMapFd = innerFd;
  if (btfFd && (spec.btfKeyTypeId !== undefined || spec.btfValueTypeId !== undefined)) {
    o.btfFd = btfFd;
    if (spec.btfKeyTypeId !== undefined) o.btfKeyTypeId = spec.btfKeyTypeId;
    if (spec.btfValueTypeId !== undefined) o.btfValueTypeId = spec.btfValueTypeId;
  }
  return o;
}

function typeName(type: number): string {
  return BPF_MAP_TYPE_NAMES[type]?.replace(/^BPF_MAP_TYPE_/, '').toLowerCase() ?? `type ${type}`;
}

/** Creates one map, retrying without BTF when the kernel refuses the BTF description (as libbpf does). */
function createOne(spec: MapSpec, btfFd: Fd | undefined, warn: (m: string) => void): Fd {
  let inner: Fd | undefined;
  try {
    if (spec.inner) inner = createOne(spec.inner, btfFd, warn);
    const o = createOptions(spec, btfFd, inner);
    try {
      return mapCreate(o);
    } catch (e) {
      if (!(e instanceof SyscallError) || o.btfFd === undefined) throw e;
      warn(`map '${spec.objectName}': the kernel refused its BTF description (${e.errnoName}); creating it without BTF`);
      const { btfFd: _f, btfKeyTypeId: _k, btfValueTypeId: _v, ...plain } = o;
      return mapCreate(plain);
    }
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    throw new LoadError(
      `cannot create map '${spec.objectName}' (${typeName(spec.type)}, key ${spec.keySize} B, value ${spec.valueSize} B, ${spec.maxEntries} entries, flags 0x${spec.flags.toString(16)}): ${e.message}`,
      { map: spec.objectName, cause: e },
    );
  } finally {
    inner?.close();
  }
}

/** Opens the map pinned at `path` when it matches `spec`; a mismatch is an error naming the field. */
function reusePinned(spec: MapSpec, path: string): Fd {
  const fd = objGet(path, 0, 'map');
  try {
    const info = mapGetInfo(fd);
    const diffs: string[] = [];
    const cmp = (what: string, have: number, want: number) => { if (have !== want) diffs.push(`${what} ${have} (object wants ${want})`); };
    cmp('type', info.type, spec.type);
    cmp('key size', info.keySize, spec.keySize);
    cmp('value size', info.valueSize, spec.valueSize);
    cmp('max entries', info.maxEntries, spec.maxEntries);
    cmp('flags', info.flags, spec.flags);
    if (diffs.length > 0) {
      throw new LoadError(`map '${spec.objectName}': the map pinned at ${path} is not compatible: ${diffs.join(', ')}`, {
        map: spec.objectName, hint: `remove the stale pin (rm ${path}) or pin elsewhere with --pin DIR`,
      });
    }
    return fd;
  } catch (e) {
    fd.close();
    throw e;
  }
}

function fill(spec: MapSpec, fd: Fd): void {
  if (!spec.data) return;
  const key = new Uint8Array(4);
  mapUpdateElem(fd, key, spec.data.bytes);
  if (spec.freeze) mapFreeze(fd);
}

/** Creates directories on bpffs up to `dir`, registering the ones it made for removal. */
export function ensureDir(dir: string, undo: Undo): void {
  if (existsSync(dir)) return;
  ensureDir(dirname(dir), undo);
  mkdirSync(dir);
  undo.push(`remove directory ${dir}`, () => rmdirSync(dir));
}

/** Creates (or reuses pinned) maps, fills global data and pins; every step is registered in `undo`. */
export function createMaps(specs: readonly MapSpec[], btfFd: Fd | undefined, undo: Undo, warn: (m: string) => void): CreatedMap[] {
  const out: CreatedMap[] = [];
  for (const spec of specs) {
    if (spec.pinPath && existsSync(spec.pinPath)) {
      const fd = reusePinned(spec, spec.pinPath);
      undo.push(`close map ${spec.objectName}`, () => fd.close());
      out.push({ spec, fd, reused: true });
      continue;
    }
    const fd = createOne(spec, btfFd, warn);
    undo.push(`close map ${spec.objectName}`, () => fd.close());
    fill(spec, fd);
    const created: CreatedMap = { spec, fd, reused: false };
    if (spec.pinPath) {
      ensureDir(dirname(spec.pinPath), undo);
      objPin(fd, spec.pinPath);
      const path = spec.pinPath;
      undo.push(`unpin ${path}`, () => rmSync(path, { force: true }));
      created.pinnedAt = path;
    }
    out.push(created);
  }
  return out;
}
