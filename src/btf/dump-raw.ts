import { isAscii } from 'node:buffer';
import type { Btf } from './btf.js';
import { Out, Piece, putAscii, putCString, putInt, putPiece, putUint } from './byte-writer.js';
import { BTF_KIND_NAMES } from './parse.js';
import type { BtfStrings } from './strings.js';
import {
  BTF_FUNC_EXTERN, BTF_FUNC_GLOBAL, BTF_FUNC_STATIC, BTF_INFO_KFLAG, BTF_INFO_KIND, BTF_INFO_VLEN,
  BTF_INT_BITS, BTF_INT_BOOL, BTF_INT_CHAR, BTF_INT_ENCODING, BTF_INT_OFFSET, BTF_INT_SIGNED,
  BTF_KIND_ARRAY, BTF_KIND_CONST, BTF_KIND_DATASEC, BTF_KIND_DECL_TAG, BTF_KIND_ENUM, BTF_KIND_ENUM64,
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

const HEAD: readonly Piece[] = BTF_KIND_NAMES.map((k) => new Piece(`] ${k} '`));
const ANON = new Piece('(anon)');
const NL = 10;
const OPEN = 91; // '['
const S_SIZE = new Piece("' size=");
const S_TYPE_ID = new Piece("' type_id=");
const S_BITS_OFFSET = new Piece(' bits_offset=');
const S_NR_BITS = new Piece(' nr_bits=');
const S_INDEX_TYPE_ID = new Piece(' index_type_id=');
const S_NR_ELEMS = new Piece(' nr_elems=');
const S_VLEN = new Piece(' vlen=');
const S_ITEM = new Piece("\n\t'");
const S_ITEM_TYPE_ID = new Piece("' type_id=");
const S_BITFIELD_SIZE = new Piece(' bitfield_size=');
const S_VAL = new Piece("' val=");
const S_FWD_UNION = new Piece("' fwd_kind=union");
const S_FWD_STRUCT = new Piece("' fwd_kind=struct");
const S_SECINFO = new Piece('\n\ttype_id=');
const S_OFFSET = new Piece(' offset=');
const S_SIZE_BARE = new Piece(' size=');
const S_PAREN = new Piece(' (');
const S_KIND_NAME = new Piece(" '");
const S_CLOSE = new Piece("')");
const S_COMPONENT_IDX = new Piece(' component_idx=');
const INT_ENCODINGS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15].map((e) => new Piece(` encoding=${intEncodingName(e)}`));
const FUNC_LINKAGES = [BTF_FUNC_STATIC, BTF_FUNC_GLOBAL, BTF_FUNC_EXTERN].map((l) => new Piece(` linkage=${funcLinkageName(l)}`));
const UNKNOWN_LINKAGE = new Piece(` linkage=${funcLinkageName(-1)}`);
const KIND_NAMES = BTF_KIND_NAMES.map((_, k) => new Piece(kindName(k)));

/**
 * What follows the name and precedes the record's size or type word, by kind, and by kind + 32
 * when kind_flag is set (ENUM's signedness); undefined for ARRAY and FWD, which print other fields.
 */
const FIRST_FIELD: readonly (Piece | undefined)[] = ((): (Piece | undefined)[] => {
  const t: (Piece | undefined)[] = [];
  for (const k of [BTF_KIND_PTR, BTF_KIND_CONST, BTF_KIND_VOLATILE, BTF_KIND_RESTRICT, BTF_KIND_TYPEDEF, BTF_KIND_TYPE_TAG,
    BTF_KIND_FUNC, BTF_KIND_VAR, BTF_KIND_DECL_TAG]) t[k] = S_TYPE_ID;
  for (const k of [BTF_KIND_INT, BTF_KIND_STRUCT, BTF_KIND_UNION, BTF_KIND_DATASEC, BTF_KIND_FLOAT]) t[k] = S_SIZE;
  t[BTF_KIND_FUNC_PROTO] = new Piece("' ret_type_id=");
  const unsigned = new Piece("' encoding=UNSIGNED size=");
  const signed = new Piece("' encoding=SIGNED size=");
  for (const k of [BTF_KIND_ENUM, BTF_KIND_ENUM64]) {
    t[k] = unsigned;
    t[k + 32] = signed;
  }
  for (let k = 0; k < 32; k++) t[k + 32] ??= t[k];
  return t;
})();

/** Kinds whose first field is followed by vlen and one line per item. */
const HAS_ITEMS: readonly boolean[] = BTF_KIND_NAMES.map((_, k) => k === BTF_KIND_STRUCT || k === BTF_KIND_UNION || k === BTF_KIND_ENUM
  || k === BTF_KIND_ENUM64 || k === BTF_KIND_FUNC_PROTO || k === BTF_KIND_DATASEC);

