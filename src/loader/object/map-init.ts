// Slots of map-in-map and prog_array maps that the object fills statically:
//   struct { ...; __array(values, struct inner); } outer SEC(".maps") = { .values = { [2] = &inner } };
// clang leaves a zero pointer in the `values` member and a relocation in .rel.maps against the
// inner map's (or the program's) symbol; libbpf (bpf_object__collect_map_relos) turns the
// relocation's offset into a slot index and stores the inner map's or program's fd there once
// both exist.
import { STT_FUNC } from '../../elf/index.js';
import type { BpfObject, MapDefinition } from '../../object/index.js';
import { LoadError } from './errors.js';

/** BPF pointers are 8 bytes. */
const PTR_SIZE = 8;

export interface MapSlotInit {
  /** The outer map (its object name). */
  map: string;
  index: number;
  target: { kind: 'map' | 'program'; name: string };
}

/** The `values` slots the object initialises, from its `.rel.maps` relocations. */
export function mapSlotInits(obj: BpfObject): MapSlotInit[] {
  const rel = obj.elf.relocationSections.find((r) => r.target.name === '.maps');
  if (!rel || !obj.btf) return [];
  const btf = obj.btf;
  const mapsIndex = rel.target.index;
  const defs = obj.maps.filter((m): m is MapDefinition & { btfTypeId: number } => m.style === 'btf' && m.section === '.maps' && m.btfTypeId !== undefined);
  const out: MapSlotInit[] = [];
  for (const r of rel.relocations) {
    const sym = obj.elf.symbols[r.symbol];
    const fail = (why: string): never => {
      throw new LoadError(`.rel.maps relocation at offset ${r.offset} (against '${sym?.name ?? r.symbol}'): ${why}`);
    };
    if (!sym) fail('names no symbol');
    const outerSym = obj.elf.symbols.find((s) => s.shndx === mapsIndex && s.name !== '' && r.offset >= s.value && r.offset + PTR_SIZE <= s.value + s.size);
    const def = outerSym && defs.find((d) => d.name === outerSym.name);
    if (!outerSym || !def) fail('is inside no map definition of .maps');
    const struct = btf.type(btf.skipModsAndTypedefs(def!.btfTypeId));
    const last = struct.kind === 'STRUCT' ? struct.members[struct.members.length - 1] : undefined;
    if (last?.name !== 'values') fail(`map '${def!.name}' has no trailing 'values' member to initialise`);
    const off = r.offset - outerSym!.value - last!.bitOffset / 8;
    if (off < 0 || off % PTR_SIZE !== 0) fail(`points into map '${def!.name}' outside its 'values' slots`);
    const inMaps = sym!.shndx === mapsIndex;
    if (!inMaps && sym!.type !== STT_FUNC) fail(`'${sym!.name}' is neither a map nor a program`);
    out.push({ map: def!.name, index: off / PTR_SIZE, target: { kind: inMaps ? 'map' : 'program', name: sym!.name } });
  }
  return out;
}
