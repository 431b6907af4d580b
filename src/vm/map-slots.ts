// Slots of map-in-map and prog array maps an object fills statically,
//   struct { ...; __array(values, struct inner); } outer SEC(".maps") = { .values = { [2] = &inner } };
// clang writes a zero pointer into `values[2]` and a .rel.maps relocation against the inner map's (or
// the program's) symbol at that place; libbpf stores the target's fd under key 2 at load.
import { STT_FUNC } from '../elf/index.js';
import type { BpfObject } from '../object/index.js';
import { EmulatorError } from './object.js';

/** Slots of `values` are BPF pointers. */
const SLOT_SIZE = 8;

export interface SlotInit {
  /** Object name of the outer map or prog array. */
  map: string;
  /** The key (a u32) the target goes under. */
  index: number;
  kind: 'map' | 'program';
  target: string;
}

/** What the object's `.rel.maps` relocations put into its BTF-defined maps. */
export function slotInits(obj: BpfObject): SlotInit[] {
  const rel = obj.elf.relocationSections.find((r) => r.target.name === '.maps');
  const btf = obj.btf;
  if (rel === undefined || btf === undefined) return [];
  const section = rel.target.index;
  const symbols = obj.elf.symbols;
  return rel.relocations.map((r): SlotInit => {
    const sym = symbols[r.symbol];
    const fail = (why: string) => new EmulatorError(`.rel.maps relocation at offset ${r.offset}${sym ? ` against '${sym.name}'` : ''}: ${why}`);
    if (sym === undefined) throw fail('names no symbol');
    const outer = symbols.find((s) => s.shndx === section && s.name !== '' && s.value <= r.offset && r.offset + SLOT_SIZE <= s.value + s.size);
    const def = outer && obj.maps.find((m) => m.section === '.maps' && m.name === outer.name && m.btfTypeId !== undefined);
    if (outer === undefined || def === undefined) throw fail('lies in no map definition');
    const struct = btf.type(btf.skipModsAndTypedefs(def.btfTypeId!));
    const values = struct.kind === 'STRUCT' ? struct.members.find((m) => m.name === 'values') : undefined;
    if (values === undefined) throw fail(`map '${def.name}' has no 'values' member`);
    const at = r.offset - outer.value - values.bitOffset / 8;
    if (at < 0 || at % SLOT_SIZE !== 0) throw fail(`does not point at a slot of '${def.name}'.values`);
    const isMap = sym.shndx === section;
    if (!isMap && sym.type !== STT_FUNC) throw fail(`'${sym.name}' is neither a map nor a program`);
    return { map: def.name, index: at / SLOT_SIZE, kind: isMap ? 'map' : 'program', target: sym.name };
  });
}
