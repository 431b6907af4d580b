import { isAscii } from 'node:buffer';
import type { Btf } from './btf.js';
import { asciiBytes, grown, putAscii, putBytes, putCString, putInt, putUint } from './byte-writer.js';
import { BTF_KIND_NAMES } from './parse.js';
import type { BtfStrings } from './strings.js';
import {
  BTF_FUNC_EXTERN, BTF_FUNC_GLOBAL, BTF_FUNC_STATIC, BTF_INFO_KFLAG, BTF_INFO_KIND, BTF_INFO_VLEN,
  BTF_INT_BITS, BTF_INT_BOOL, BTF_INT_CHAR, BTF_INT_ENCODING, BTF_INT_OFFSET, BTF_INT_SIGNED,
  BTF_KIND_ARRAY, BTF_KIND_CONST, BTF_KIND_DATASEC, BTF_KIND_ENUM, BTF_KIND_ENUM64,
  BTF_KIND_FLOAT, BTF_KIND_FUNC, BTF_KIND_FUNC_PROTO, BTF_KIND_FWD, BTF_KIND_INT, BTF_KIND_PTR,
  BTF_KIND_RESTRICT, BTF_KIND_STRUCT, BTF_KIND_TYPEDEF, BTF_KIND_TYPE_TAG, BTF_KIND_UNION, BTF_KIND_VAR,
  BTF_KIND_VOLATILE, BTF_MEMBER_BITFIELD_SIZE, BTF_MEMBER_BIT_OFFSET,
  BTF_VAR_GLOBAL_ALLOCATED, BTF_VAR_GLOBAL_EXTERN, BTF_VAR_STATIC,
} from './uapi.js';

// What bpftool v7.1 prints for each type (tools/bpf/bpftool/btf.c, dump_btf_type), written straight
// from the validated records: the raw dump of vmlinux is 12 MB of text.

export function intEncodingName(encoding: number): string {
  switch (encoding) {
    case 0: return '(none)';
    case BTF_INT_SIGNED: return 'SIGNED';
    case BTF_INT_CHAR: return 'CHAR';
    case BTF_INT_BOOL: return 'BOOL';
    default: return 'UNKN';
  }
}

export function funcLinkageName(linkage: number): string {
  switch (linkage) {
    case BTF_FUNC_STATIC: return 'static';
    case BTF_FUNC_GLOBAL: return 'global';
    case BTF_FUNC_EXTERN: return 'extern';
    default: return '(unknown)';
  }
}

export function varLinkageName(linkage: number): string {
  switch (linkage) {
    case BTF_VAR_STATIC: return 'static';
    case BTF_VAR_GLOBAL_ALLOCATED: return 'global';
    case BTF_VAR_GLOBAL_EXTERN: return 'extern';
    default: return '(unknown)';
  }
}

/** bpftool shows an empty name as (anon). */
export function shownName(name: string): string {
  return name === '' ? '(anon)' : name;
}

/** bpftool's word for a kind (UNKNOWN for void). */
export function kindName(kind: number): string {
  return kind === 0 ? 'UNKNOWN' : BTF_KIND_NAMES[kind]!;
}

