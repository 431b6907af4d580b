// Serialise BTF back to bytes: struct btf_header, the type records and the string section, laid out
// the way clang and pahole lay them out (types right after the header, strings right after the
// types), in either byte order. Unedited BTF in that layout comes back byte for byte.
import type { Btf } from './btf.js';
import { BtfError } from './errors.js';
import type { BtfKindName, BtfType } from './types.js';
import {
  BTF_ARRAY_SIZE, BTF_DECL_TAG_SIZE, BTF_ENUM64_SIZE, BTF_ENUM_SIZE, BTF_HDR_FLAGS, BTF_HDR_HDR_LEN,
  BTF_HDR_MAGIC, BTF_HDR_STR_LEN, BTF_HDR_STR_OFF, BTF_HDR_TYPE_LEN, BTF_HDR_TYPE_OFF, BTF_HDR_VERSION,
  BTF_HEADER_SIZE, BTF_MAGIC, BTF_MAX_VLEN, BTF_MEMBER_SIZE, BTF_PARAM_SIZE, BTF_TYPE_SIZE, BTF_VAR_SECINFO_SIZE,
  BTF_VAR_SIZE, BTF_VERSION,
} from './uapi.js';

/** include/uapi/linux/btf.h: BTF_KIND_* by bpfts kind name. */
export const BTF_KIND_BY_NAME: Readonly<Record<Exclude<BtfKindName, 'VOID'>, number>> = {
  INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10,
  RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19,
};

/** include/uapi/linux/btf.h: the info bits that mean something (kind_flag, kind, vlen). */
const BTF_INFO_MASK = 0x9f00ffff;

/** Everything needed to write a BTF blob: this BTF's own types (id order, no void) and its strings. */
export interface BtfContent {
  types: BtfType[];
  /** The string section's bytes, starting with the empty string (for base BTF). */
  strings: Uint8Array;
  littleEndian: boolean;
  /** struct btf_header's flags byte (0 in every BTF the kernel accepts). */
  flags: number;
  /** hdr_len; bytes beyond struct btf_header are written as zeros. */
  hdrLen: number;
}

/**
 * An editable copy of `btf`: the type objects are deep copies, so a caller may change fields
 * (DATASEC sizes, kinds, linkage) without touching the parsed original.
 */
export function btfContent(btf: Btf): BtfContent {
  return {
    types: structuredClone(btf.ownTypes()),
    strings: Uint8Array.from(btf.strings.bytes),
    littleEndian: btf.littleEndian,
    flags: btf.header.flags,
    hdrLen: btf.header.hdrLen,
  };
}

/** The number of trailing items a record carries (the vlen it is written with). */
function vlenOf(t: BtfType): number {
  switch (t.kind) {
    case 'STRUCT': case 'UNION': return t.members.length;
    case 'ENUM': case 'ENUM64': return t.values.length;
    case 'FUNC_PROTO': return t.params.length;
    case 'DATASEC': return t.vars.length;
    case 'FUNC': return t.linkage;
    default: return 0;
  }
}

function kflagOf(t: BtfType): boolean {
  switch (t.kind) {
    case 'STRUCT': case 'UNION': return t.kflag;
    case 'ENUM': case 'ENUM64': return t.signed;
    case 'FWD': return t.union;
    // TYPE_TAG / DECL_TAG may carry kind_flag (attribute tags); keep what was stored.
    default: return t.info >>> 31 === 1;
  }
}

function recordSize(t: BtfType): number {
  switch (t.kind) {
    case 'INT': return BTF_TYPE_SIZE + 4;
    case 'ARRAY': return BTF_TYPE_SIZE + BTF_ARRAY_SIZE;
    case 'STRUCT': case 'UNION': return BTF_TYPE_SIZE + t.members.length * BTF_MEMBER_SIZE;
    case 'ENUM': return BTF_TYPE_SIZE + t.values.length * BTF_ENUM_SIZE;
    case 'ENUM64': return BTF_TYPE_SIZE + t.values.length * BTF_ENUM64_SIZE;
    case 'FUNC_PROTO': return BTF_TYPE_SIZE + t.params.length * BTF_PARAM_SIZE;
    case 'VAR': return BTF_TYPE_SIZE + BTF_VAR_SIZE;
    case 'DATASEC': return BTF_TYPE_SIZE + t.vars.length * BTF_VAR_SECINFO_SIZE;
    case 'DECL_TAG': return BTF_TYPE_SIZE + BTF_DECL_TAG_SIZE;
    default: return BTF_TYPE_SIZE;
  }
}

