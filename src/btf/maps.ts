import type { Btf } from './btf.js';
import { BtfError } from './errors.js';

/**
 * A map declared in the `.maps` section the way libbpf's bpf_helpers.h macros encode it:
 * `__uint(name, n)` is `int (*name)[n]`, `__type(name, T)` is `T *name`, `__array(name, T)` is
 * `T *name[]`. Fields that were not declared are undefined.
 */
export interface BtfMapDef {
  /** The variable's name: the map's name. */
  name: string;
  /** The VAR's type id (the anonymous or named struct). */
  typeId: number;
  /** Offset of the variable inside .maps. */
  offset: number;
  type?: number;
  maxEntries?: number;
  mapFlags?: number;
  numaNode?: number;
  pinning?: number;
  mapExtra?: number;
  keySize?: number;
  valueSize?: number;
  /** Type id of `__type(key, T)`'s T. */
  key?: number;
  /** Type id of `__type(value, T)`'s T. */
  value?: number;
  /** `__array(values, T)`: the element type T (an inner map definition struct or a program type). */
  values?: number;
  /** Members the libbpf conventions do not define, with their type ids. */
  unknown: { name: string; type: number }[];
}

const UINT_FIELDS: Record<string, keyof BtfMapDef> = {
  type: 'type', max_entries: 'maxEntries', map_flags: 'mapFlags', numa_node: 'numaNode', pinning: 'pinning',
  map_extra: 'mapExtra', key_size: 'keySize', value_size: 'valueSize',
};

/** The value n of a `__uint(name, n)` member: a pointer to an n-element array. */
function uintValue(btf: Btf, typeId: number, map: string, member: string): number {
  const ptr = btf.types[btf.skipModsAndTypedefs(typeId)]!;
  const arr = ptr.kind === 'PTR' ? btf.types[btf.skipModsAndTypedefs(ptr.type)] : undefined;
  if (arr?.kind !== 'ARRAY') throw new BtfError(`map '${map}': member '${member}' is not __uint(${member}, N) (a pointer to an array)`, undefined, typeId);
  return arr.nelems;
}

/** The map definition struct behind one BTF type id (as found in .maps or inside `__array(values, ...)`). */
export function mapDefFromStruct(btf: Btf, structId: number, name: string, offset = 0): BtfMapDef {
  const st = btf.types[btf.skipModsAndTypedefs(structId)]!;
  if (st.kind !== 'STRUCT') throw new BtfError(`map '${name}' is a ${st.kind}, not a struct`, undefined, structId);
  const def: BtfMapDef = { name, typeId: structId, offset, unknown: [] };
  for (const m of st.members) {
    const field = UINT_FIELDS[m.name];
    if (field) {
      (def[field] as number) = uintValue(btf, m.type, name, m.name);
    } else if (m.name === 'key' || m.name === 'value') {
      const ptr = btf.types[btf.skipModsAndTypedefs(m.type)]!;
      if (ptr.kind !== 'PTR') throw new BtfError(`map '${name}': member '${m.name}' is not __type(${m.name}, T)`, undefined, st.id);
      def[m.name] = ptr.type;
    } else if (m.name === 'values') {
      const arr = btf.types[btf.skipModsAndTypedefs(m.type)]!;
      const ptr = arr.kind === 'ARRAY' ? btf.types[btf.skipModsAndTypedefs(arr.type)] : undefined;
      if (ptr?.kind !== 'PTR') throw new BtfError(`map '${name}': member 'values' is not __array(values, T)`, undefined, st.id);
      def.values = ptr.type;
    } else {
      def.unknown.push({ name: m.name, type: m.type });
    }
  }
  return def;
}

/** Every map declared in the `.maps` DATASEC, in declaration order; empty when there is none. */
export function btfMapDefinitions(btf: Btf, section = '.maps'): BtfMapDef[] {
  const sec = btf.find(section, 'DATASEC');
  if (sec?.kind !== 'DATASEC') return [];
  return sec.vars.map((v) => {
    const variable = btf.types[v.type]!;
    if (variable.kind !== 'VAR') throw new BtfError(`${section} entry is a ${variable.kind}, not a VAR`, undefined, v.type);
    return mapDefFromStruct(btf, variable.type, variable.name, v.offset);
  });
}
