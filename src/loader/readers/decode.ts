// Records decoded through the object's BTF with src/btf's codec: `struct NAME`,
// `union NAME`, `enum NAME` or a typedef name says which type a record holds.
import { BpfError } from '../../errors.js';
import { btfDecode, cValueToJson, type Btf, type JsonCValue } from '../../btf/index.js';

export interface RecordType {
  btf: Btf;
  id: number;
  /** The type as written ("struct event"). */
  name: string;
  /** Its size in bytes. */
  size: number;
}

/** Finds the type `spec` names in `btf`; an unknown name is a BpfError listing the structs there are. */
export function recordType(btf: Btf, spec: string): RecordType {
  const m = /^\s*(?:(struct|union|enum)\s+)?([A-Za-z_]\w*)\s*$/.exec(spec);
  if (!m) throw new BpfError(`'${spec}' is not a type name`, { hint: "write it as in C, e.g. --type 'struct event'" });
  const kind = m[1] === 'struct' ? 'STRUCT' : m[1] === 'union' ? 'UNION' : m[1] === 'enum' ? 'ENUM' : 'TYPEDEF';
  const t = btf.find(m[2]!, kind);
  if (!t) {
    const structs = btf.types.filter((x) => x.kind === 'STRUCT' && x.name).map((x) => `struct ${x.name}`).slice(0, 12);
    throw new BpfError(`the object's BTF has no ${m[1] ?? 'typedef'} ${m[2]}`, { hint: structs.length > 0 ? `its structs: ${structs.join(', ')}` : 'the object has no named structs' });
  }
  return { btf, id: t.id, name: spec.trim(), size: btf.resolveSize(t.id) };
}

/** A record's bytes as its BTF type (bytes past the record read as 0, extra bytes are ignored). */
export function decodeRecord(type: RecordType, data: Uint8Array): JsonCValue {
  return cValueToJson(btfDecode(type.btf, type.id, data));
}
