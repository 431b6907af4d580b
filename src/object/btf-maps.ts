import { btfMapDefinitions, mapDefFromStruct, type Btf, type BtfMapDef } from '../btf/index.js';
import { BpfError } from '../errors.js';
import type { Diagnostic, MapDefinition } from './model.js';

function fromBtf(btf: Btf, def: BtfMapDef, diagnostics: Diagnostic[]): MapDefinition {
  // libbpf sizes key/value from their BTF types unless key_size/value_size are given.
  const size = (typeId: number | undefined, explicit: number | undefined, what: string): number => {
    if (explicit !== undefined) return explicit;
    if (typeId === undefined) return 0;
    try {
      return btf.resolveSize(typeId);
    } catch (e) {
      diagnostics.push({ severity: 'error', code: 'btf-map-size', section: '.maps', message: `map ${def.name}: cannot size its ${what} type: ${(e as Error).message}` });
      return 0;
    }
  };
  for (const u of def.unknown) {
    diagnostics.push({ severity: 'warning', code: 'btf-map-unknown-field', section: '.maps', message: `map ${def.name}: member '${u.name}' is not a map attribute libbpf knows; it is ignored` });
  }
  const map: MapDefinition = {
    name: def.name, style: 'btf', section: '.maps', offset: def.offset, btfTypeId: def.typeId,
    type: def.type ?? 0, keySize: size(def.key, def.keySize, 'key'), valueSize: size(def.value, def.valueSize, 'value'),
    maxEntries: def.maxEntries ?? 0, flags: def.mapFlags ?? 0, pinning: def.pinning ?? 0,
  };
  if (def.key !== undefined) map.keyTypeId = def.key;
  if (def.value !== undefined) map.valueTypeId = def.value;
  if (def.numaNode !== undefined) map.numaNode = def.numaNode;
  if (def.mapExtra !== undefined) map.mapExtra = def.mapExtra;
  if (def.values !== undefined) {
    // `__array(values, ...)` makes a map-in-map or prog_array, whose values are 4-byte fds
    // (libbpf's parse_btf_map_def); for map-in-map the element type is the inner definition.
    if (map.valueSize !== 0 && map.valueSize !== 4) {
      diagnostics.push({ severity: 'error', code: 'btf-map-values-size', section: '.maps', message: `map ${def.name}: value size ${map.valueSize} with __array(values, ...), which needs 4-byte values (fds)` });
    }
    map.valueSize = 4;
    const inner = btf.types[btf.skipModsAndTypedefs(def.values)];
    if (inner?.kind === 'STRUCT') map.inner = fromBtf(btf, mapDefFromStruct(btf, def.values, `${def.name}.inner`), diagnostics);
  }
  return map;
}

/** Maps declared in the `.maps` DATASEC of the object's BTF, the libbpf 1.x way. */
export function readBtfMaps(btf: Btf, diagnostics: Diagnostic[]): MapDefinition[] {
  try {
    return btfMapDefinitions(btf).map((def) => fromBtf(btf, def, diagnostics));
  } catch (e) {
    if (!(e instanceof BpfError)) throw e;
    diagnostics.push({ severity: 'error', code: 'btf-map-invalid', section: '.maps', message: e.message });
    return [];
  }
}