const HEAD: readonly Uint8Array[] = BTF_KIND_NAMES.map((k) => asciiBytes(`] ${k} '`));
const ANON = asciiBytes('(anon)');
const NL = 10;
const OPEN = 91; // '['
const S_SIZE = asciiBytes("' size=");
const S_TYPE_ID = asciiBytes("' type_id=");
const S_RET_TYPE_ID = asciiBytes("' ret_type_id=");
const S_BITS_OFFSET = asciiBytes(' bits_offset=');
const S_NR_BITS = asciiBytes(' nr_bits=');
const S_ENCODING = asciiBytes(' encoding=');
const S_INDEX_TYPE_ID = asciiBytes(' index_type_id=');
const S_NR_ELEMS = asciiBytes(' nr_elems=');
const S_VLEN = asciiBytes(' vlen=');
const S_ITEM = asciiBytes("\n\t'");
const S_ITEM_TYPE_ID = asciiBytes("' type_id=");
const S_BITFIELD_SIZE = asciiBytes(' bitfield_size=');
const S_ENUM_SIGNED = asciiBytes("' encoding=SIGNED size=");
const S_ENUM_UNSIGNED = asciiBytes("' encoding=UNSIGNED size=");
const S_VAL = asciiBytes("' val=");
const S_FWD_UNION = asciiBytes("' fwd_kind=union");
const S_FWD_STRUCT = asciiBytes("' fwd_kind=struct");
const S_LINKAGE = asciiBytes(' linkage=');
const S_VAR_LINKAGE = asciiBytes(', linkage=');
const S_SECINFO = asciiBytes('\n\ttype_id=');
const S_OFFSET = asciiBytes(' offset=');
const S_SIZE_BARE = asciiBytes(' size=');
const S_PAREN = asciiBytes(' (');
const S_KIND_NAME = asciiBytes(" '");
const S_CLOSE = asciiBytes("')");
const S_COMPONENT_IDX = asciiBytes(' component_idx=');
const INT_ENCODINGS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15].map((e) => asciiBytes(intEncodingName(e)));
const FUNC_LINKAGES = [BTF_FUNC_STATIC, BTF_FUNC_GLOBAL, BTF_FUNC_EXTERN].map((l) => asciiBytes(funcLinkageName(l)));
const UNKNOWN_LINKAGE = asciiBytes(funcLinkageName(-1));
const KIND_NAMES = BTF_KIND_NAMES.map((_, k) => asciiBytes(kindName(k)));

/** A name by string offset, looking through to the base's strings for split BTF; 0 is (anon). */
function putName(buf: Uint8Array, pos: number, strings: BtfStrings, off: number): number {
  if (off === 0) return putBytes(buf, pos, ANON);
  let s = strings;
  while (off < s.start && s.base) s = s.base;
  return putCString(buf, pos, s.bytes, off - s.start);
}

/** The raw dump as bytes, ready for a stream. */
export function dumpRawBytes(btf: Btf): Uint8Array {
  const { offsets, typeStart } = btf.records;
  // vmlinux's dump is 2.2 times its BTF; untouched capacity costs no memory.
  let buf: Uint8Array = Buffer.allocUnsafeSlow(btf.records.bytes.length * 3 + 4096);
  let pos = 0;
  for (let i = 0; i < offsets.length; i++) {
    const w = (offsets[i]! - typeStart) >>> 2;
    let end = writeRecord(buf, pos, btf, btf.startId + i, w);
    if (end > buf.length) {
      buf = grown(buf, pos, end - pos);
      end = writeRecord(buf, pos, btf, btf.startId + i, w);
    }
    pos = end;
  }
  return buf.subarray(0, pos);
}

/** Where any type id's record is, looking through to the base for split BTF; undefined for void. */
function holderRecord(btf: Btf, id: number): { words: Uint32Array; at: number } | undefined {
  const holder = btf.holderOf(id);
  if (!holder) return undefined;
  const { words, offsets, typeStart } = holder.records;
  return { words, at: (offsets[id - holder.startId]! - typeStart) >>> 2 };
}

