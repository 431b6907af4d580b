import { Btf, type BtfHeader } from './btf.js';
import { BtfError } from './errors.js';
import { BtfStrings } from './strings.js';
import type { BtfKindName } from './types.js';
import {
  BTF_ARRAY_SIZE, BTF_DECL_TAG_SIZE, BTF_ENUM64_SIZE, BTF_ENUM_SIZE, BTF_HDR_FLAGS, BTF_HDR_HDR_LEN,
  BTF_HDR_STR_LEN, BTF_HDR_STR_OFF, BTF_HDR_TYPE_LEN, BTF_HDR_TYPE_OFF, BTF_HDR_VERSION, BTF_HEADER_SIZE,
  BTF_INFO_KIND, BTF_INFO_VLEN, BTF_KIND_ARRAY, BTF_KIND_CONST, BTF_KIND_DATASEC, BTF_KIND_DECL_TAG,
  BTF_KIND_ENUM, BTF_KIND_ENUM64, BTF_KIND_FLOAT, BTF_KIND_FUNC, BTF_KIND_FUNC_PROTO, BTF_KIND_FWD,
  BTF_KIND_INT, BTF_KIND_PTR, BTF_KIND_RESTRICT, BTF_KIND_STRUCT, BTF_KIND_TYPEDEF, BTF_KIND_TYPE_TAG,
  BTF_KIND_UNION, BTF_KIND_VAR, BTF_KIND_VOLATILE, BTF_MAGIC, BTF_MAX_NAME_OFFSET, BTF_MAX_TYPE,
  BTF_MEMBER_SIZE, BTF_PARAM_SIZE, BTF_TYPE_SIZE, BTF_VAR_SECINFO_SIZE, BTF_VAR_SIZE, BTF_VERSION,
} from './uapi.js';

/** bpftool's names for BTF_KIND_* (index = kind). */
export const BTF_KIND_NAMES: readonly BtfKindName[] = [
  'VOID', 'INT', 'PTR', 'ARRAY', 'STRUCT', 'UNION', 'ENUM', 'FWD', 'TYPEDEF', 'VOLATILE', 'CONST',
  'RESTRICT', 'FUNC', 'FUNC_PROTO', 'VAR', 'DATASEC', 'FLOAT', 'DECL_TAG', 'TYPE_TAG', 'ENUM64',
];

/** True when `bytes` starts with the BTF magic in either byte order. */
export function isBtf(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && ((bytes[0] === 0x9f && bytes[1] === 0xeb) || (bytes[0] === 0xeb && bytes[1] === 0x9f));
}

export interface ParseBtfOptions {
  /** The BTF this one is split from (vmlinux for a module's BTF). */
  base?: Btf;
}

/**
 * Parse a BTF blob (a raw BTF file or the contents of an object's .BTF section), either byte order.
 * Every record, name offset and type reference is checked here, so the model built from it later
 * cannot read out of range; malformed input gives a BtfError with the offset and type id.
 */
