import { Btf, type BtfHeader } from './btf.js';
import { BtfError } from './errors.js';
import { BtfStrings } from './strings.js';
import type { BtfKindName } from './types.js';
import {
  BTF_ARRAY_SIZE, BTF_DECL_TAG_SIZE, BTF_ENUM64_SIZE, BTF_ENUM_SIZE, BTF_HDR_FLAGS, BTF_HDR_HDR_LEN,
  BTF_HDR_STR_LEN, BTF_HDR_STR_OFF, BTF_HDR_TYPE_LEN, BTF_HDR_TYPE_OFF, BTF_HDR_VERSION, BTF_HEADER_SIZE,
  BTF_INFO_KIND, BTF_INFO_VLEN, BTF_KIND_ARRAY, BTF_KIND_CONST, BTF_KIND_DATASEC, BTF_KIND_DECL_TAG,
  BTF_KIND_ENUM, BTF_KIND_ENUM64, BTF_KIND_FUNC, BTF_KIND_FUNC_PROTO, BTF_KIND_PTR, BTF_KIND_RESTRICT, BTF_KIND_STRUCT, BTF_KIND_TYPEDEF, BTF_KIND_TYPE_TAG,
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
  const words = typeWords(bytes, typeStart, header.typeLen, le);
  const { offsets, maxRef } = scanTypes(words, typeStart, header.typeLen, startId, strings.end);
  if (maxRef >= startId + offsets.length) checkReferences(view, le, offsets, startId);
  return new Btf({ bytes, view, offsets, words, typeStart }, strings, header, le, startId, base);
}

/**
 * Walk the type section (as `words`, starting at byte `typeStart` of the blob): each record's kind
 * and length, and every name offset, are checked; returns where each record starts and the largest
 * type id any record refers to. A function of its own, so the loop is compiled without the header
 * checks around it.
 */
function scanTypes(
  words: Uint32Array, typeStart: number, typeLen: number, startId: number, stringsEnd: number,
): { offsets: Uint32Array; maxRef: number } {
  // Every record is at least 12 bytes, which bounds the count.
  const offsets = new Uint32Array(Math.ceil(typeLen / BTF_TYPE_SIZE));
  let n = 0;
  // References can only be checked against the final count; the largest one decides whether the
  // slow pass that finds the first bad one has to run.
  let maxRef = 0;
  let w = 0;
  while (w * 4 < typeLen) {
    const off = typeStart + w * 4;
    const id = startId + n;
    if (id > BTF_MAX_TYPE) throw new BtfError(`more than ${BTF_MAX_TYPE} types`, off, id);
    if (w * 4 + BTF_TYPE_SIZE > typeLen) throw new BtfError('type record is cut short by the end of the type section', off, id);
    const info = words[w + 1]!;
    const kind = BTF_INFO_KIND(info);
    const vlen = BTF_INFO_VLEN(info);
    const nameOff = words[w]!;
    if (nameOff >= stringsEnd) throw nameError(nameOff, stringsEnd, 'name', id, off);
    const fixed = kind < FIXED_WORDS.length ? FIXED_WORDS[kind]! : -1;
    if (fixed < 0) throw new BtfError(`unknown BTF kind ${kind}`, off, id);
    const extra = fixed + vlen * ITEM_WORDS[kind]!;
    if (w * 4 + BTF_TYPE_SIZE + extra * 4 > typeLen) throw new BtfError(`${BTF_KIND_NAMES[kind]} record with vlen ${vlen} runs past the end of the type section`, off, id);
    const body = w + 3;
    const end = body + extra;
    switch (kind) {
      case BTF_KIND_PTR: case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST: case BTF_KIND_RESTRICT:
      case BTF_KIND_TYPE_TAG: case BTF_KIND_FUNC: case BTF_KIND_VAR: case BTF_KIND_DECL_TAG: {
        const ref = words[w + 2]!;
        if (ref > maxRef) maxRef = ref;
        break;
      }
      case BTF_KIND_ARRAY: {
        const elem = words[body]!;
        const index = words[body + 1]!;
        if (elem > maxRef) maxRef = elem;
        if (index > maxRef) maxRef = index;
        break;
      }
      case BTF_KIND_STRUCT: case BTF_KIND_UNION:
      case BTF_KIND_FUNC_PROTO: {
        // Members are { name_off, type, offset }, parameters { name_off, type }.
        const stride = ITEM_WORDS[kind]!;
        const ret = words[w + 2]!;
        if (kind === BTF_KIND_FUNC_PROTO && ret > maxRef) maxRef = ret;
        for (let p = body; p < end; p += stride) {
          const itemName = words[p]!;
          if (itemName >= stringsEnd) throw itemNameError(itemName, stringsEnd, kind, (p - body) / stride, id, typeStart + p * 4);
          const ref = words[p + 1]!;
          if (ref > maxRef) maxRef = ref;
        }
        break;
      }
      case BTF_KIND_ENUM: case BTF_KIND_ENUM64: {
        const stride = ITEM_WORDS[kind]!;
        for (let p = body; p < end; p += stride) {
          const itemName = words[p]!;
          if (itemName >= stringsEnd) throw itemNameError(itemName, stringsEnd, kind, (p - body) / stride, id, typeStart + p * 4);
        }
        break;
      }
      case BTF_KIND_DATASEC:
        for (let p = body; p < end; p += 3) {
          const ref = words[p]!;
          if (ref > maxRef) maxRef = ref;
        }
        break;
      default:
        break;
    }
    offsets[n++] = off;
    w = end;
  }
  return { offsets: offsets.subarray(0, n), maxRef };
}