/** A name by string offset, looking through to the base's strings for split BTF; 0 is (anon). */
function putName(out: Out, pos: number, strings: BtfStrings, off: number): number {
  if (off === 0) return putPiece(out, pos, ANON);
  let s = strings;
  while (off < s.start && s.base) s = s.base;
  return putCString(out, pos, s.bytes, s.view, off - s.start);
}

/**
 * The part of a record after its first field (and vlen), for one kind: `words[w]` is the record,
 * `info` its info word. One small function per kind, so each is compiled to machine code on its own
 * early in a run and a kind that first appears late (DATASEC is last in vmlinux) does not throw away
 * the others'.
 */
type KindWriter = (out: Out, pos: number, words: Uint32Array, w: number, info: number, strings: BtfStrings, btf: Btf) => number;

function writeInt(out: Out, pos: number, words: Uint32Array, w: number): number {
  const v = words[w + 3]!;
  pos = putPiece(out, pos, S_BITS_OFFSET);
  pos = putUint(out, pos, BTF_INT_OFFSET(v));
  pos = putPiece(out, pos, S_NR_BITS);
  pos = putUint(out, pos, BTF_INT_BITS(v));
  return putPiece(out, pos, INT_ENCODINGS[BTF_INT_ENCODING(v)]!);
}

function writeArray(out: Out, pos: number, words: Uint32Array, w: number): number {
  pos = putPiece(out, pos, S_TYPE_ID);
  pos = putUint(out, pos, words[w + 3]!);
  pos = putPiece(out, pos, S_INDEX_TYPE_ID);
  pos = putUint(out, pos, words[w + 4]!);
  pos = putPiece(out, pos, S_NR_ELEMS);
  return putUint(out, pos, words[w + 5]!);
}

/** STRUCT and UNION members. */
function writeMembers(out: Out, pos: number, words: Uint32Array, w: number, info: number, strings: BtfStrings): number {
  const kflag = BTF_INFO_KFLAG(info);
  for (let m = w + 3, end = m + BTF_INFO_VLEN(info) * 3; m < end; m += 3) {
    const raw = words[m + 2]!;
    pos = putPiece(out, pos, S_ITEM);
    pos = putName(out, pos, strings, words[m]!);
    pos = putPiece(out, pos, S_ITEM_TYPE_ID);
    pos = putUint(out, pos, words[m + 1]!);
    pos = putPiece(out, pos, S_BITS_OFFSET);
    pos = putUint(out, pos, kflag ? BTF_MEMBER_BIT_OFFSET(raw) : raw);
    if (kflag && BTF_MEMBER_BITFIELD_SIZE(raw)) {
      pos = putPiece(out, pos, S_BITFIELD_SIZE);
      pos = putUint(out, pos, BTF_MEMBER_BITFIELD_SIZE(raw));
    }
  }
  return pos;
}

function writeEnumValues(out: Out, pos: number, words: Uint32Array, w: number, info: number, strings: BtfStrings): number {
  const signed = BTF_INFO_KFLAG(info);
  for (let e = w + 3, end = e + BTF_INFO_VLEN(info) * 2; e < end; e += 2) {
    const v = words[e + 1]!;
    pos = putPiece(out, pos, S_ITEM);
    pos = putName(out, pos, strings, words[e]!);
    pos = putPiece(out, pos, S_VAL);
    pos = signed ? putInt(out, pos, v | 0) : putUint(out, pos, v);
  }
  return pos;
}

function writeEnum64Values(out: Out, pos: number, words: Uint32Array, w: number, info: number, strings: BtfStrings): number {
  const signed = BTF_INFO_KFLAG(info);
  for (let e = w + 3, end = e + BTF_INFO_VLEN(info) * 3; e < end; e += 3) {
    const u = (BigInt(words[e + 2]!) << 32n) | BigInt(words[e + 1]!);
    pos = putPiece(out, pos, S_ITEM);
    pos = putName(out, pos, strings, words[e]!);
    pos = putPiece(out, pos, S_VAL);
    pos = putAscii(out, pos, signed ? `${BigInt.asIntN(64, u)}LL` : `${u}ULL`);
  }
  return pos;
}

function writeFwd(out: Out, pos: number, _words: Uint32Array, _w: number, info: number): number {
  return putPiece(out, pos, BTF_INFO_KFLAG(info) ? S_FWD_UNION : S_FWD_STRUCT);
}

function writeFuncLinkage(out: Out, pos: number, _words: Uint32Array, _w: number, info: number): number {
  return putPiece(out, pos, FUNC_LINKAGES[BTF_INFO_VLEN(info)] ?? UNKNOWN_LINKAGE);
}

function writeParams(out: Out, pos: number, words: Uint32Array, w: number, info: number, strings: BtfStrings): number {
  for (let p = w + 3, end = p + BTF_INFO_VLEN(info) * 2; p < end; p += 2) {
    pos = putPiece(out, pos, S_ITEM);
    pos = putName(out, pos, strings, words[p]!);
    pos = putPiece(out, pos, S_ITEM_TYPE_ID);
    pos = putUint(out, pos, words[p + 1]!);
  }
  return pos;
}