export function parseBtf(bytes: Uint8Array, options: ParseBtfOptions = {}): Btf {
  const base = options.base;
  if (bytes.length < BTF_HEADER_SIZE) throw new BtfError(`BTF is ${bytes.length} bytes, shorter than its ${BTF_HEADER_SIZE}-byte header`, 0);
  let le: boolean;
  if (bytes[0] === 0x9f && bytes[1] === 0xeb) le = true;
  else if (bytes[0] === 0xeb && bytes[1] === 0x9f) le = false;
  else throw new BtfError(`bad BTF magic 0x${((bytes[0]! << 8) | bytes[1]!).toString(16)} (expected 0x${BTF_MAGIC.toString(16)} in either byte order)`, 0);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header: BtfHeader = {
    magic: BTF_MAGIC,
    version: bytes[BTF_HDR_VERSION]!,
    flags: bytes[BTF_HDR_FLAGS]!,
    hdrLen: view.getUint32(BTF_HDR_HDR_LEN, le),
    typeOff: view.getUint32(BTF_HDR_TYPE_OFF, le),
    typeLen: view.getUint32(BTF_HDR_TYPE_LEN, le),
    strOff: view.getUint32(BTF_HDR_STR_OFF, le),
    strLen: view.getUint32(BTF_HDR_STR_LEN, le),
  };
  if (header.version !== BTF_VERSION) throw new BtfError(`unsupported BTF version ${header.version}`, BTF_HDR_VERSION);
  if (header.hdrLen < BTF_HEADER_SIZE) throw new BtfError(`hdr_len ${header.hdrLen} is shorter than struct btf_header (${BTF_HEADER_SIZE})`, BTF_HDR_HDR_LEN);
  if (header.hdrLen > bytes.length) throw new BtfError(`hdr_len ${header.hdrLen} is past the end of the ${bytes.length}-byte BTF`, BTF_HDR_HDR_LEN);
  const meta = bytes.length - header.hdrLen;
  if (header.typeOff % 4 !== 0) throw new BtfError(`type_off ${header.typeOff} is not 4-byte aligned`, BTF_HDR_TYPE_OFF);
  if (header.strOff + header.strLen > meta) throw new BtfError(`string section (off ${header.strOff}, len ${header.strLen}) runs past the end of the BTF`, BTF_HDR_STR_OFF);
  if (header.typeOff + header.typeLen > header.strOff) throw new BtfError(`type section (off ${header.typeOff}, len ${header.typeLen}) overlaps the string section at ${header.strOff}`, BTF_HDR_TYPE_OFF);

  const strStart = header.hdrLen + header.strOff;
  const strBytes = bytes.subarray(strStart, strStart + header.strLen);
  if (!base && (strBytes.length === 0 || strBytes[0] !== 0)) throw new BtfError('string section must start with an empty string', strStart);
  if (strBytes.length > 0 && strBytes[strBytes.length - 1] !== 0) throw new BtfError('string section is not NUL-terminated', strStart + strBytes.length - 1);
  const strings = new BtfStrings(strBytes, base ? base.strings.end : 0, base?.strings);
  if (strings.end > BTF_MAX_NAME_OFFSET + 1) throw new BtfError(`string section is larger than BTF allows (${strings.end} bytes)`, BTF_HDR_STR_LEN);

  const startId = base ? base.count : 1;
  const typeStart = header.hdrLen + header.typeOff;
  const typeEnd = typeStart + header.typeLen;
  const stringsEnd = strings.end;
  // Every record is at least 12 bytes, which bounds the count.
  let offsets = new Uint32Array(Math.max(16, Math.ceil(header.typeLen / BTF_TYPE_SIZE)));
  let n = 0;
  const checkName = (nameOff: number, what: string, id: number, at: number): void => {
    if (nameOff >= stringsEnd) throw new BtfError(`${what} offset ${nameOff} is outside the string section (size ${stringsEnd})`, at, id);
  };
  let off = typeStart;
  while (off < typeEnd) {
    const id = startId + n;
    if (id > BTF_MAX_TYPE) throw new BtfError(`more than ${BTF_MAX_TYPE} types`, off, id);
    if (off + BTF_TYPE_SIZE > typeEnd) throw new BtfError('type record is cut short by the end of the type section', off, id);
    const info = view.getUint32(off + 4, le);
    const kind = BTF_INFO_KIND(info);
    const vlen = BTF_INFO_VLEN(info);
    checkName(view.getUint32(off, le), 'name', id, off);
    let itemSize = 0;
    let items = 0;
    let extra: number;
    switch (kind) {
      case BTF_KIND_INT: extra = 4; break;
      case BTF_KIND_VAR: extra = BTF_VAR_SIZE; break;
      case BTF_KIND_DECL_TAG: extra = BTF_DECL_TAG_SIZE; break;
      case BTF_KIND_ARRAY: extra = BTF_ARRAY_SIZE; break;
      case BTF_KIND_STRUCT: case BTF_KIND_UNION: itemSize = BTF_MEMBER_SIZE; items = vlen; extra = vlen * BTF_MEMBER_SIZE; break;
      case BTF_KIND_ENUM: itemSize = BTF_ENUM_SIZE; items = vlen; extra = vlen * BTF_ENUM_SIZE; break;
      case BTF_KIND_ENUM64: itemSize = BTF_ENUM64_SIZE; items = vlen; extra = vlen * BTF_ENUM64_SIZE; break;
      case BTF_KIND_FUNC_PROTO: itemSize = BTF_PARAM_SIZE; items = vlen; extra = vlen * BTF_PARAM_SIZE; break;
      case BTF_KIND_DATASEC: extra = vlen * BTF_VAR_SECINFO_SIZE; break;
      case BTF_KIND_PTR: case BTF_KIND_FWD: case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST:
      case BTF_KIND_RESTRICT: case BTF_KIND_FUNC: case BTF_KIND_FLOAT: case BTF_KIND_TYPE_TAG:
        extra = 0; break;
      default:
        throw new BtfError(`unknown BTF kind ${kind}`, off, id);
    }
    if (off + BTF_TYPE_SIZE + extra > typeEnd) throw new BtfError(`${BTF_KIND_NAMES[kind]} record with vlen ${vlen} runs past the end of the type section`, off, id);
    // Members, enumerators and parameters start with a name offset.
    for (let i = 0, p = off + BTF_TYPE_SIZE; i < items; i++, p += itemSize) checkName(view.getUint32(p, le), `${BTF_KIND_NAMES[kind]} item ${i} name`, id, p);
    if (n === offsets.length) {
      const grown = new Uint32Array(n * 2);
      grown.set(offsets);
      offsets = grown;
    }
    offsets[n++] = off;
    off += BTF_TYPE_SIZE + extra;
  }
  offsets = offsets.subarray(0, n);
  checkReferences(view, le, offsets, startId);
  return new Btf({ bytes, view, offsets }, strings, header, le, startId, base);
}

