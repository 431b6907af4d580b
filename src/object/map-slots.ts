// Slots of map-in-map and prog_array maps that the object fills statically:
//   struct { ...; __array(values, struct inner); } outer SEC(".maps") = { .values = { [2] = &inner } };
// clang leaves a zero pointer in the `values` member and a relocation in .rel.maps against the
// inner map's (or the program's) symbol; libbpf (bpf_object__collect_map_relos) turns the
// relocation's offset into a slot index and stores the target's fd under it once both exist.
import { STT_FUNC } from '../elf/index.js';
import { ObjectError } from './errors.js';
import type { BpfObject } from './model.js';

/** BPF pointers are 8 bytes, whatever the host. */
const PTR_SIZE = 8;

export interface MapSlotInit {
  /** Object name of the outer map-of-maps or prog array. */
  map: string;
  /** The u32 key the target goes under. */
  index: number;
  /** A map defined in `.maps`, or a program (a function symbol). */
  kind: 'map' | 'program';
  /** Object name of the inner map or the program. */
  target: string;
}

/**
 * The `values` slots the object initialises, in relocation order. An initialiser libbpf would
 * refuse (outside every map definition, not in a trailing `values` member, not on a slot boundary,
 * against something that is neither a map nor a function) is an ObjectError.
 */
export function readMapSlotInits(obj: BpfObject): MapSlotInit[] {
  const rel = obj.elf.relocationSections.find((r) => r.target.name === '.maps');
  const btf = obj.btf;
  if (rel === undefined || btf === undefined) return [];
  const mapsIndex = rel.target.index;
  const symbols = obj.elf.symbols;
  return rel.relocations.map((r): MapSlotInit => {
    const sym = symbols[r.symbol];
    const fail = (why: string): ObjectError =>
      new ObjectError(`relocation against '${sym?.name ?? `symbol #${r.symbol}`}': ${why}`, '.rel.maps', r.offset);
    if (sym === undefined) throw fail('names no symbol');
    const outer = symbols.find((s) => s.shndx === mapsIndex && s.name !== '' && s.value <= r.offset && r.offset + PTR_SIZE <= s.value + s.size);
    const def = outer && obj.maps.find((m) => m.style === 'btf' && m.section === '.maps' && m.name === outer.name && m.btfTypeId !== undefined);
    if (outer === undefined || def?.btfTypeId === undefined) throw fail('lies in no map definition of .maps');
    const struct = btf.type(btf.skipModsAndTypedefs(def.btfTypeId));
    // libbpf looks only at the last member: `values` is a flexible array, so nothing may follow it.
    const values = struct.kind === 'STRUCT' ? struct.members[struct.members.length - 1] : undefined;
    if (values?.name !== 'values') throw fail(`map '${def.name}' has no trailing 'values' member to initialise`);
    const at = r.offset - outer.value - values.bitOffset / 8;
    if (at < 0 || at % PTR_SIZE !== 0) throw fail(`does not point at a slot of '${def.name}'.values`);
    const isMap = sym.shndx === mapsIndex;
    if (!isMap && sym.type !== STT_FUNC) throw fail(`'${sym.name}' is neither a map nor a program`);
    return { map: def.name, index: at / PTR_SIZE, kind: isMap ? 'map' : 'program', target: sym.name };
  });
}