/** One type as bpftool prints it, from the record at word `w`, ending with a newline. */
function writeRecord(buf: Uint8Array, pos: number, btf: Btf, id: number, w: number): number {
  const words = btf.records.words;
  const strings = btf.strings;
  const info = words[w + 1]!;
  const kind = BTF_INFO_KIND(info);
  const vlen = BTF_INFO_VLEN(info);
  const kflag = BTF_INFO_KFLAG(info);
  const sizeOrType = words[w + 2]!;
  const body = w + 3;
  buf[pos++] = OPEN;
  pos = putUint(buf, pos, id);
  pos = putBytes(buf, pos, HEAD[kind]!);
  pos = putName(buf, pos, strings, words[w]!);
  switch (kind) {
    case BTF_KIND_INT: {
      const v = words[body]!;
      pos = putBytes(buf, pos, S_SIZE);
      pos = putUint(buf, pos, sizeOrType);
      pos = putBytes(buf, pos, S_BITS_OFFSET);
      pos = putUint(buf, pos, BTF_INT_OFFSET(v));
      pos = putBytes(buf, pos, S_NR_BITS);
      pos = putUint(buf, pos, BTF_INT_BITS(v));
      pos = putBytes(buf, pos, S_ENCODING);
      pos = putBytes(buf, pos, INT_ENCODINGS[BTF_INT_ENCODING(v)]!);
      break;
    }
    case BTF_KIND_PTR: case BTF_KIND_CONST: case BTF_KIND_VOLATILE: case BTF_KIND_RESTRICT: case BTF_KIND_TYPEDEF: case BTF_KIND_TYPE_TAG:
      pos = putBytes(buf, pos, S_TYPE_ID);
      pos = putUint(buf, pos, sizeOrType);
      break;
    case BTF_KIND_ARRAY:
      pos = putBytes(buf, pos, S_TYPE_ID);
      pos = putUint(buf, pos, words[body]!);
      pos = putBytes(buf, pos, S_INDEX_TYPE_ID);
      pos = putUint(buf, pos, words[body + 1]!);
      pos = putBytes(buf, pos, S_NR_ELEMS);
      pos = putUint(buf, pos, words[body + 2]!);
      break;
    case BTF_KIND_STRUCT: case BTF_KIND_UNION:
      pos = putBytes(buf, pos, S_SIZE);
      pos = putUint(buf, pos, sizeOrType);
      pos = putBytes(buf, pos, S_VLEN);
      pos = putUint(buf, pos, vlen);
      for (let m = body, end = body + vlen * 3; m < end; m += 3) {
        const raw = words[m + 2]!;
        pos = putBytes(buf, pos, S_ITEM);
        pos = putName(buf, pos, strings, words[m]!);
        pos = putBytes(buf, pos, S_ITEM_TYPE_ID);
        pos = putUint(buf, pos, words[m + 1]!);
        pos = putBytes(buf, pos, S_BITS_OFFSET);
        pos = putUint(buf, pos, kflag ? BTF_MEMBER_BIT_OFFSET(raw) : raw);
        if (kflag && BTF_MEMBER_BITFIELD_SIZE(raw)) {
          pos = putBytes(buf, pos, S_BITFIELD_SIZE);
          pos = putUint(buf, pos, BTF_MEMBER_BITFIELD_SIZE(raw));
        }
      }
      break;
    case BTF_KIND_ENUM:
      pos = putBytes(buf, pos, kflag ? S_ENUM_SIGNED : S_ENUM_UNSIGNED);
      pos = putUint(buf, pos, sizeOrType);
      pos = putBytes(buf, pos, S_VLEN);
      pos = putUint(buf, pos, vlen);
      for (let e = body, end = body + vlen * 2; e < end; e += 2) {
        const v = words[e + 1]!;
        pos = putBytes(buf, pos, S_ITEM);
        pos = putName(buf, pos, strings, words[e]!);
        pos = putBytes(buf, pos, S_VAL);
        pos = kflag ? putInt(buf, pos, v | 0) : putUint(buf, pos, v);
      }
      break;
    case BTF_KIND_ENUM64:
      pos = putBytes(buf, pos, kflag ? S_ENUM_SIGNED : S_ENUM_UNSIGNED);
      pos = putUint(buf, pos, sizeOrType);
      pos = putBytes(buf, pos, S_VLEN);
      pos = putUint(buf, pos, vlen);
      for (let e = body, end = body + vlen * 3; e < end; e += 3) {
        const u = (BigInt(words[e + 2]!) << 32n) | BigInt(words[e + 1]!);
        pos = putBytes(buf, pos, S_ITEM);
        pos = putName(buf, pos, strings, words[e]!);
        pos = putBytes(buf, pos, S_VAL);
        pos = putAscii(buf, pos, kflag ? `${BigInt.asIntN(64, u)}LL` : `${u}ULL`);
      }
      break;
    case BTF_KIND_FWD:
      pos = putBytes(buf, pos, kflag ? S_FWD_UNION : S_FWD_STRUCT);
      break;
    case BTF_KIND_FUNC:
      pos = putBytes(buf, pos, S_TYPE_ID);
      pos = putUint(buf, pos, sizeOrType);
      pos = putBytes(buf, pos, S_LINKAGE);
      pos = putBytes(buf, pos, FUNC_LINKAGES[vlen] ?? UNKNOWN_LINKAGE);
      break;
    case BTF_KIND_FUNC_PROTO:
      pos = putBytes(buf, pos, S_RET_TYPE_ID);
      pos = putUint(buf, pos, sizeOrType);
      pos = putBytes(buf, pos, S_VLEN);
      pos = putUint(buf, pos, vlen);
      for (let p = body, end = body + vlen * 2; p < end; p += 2) {
        pos = putBytes(buf, pos, S_ITEM);
        pos = putName(buf, pos, strings, words[p]!);
        pos = putBytes(buf, pos, S_ITEM_TYPE_ID);
        pos = putUint(buf, pos, words[p + 1]!);
      }
      break;
    case BTF_KIND_VAR:
      pos = putBytes(buf, pos, S_TYPE_ID);
      pos = putUint(buf, pos, sizeOrType);
      pos = putBytes(buf, pos, S_VAR_LINKAGE);
      pos = putAscii(buf, pos, varLinkageName(words[body]!));
      break;
    case BTF_KIND_DATASEC:
      pos = putBytes(buf, pos, S_SIZE);
      pos = putUint(buf, pos, sizeOrType);
      pos = putBytes(buf, pos, S_VLEN);
      pos = putUint(buf, pos, vlen);
      for (let v = body, end = body + vlen * 3; v < end; v += 3) {
        const type = words[v]!;
        pos = putBytes(buf, pos, S_SECINFO);
        pos = putUint(buf, pos, type);
        pos = putBytes(buf, pos, S_OFFSET);
        pos = putUint(buf, pos, words[v + 1]!);
        pos = putBytes(buf, pos, S_SIZE_BARE);
        pos = putUint(buf, pos, words[v + 2]!);
        const target = holderRecord(btf, type);
        pos = putBytes(buf, pos, S_PAREN);
        pos = putBytes(buf, pos, KIND_NAMES[target ? BTF_INFO_KIND(target.words[target.at + 1]!) : 0]!);
        pos = putBytes(buf, pos, S_KIND_NAME);
        pos = putName(buf, pos, strings, target ? target.words[target.at]! : 0);
        pos = putBytes(buf, pos, S_CLOSE);
      }
      break;
    case BTF_KIND_FLOAT:
      pos = putBytes(buf, pos, S_SIZE);
      pos = putUint(buf, pos, sizeOrType);
      break;
    default: // BTF_KIND_DECL_TAG: the parser admits no other kind
      pos = putBytes(buf, pos, S_TYPE_ID);
      pos = putUint(buf, pos, sizeOrType);
      pos = putBytes(buf, pos, S_COMPONENT_IDX);
      pos = putInt(buf, pos, words[body]! | 0);
      break;
  }
  buf[pos++] = NL;
  return pos;
}

/**
 * The text `bpftool btf dump file FILE` prints (raw format): one record per type, only this BTF's
 * own types when it is split BTF.
 */
export function dumpRaw(btf: Btf): string {
  const bytes = dumpRawBytes(btf);
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  return b.toString(isAscii(b) ? 'latin1' : 'utf8');
}