/** Every type id a record names must exist: later layers index `types` without checking. */
function checkReferences(view: DataView, le: boolean, offsets: Uint32Array, startId: number): void {
  const count = startId + offsets.length;
  const check = (ref: number, id: number, at: number, what: string): void => {
    if (ref >= count) throw new BtfError(`${what} refers to type ${ref}, but the last type is ${count - 1}`, at, id);
  };
  for (let i = 0; i < offsets.length; i++) {
    const rec = offsets[i]!;
    const id = startId + i;
    const info = view.getUint32(rec + 4, le);
    const kind = BTF_INFO_KIND(info);
    const vlen = BTF_INFO_VLEN(info);
    const body = rec + BTF_TYPE_SIZE;
    switch (kind) {
      case BTF_KIND_PTR: case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST: case BTF_KIND_RESTRICT:
      case BTF_KIND_TYPE_TAG: case BTF_KIND_FUNC: case BTF_KIND_VAR: case BTF_KIND_DECL_TAG: case BTF_KIND_FUNC_PROTO:
        check(view.getUint32(rec + 8, le), id, rec, BTF_KIND_NAMES[kind]!);
        if (kind === BTF_KIND_FUNC_PROTO) {
          for (let j = 0, p = body; j < vlen; j++, p += BTF_PARAM_SIZE) check(view.getUint32(p + 4, le), id, p, `parameter ${j}`);
        }
        break;
      case BTF_KIND_ARRAY:
        check(view.getUint32(body, le), id, body, 'array element type');
        check(view.getUint32(body + 4, le), id, body + 4, 'array index type');
        break;
      case BTF_KIND_STRUCT: case BTF_KIND_UNION:
        for (let j = 0, m = body; j < vlen; j++, m += BTF_MEMBER_SIZE) check(view.getUint32(m + 4, le), id, m, `member ${j}`);
        break;
      case BTF_KIND_DATASEC:
        for (let j = 0, v = body; j < vlen; j++, v += BTF_VAR_SECINFO_SIZE) check(view.getUint32(v, le), id, v, `DATASEC variable ${j}`);
        break;
      default:
        break;
    }
  }
}