function writeVarLinkage(out: Out, pos: number, words: Uint32Array, w: number): number {
  return putAscii(out, pos, `, linkage=${varLinkageName(words[w + 3]!)}`);
}

function writeSecinfo(out: Out, pos: number, words: Uint32Array, w: number, info: number, strings: BtfStrings, btf: Btf): number {
  for (let v = w + 3, end = v + BTF_INFO_VLEN(info) * 3; v < end; v += 3) {
    const type = words[v]!;
    pos = putPiece(out, pos, S_SECINFO);
    pos = putUint(out, pos, type);
    pos = putPiece(out, pos, S_OFFSET);
    pos = putUint(out, pos, words[v + 1]!);
    pos = putPiece(out, pos, S_SIZE_BARE);
    pos = putUint(out, pos, words[v + 2]!);
    const target = holderRecord(btf, type);
    pos = putPiece(out, pos, S_PAREN);
    pos = putPiece(out, pos, KIND_NAMES[target ? BTF_INFO_KIND(target.words[target.at + 1]!) : 0]!);
    pos = putPiece(out, pos, S_KIND_NAME);
    pos = putName(out, pos, strings, target ? target.words[target.at]! : 0);
    pos = putPiece(out, pos, S_CLOSE);
  }
  return pos;
}

function writeComponentIdx(out: Out, pos: number, words: Uint32Array, w: number): number {
  pos = putPiece(out, pos, S_COMPONENT_IDX);
  return putInt(out, pos, words[w + 3]! | 0);
}

/** Index = kind; kinds that print only their first field have none. */
const KIND_WRITERS: readonly (KindWriter | undefined)[] = ((): (KindWriter | undefined)[] => {
  const t: (KindWriter | undefined)[] = [];
  t[BTF_KIND_INT] = writeInt;
  t[BTF_KIND_ARRAY] = writeArray;
  t[BTF_KIND_STRUCT] = writeMembers;
  t[BTF_KIND_UNION] = writeMembers;
  t[BTF_KIND_ENUM] = writeEnumValues;
  t[BTF_KIND_ENUM64] = writeEnum64Values;
  t[BTF_KIND_FWD] = writeFwd;
  t[BTF_KIND_FUNC] = writeFuncLinkage;
  t[BTF_KIND_FUNC_PROTO] = writeParams;
  t[BTF_KIND_VAR] = writeVarLinkage;
  t[BTF_KIND_DATASEC] = writeSecinfo;
  t[BTF_KIND_DECL_TAG] = writeComponentIdx;
  return t;
})();

/** One type as bpftool prints it, from the record at word `w`, ending with a newline. */
function writeRecord(out: Out, pos: number, btf: Btf, words: Uint32Array, id: number, w: number): number {
  const info = words[w + 1]!;
  const kind = BTF_INFO_KIND(info);
  out.buf[pos++] = OPEN;
  pos = putUint(out, pos, id);
  pos = putPiece(out, pos, HEAD[kind]!);
  pos = putName(out, pos, btf.strings, words[w]!);
  const first = FIRST_FIELD[BTF_INFO_KFLAG(info) ? kind + 32 : kind];
  if (first) {
    pos = putPiece(out, pos, first);
    pos = putUint(out, pos, words[w + 2]!);
  }
  if (HAS_ITEMS[kind]) {
    pos = putPiece(out, pos, S_VLEN);
    pos = putUint(out, pos, BTF_INFO_VLEN(info));
  }
  const rest = KIND_WRITERS[kind];
  if (rest) pos = rest(out, pos, words, w, info, btf.strings, btf);
  out.buf[pos++] = NL;
  return pos;
}

/** The raw dump as bytes, ready for a stream. */
export function dumpRawBytes(btf: Btf): Uint8Array {
  const { words, offsets, typeStart } = btf.records;
  // vmlinux's dump is 2.2 times its BTF; untouched capacity costs no memory.
  const out = new Out(btf.records.bytes.length * 3 + 4096);
  let pos = 0;
  for (let i = 0; i < offsets.length; i++) {
    const w = (offsets[i]! - typeStart) >>> 2;
    let end = writeRecord(out, pos, btf, words, btf.startId + i, w);
    if (end > out.buf.length) {
      out.grow(pos, end - pos);
      end = writeRecord(out, pos, btf, words, btf.startId + i, w);
    }
    pos = end;
  }
  return out.buf.subarray(0, pos);
}

/** Where any type id's record is, looking through to the base for split BTF; undefined for void. */
function holderRecord(btf: Btf, id: number): { words: Uint32Array; at: number } | undefined {
  const holder = btf.holderOf(id);
  if (!holder) return undefined;
  const { words, offsets, typeStart } = holder.records;
  return { words, at: (offsets[id - holder.startId]! - typeStart) >>> 2 };
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