/**
 * Words after the 12-byte btf_type of each kind (index = kind; -1 for kinds bpftool v7.1 does not
 * know; INT has one u32 of encoding, offset and bits), and the words of each of its vlen items.
 */
const FIXED_WORDS: readonly number[] = [
  -1, 1, 0, BTF_ARRAY_SIZE / 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, BTF_VAR_SIZE / 4, 0, 0, BTF_DECL_TAG_SIZE / 4, 0, 0,
];
const ITEM_WORDS: readonly number[] = [
  0, 0, 0, 0, BTF_MEMBER_SIZE / 4, BTF_MEMBER_SIZE / 4, BTF_ENUM_SIZE / 4, 0, 0, 0, 0, 0, 0, BTF_PARAM_SIZE / 4, 0,
  BTF_VAR_SECINFO_SIZE / 4, 0, 0, 0, BTF_ENUM64_SIZE / 4,
];

function nameError(nameOff: number, stringsEnd: number, what: string, id: number, at: number): BtfError {
  return new BtfError(`${what} offset ${nameOff} is outside the string section (size ${stringsEnd})`, at, id);
}

function itemNameError(nameOff: number, stringsEnd: number, kind: number, item: number, id: number, at: number): BtfError {
  return nameError(nameOff, stringsEnd, `${BTF_KIND_NAMES[kind]} item ${item} name`, id, at);
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The type section as 32-bit words in host byte order: a view of `bytes` when it is aligned and in
 * host order (vmlinux), otherwise a converted copy (object sections are small).
 */
function typeWords(bytes: Uint8Array, start: number, len: number, le: boolean): Uint32Array {
  const count = len >>> 2;
  const at = bytes.byteOffset + start;
  if (le === HOST_LITTLE_ENDIAN && at % 4 === 0) return new Uint32Array(bytes.buffer, at, count);
  const view = new DataView(bytes.buffer, at, count * 4);
  const words = new Uint32Array(count);
  for (let i = 0; i < count; i++) words[i] = view.getUint32(i * 4, le);
  return words;
}

/**
 * Every type id a record names must exist: later layers index `types` without checking. Runs only
 * when some reference is past the last type, to report the first one in id order.
 */
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