/** Write one record at `at`; returns the offset after it. */
function writeType(v: DataView, at: number, t: BtfType, le: boolean): number {
  if (t.kind === 'VOID') throw new BtfError('type [0] (void) has no record and cannot be encoded', undefined, t.id);
  const vlen = vlenOf(t);
  if (vlen > BTF_MAX_VLEN) throw new BtfError(`${t.kind} has ${vlen} items, more than BTF_MAX_VLEN`, undefined, t.id);
  const kind = BTF_KIND_BY_NAME[t.kind];
  // Reserved info bits are kept so that odd input survives a round trip unchanged.
  const info = ((t.info & ~BTF_INFO_MASK) | (kflagOf(t) ? 0x80000000 : 0) | (kind << 24) | vlen) >>> 0;
  v.setUint32(at, t.nameOff, le);
  v.setUint32(at + 4, info, le);
  let p = at + BTF_TYPE_SIZE;
  const u32 = (x: number): void => { v.setUint32(p, x >>> 0, le); p += 4; };
  switch (t.kind) {
    case 'INT':
      v.setUint32(at + 8, t.size, le);
      u32(((t.encoding & 0x0f) << 24) | ((t.bitsOffset & 0xff) << 16) | (t.bits & 0xff));
      break;
    case 'PTR': case 'TYPEDEF': case 'VOLATILE': case 'CONST': case 'RESTRICT': case 'TYPE_TAG': case 'FUNC':
      v.setUint32(at + 8, t.type, le);
      break;
    case 'ARRAY':
      v.setUint32(at + 8, 0, le);
      u32(t.type); u32(t.indexType); u32(t.nelems);
      break;
    case 'STRUCT': case 'UNION':
      v.setUint32(at + 8, t.size, le);
      for (const m of t.members) {
        u32(m.nameOff); u32(m.type);
        u32(t.kflag ? ((m.bitfieldSize & 0xff) << 24) | (m.bitOffset & 0xffffff) : m.bitOffset);
      }
      break;
    case 'ENUM':
      v.setUint32(at + 8, t.size, le);
      for (const e of t.values) { u32(e.nameOff); u32(e.value); }
      break;
    case 'ENUM64':
      v.setUint32(at + 8, t.size, le);
      for (const e of t.values) {
        const u = BigInt.asUintN(64, e.value);
        u32(e.nameOff); u32(Number(u & 0xffffffffn)); u32(Number(u >> 32n));
      }
      break;
    case 'FWD':
      v.setUint32(at + 8, 0, le);
      break;
    case 'FUNC_PROTO':
      v.setUint32(at + 8, t.returnType, le);
      for (const prm of t.params) { u32(prm.nameOff); u32(prm.type); }
      break;
    case 'VAR':
      v.setUint32(at + 8, t.type, le);
      u32(t.linkage);
      break;
    case 'DATASEC':
      v.setUint32(at + 8, t.size, le);
      for (const s of t.vars) { u32(s.type); u32(s.offset); u32(s.size); }
      break;
    case 'FLOAT':
      v.setUint32(at + 8, t.size, le);
      break;
    case 'DECL_TAG':
      v.setUint32(at + 8, t.type, le);
      v.setInt32(p, t.componentIdx, le);
      p += 4;
      break;
  }
  return p;
}

/** Serialise BTF content: header, then types, then strings. */
export function encodeBtf(content: BtfContent): Uint8Array {
  const le = content.littleEndian;
  const hdrLen = Math.max(content.hdrLen, BTF_HEADER_SIZE);
  const typeLen = content.types.reduce((n, t) => n + recordSize(t), 0);
  const out = new Uint8Array(hdrLen + typeLen + content.strings.length);
  const v = new DataView(out.buffer);
  v.setUint16(BTF_HDR_MAGIC, BTF_MAGIC, le);
  v.setUint8(BTF_HDR_VERSION, BTF_VERSION);
  v.setUint8(BTF_HDR_FLAGS, content.flags);
  v.setUint32(BTF_HDR_HDR_LEN, hdrLen, le);
  v.setUint32(BTF_HDR_TYPE_OFF, 0, le);
  v.setUint32(BTF_HDR_TYPE_LEN, typeLen, le);
  v.setUint32(BTF_HDR_STR_OFF, typeLen, le);
  v.setUint32(BTF_HDR_STR_LEN, content.strings.length, le);
  let at = hdrLen;
  for (const t of content.types) at = writeType(v, at, t, le);
  out.set(content.strings, at);
  return out;
}

/**
 * A string section that grows: existing strings keep their offsets, a new string reuses an
 * identical one already present, or is appended.
 */
export class BtfStringTable {
  private bytes: Uint8Array;
  private readonly index = new Map<string, number>();
  private readonly decoder = new TextDecoder();

  constructor(initial: Uint8Array, private readonly start = 0) {
    this.bytes = Uint8Array.from(initial);
    let s = 0;
    for (let i = 0; i < initial.length; i++) {
      if (initial[i] !== 0) continue;
      const str = this.decoder.decode(initial.subarray(s, i));
      if (!this.index.has(str)) this.index.set(str, s);
      s = i + 1;
    }
  }

  /** The offset of `s`, adding it when missing. */
  add(s: string): number {
    const found = this.index.get(s);
    if (found !== undefined) return this.start + found;
    const enc = new TextEncoder().encode(s);
    const at = this.bytes.length;
    const grown = new Uint8Array(at + enc.length + 1);
    grown.set(this.bytes);
    grown.set(enc, at);
    this.bytes = grown;
    this.index.set(s, at);
    return this.start + at;
  }

  get data(): Uint8Array {
    return this.bytes;
  }
}
