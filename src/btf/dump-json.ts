import type { Btf } from './btf.js';
import { funcLinkageName, intEncodingName, shownName, varLinkageName } from './dump-raw.js';
import type { BtfType } from './types.js';

// The structure and spelling of `bpftool -j btf dump file FILE` (v7.1): {"types":[...]} with one
// object per type, fields in bpftool's order, names "(anon)" when empty.

/** json_writer's escaping: the C escapes it knows, every other byte as is. */
function str(s: string): string {
  let out = '"';
  for (const ch of s) {
    switch (ch) {
      case '\t': out += '\\t'; break;
      case '\n': out += '\\n'; break;
      case '\r': out += '\\r'; break;
      case '\f': out += '\\f'; break;
      case '\b': out += '\\b'; break;
      case '\\': out += '\\\\'; break;
      case '"': out += '\\"'; break;
      default: out += ch;
    }
  }
  return out + '"';
}

function typeJson(t: BtfType): string {
  const head = `{"id":${t.id},"kind":${str(t.kind === 'VOID' ? 'UNKNOWN' : t.kind)},"name":${str(shownName(t.name))}`;
  switch (t.kind) {
    case 'INT':
      return `${head},"size":${t.size},"bits_offset":${t.bitsOffset},"nr_bits":${t.bits},"encoding":${str(intEncodingName(t.encoding))}}`;
    case 'PTR': case 'CONST': case 'VOLATILE': case 'RESTRICT': case 'TYPEDEF': case 'TYPE_TAG':
      return `${head},"type_id":${t.type}}`;
    case 'ARRAY':
      return `${head},"type_id":${t.type},"index_type_id":${t.indexType},"nr_elems":${t.nelems}}`;
    case 'STRUCT': case 'UNION': {
      const members = t.members.map((m) => `{"name":${str(shownName(m.name))},"type_id":${m.type},"bits_offset":${m.bitOffset}${m.bitfieldSize ? `,"bitfield_size":${m.bitfieldSize}` : ''}}`);
      return `${head},"size":${t.size},"vlen":${t.members.length},"members":[${members.join(',')}]}`;
    }
    case 'ENUM': case 'ENUM64': {
      const values = t.values.map((v) => `{"name":${str(shownName(v.name))},"val":${v.value}}`);
      return `${head},"encoding":"${t.signed ? 'SIGNED' : 'UNSIGNED'}","size":${t.size},"vlen":${t.values.length},"values":[${values.join(',')}]}`;
    }
    case 'FWD':
      return `${head},"fwd_kind":"${t.union ? 'union' : 'struct'}"}`;
    case 'FUNC':
      return `${head},"type_id":${t.type},"linkage":${str(funcLinkageName(t.linkage))}}`;
    case 'FUNC_PROTO': {
      const params = t.params.map((p) => `{"name":${str(shownName(p.name))},"type_id":${p.type}}`);
      return `${head},"ret_type_id":${t.returnType},"vlen":${t.params.length},"params":[${params.join(',')}]}`;
    }
    case 'VAR':
      return `${head},"type_id":${t.type},"linkage":${str(varLinkageName(t.linkage))}}`;
    case 'DATASEC': {
      const vars = t.vars.map((v) => `{"type_id":${v.type},"offset":${v.offset},"size":${v.size}}`);
      return `${head},"size":${t.size},"vlen":${t.vars.length},"vars":[${vars.join(',')}]}`;
    }
    case 'FLOAT':
      return `${head},"size":${t.size}}`;
    case 'DECL_TAG':
      return `${head},"type_id":${t.type},"component_idx":${t.componentIdx}}`;
    case 'VOID':
      return `${head}}`;
  }
}

/** `bpftool -j btf dump file FILE`: the types as one line of JSON, with a trailing newline. */
export function dumpJson(btf: Btf): string {
  const types = btf.types;
  const parts: string[] = [];
  for (let id = btf.startId; id < types.length; id++) parts.push(typeJson(types[id]!));
  return `{"types":[${parts.join(',')}]}\n`;
}
