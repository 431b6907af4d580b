import type { Btf } from './btf.js';
import { ByteWriter } from './byte-writer.js';
import { BTF_KIND_NAMES } from './parse.js';
import type { BtfStrings } from './strings.js';
import {
  BTF_FUNC_EXTERN, BTF_FUNC_GLOBAL, BTF_FUNC_STATIC, BTF_INFO_KFLAG, BTF_INFO_KIND, BTF_INFO_VLEN,
  BTF_INT_BITS, BTF_INT_BOOL, BTF_INT_CHAR, BTF_INT_ENCODING, BTF_INT_OFFSET, BTF_INT_SIGNED,
  BTF_KIND_ARRAY, BTF_KIND_CONST, BTF_KIND_DATASEC, BTF_KIND_DECL_TAG, BTF_KIND_ENUM, BTF_KIND_ENUM64,
  BTF_KIND_FLOAT, BTF_KIND_FUNC, BTF_KIND_FUNC_PROTO, BTF_KIND_FWD, BTF_KIND_INT, BTF_KIND_PTR,
  BTF_KIND_RESTRICT, BTF_KIND_STRUCT, BTF_KIND_TYPEDEF, BTF_KIND_TYPE_TAG, BTF_KIND_UNION, BTF_KIND_VAR,
  BTF_KIND_VOLATILE, BTF_MEMBER_BITFIELD_SIZE, BTF_MEMBER_BIT_OFFSET, BTF_TYPE_SIZE,
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

function name(w: ByteWriter, strings: BtfStrings, off: number): void {
  if (off === 0) {
    w.ascii('(anon)');
    return;
  }
  let s = strings;
  while (off < s.start && s.base) s = s.base;
  w.cstring(s.bytes, off - s.start);
}

/** The name and kind of any type id, looking through to the base for split BTF. */
function kindAndName(btf: Btf, id: number): { kind: number; nameOff: number } {
  const holder = btf.holderOf(id);
  if (!holder) return { kind: 0, nameOff: 0 };
  const { view, offsets } = holder.records;
  const rec = offsets[id - holder.startId]!;
  return { kind: BTF_INFO_KIND(view.getUint32(rec + 4, holder.littleEndian)), nameOff: view.getUint32(rec, holder.littleEndian) };
}

/** The raw dump as bytes, ready for a stream. */
export function dumpRawBytes(btf: Btf): Uint8Array {
  return writeRaw(btf).bytes();
}

function writeRaw(btf: Btf): ByteWriter {
  const { view, offsets, bytes } = btf.records;
  const le = btf.littleEndian;
  const strings = btf.strings;
  const w = new ByteWriter(Math.max(1 << 16, bytes.length * 3));
  for (let i = 0; i < offsets.length; i++) {
    const rec = offsets[i]!;
    const info = view.getUint32(rec + 4, le);
    const kind = BTF_INFO_KIND(info);
    const vlen = BTF_INFO_VLEN(info);
    const kflag = BTF_INFO_KFLAG(info);
    const sizeOrType = view.getUint32(rec + 8, le);
    const body = rec + BTF_TYPE_SIZE;
    w.ascii('[');
    w.uint(btf.startId + i);
    w.ascii('] ');
    w.ascii(BTF_KIND_NAMES[kind]!);
    w.ascii(" '");
    name(w, strings, view.getUint32(rec, le));
    w.ascii("'");
    switch (kind) {
      case BTF_KIND_INT: {
        const v = view.getUint32(body, le);
        w.ascii(' size=');
        w.uint(sizeOrType);
        w.ascii(' bits_offset=');
        w.uint(BTF_INT_OFFSET(v));
        w.ascii(' nr_bits=');
        w.uint(BTF_INT_BITS(v));
        w.ascii(' encoding=');
        w.ascii(intEncodingName(BTF_INT_ENCODING(v)));
        break;
      }
      case BTF_KIND_PTR: case BTF_KIND_CONST: case BTF_KIND_VOLATILE: case BTF_KIND_RESTRICT: case BTF_KIND_TYPEDEF: case BTF_KIND_TYPE_TAG:
        w.ascii(' type_id=');
        w.uint(sizeOrType);
        break;
      case BTF_KIND_ARRAY:
        w.ascii(' type_id=');
        w.uint(view.getUint32(body, le));
        w.ascii(' index_type_id=');
        w.uint(view.getUint32(body + 4, le));
        w.ascii(' nr_elems=');
        w.uint(view.getUint32(body + 8, le));
        break;
      case BTF_KIND_STRUCT: case BTF_KIND_UNION:
        w.ascii(' size=');
        w.uint(sizeOrType);
        w.ascii(' vlen=');
        w.uint(vlen);
        for (let j = 0, m = body; j < vlen; j++, m += 12) {
          const raw = view.getUint32(m + 8, le);
          w.ascii("\n\t'");
          name(w, strings, view.getUint32(m, le));
          w.ascii("' type_id=");
          w.uint(view.getUint32(m + 4, le));
          w.ascii(' bits_offset=');
          w.uint(kflag ? BTF_MEMBER_BIT_OFFSET(raw) : raw);
          if (kflag && BTF_MEMBER_BITFIELD_SIZE(raw)) {
            w.ascii(' bitfield_size=');
            w.uint(BTF_MEMBER_BITFIELD_SIZE(raw));
          }
        }
        break;
      case BTF_KIND_ENUM:
        w.ascii(kflag ? ' encoding=SIGNED size=' : ' encoding=UNSIGNED size=');
        w.uint(sizeOrType);
        w.ascii(' vlen=');
        w.uint(vlen);
        for (let j = 0, e = body; j < vlen; j++, e += 8) {
          w.ascii("\n\t'");
          name(w, strings, view.getUint32(e, le));
          w.ascii("' val=");
          if (kflag) w.int(view.getInt32(e + 4, le));
          else w.uint(view.getUint32(e + 4, le));
        }
        break;
      case BTF_KIND_ENUM64:
        w.ascii(kflag ? ' encoding=SIGNED size=' : ' encoding=UNSIGNED size=');
        w.uint(sizeOrType);
        w.ascii(' vlen=');
        w.uint(vlen);
        for (let j = 0, e = body; j < vlen; j++, e += 12) {
          const u = (BigInt(view.getUint32(e + 8, le)) << 32n) | BigInt(view.getUint32(e + 4, le));
          w.ascii("\n\t'");
          name(w, strings, view.getUint32(e, le));
          w.ascii("' val=");
          w.ascii(kflag ? `${BigInt.asIntN(64, u)}LL` : `${u}ULL`);
        }
        break;
      case BTF_KIND_FWD:
        w.ascii(kflag ? ' fwd_kind=union' : ' fwd_kind=struct');
        break;
      case BTF_KIND_FUNC:
        w.ascii(' type_id=');
        w.uint(sizeOrType);
        w.ascii(' linkage=');
        w.ascii(funcLinkageName(vlen));
        break;
      case BTF_KIND_FUNC_PROTO:
        w.ascii(' ret_type_id=');
        w.uint(sizeOrType);
        w.ascii(' vlen=');
        w.uint(vlen);
        for (let j = 0, p = body; j < vlen; j++, p += 8) {
          w.ascii("\n\t'");
          name(w, strings, view.getUint32(p, le));
          w.ascii("' type_id=");
          w.uint(view.getUint32(p + 4, le));
        }
        break;
      case BTF_KIND_VAR:
        w.ascii(' type_id=');
        w.uint(sizeOrType);
        w.ascii(', linkage=');
        w.ascii(varLinkageName(view.getUint32(body, le)));
        break;
      case BTF_KIND_DATASEC:
        w.ascii(' size=');
        w.uint(sizeOrType);
        w.ascii(' vlen=');
        w.uint(vlen);
        for (let j = 0, v = body; j < vlen; j++, v += 12) {
          const type = view.getUint32(v, le);
          w.ascii('\n\ttype_id=');
          w.uint(type);
          w.ascii(' offset=');
          w.uint(view.getUint32(v + 4, le));
          w.ascii(' size=');
          w.uint(view.getUint32(v + 8, le));
          const target = kindAndName(btf, type);
          w.ascii(' (');
          w.ascii(kindName(target.kind));
          w.ascii(" '");
          name(w, strings, target.nameOff);
          w.ascii("')");
        }
        break;
      case BTF_KIND_FLOAT:
        w.ascii(' size=');
        w.uint(sizeOrType);
        break;
      case BTF_KIND_DECL_TAG:
        w.ascii(' type_id=');
        w.uint(sizeOrType);
        w.ascii(' component_idx=');
        w.int(view.getInt32(body, le));
        break;
      default:
        break;
    }
    w.ascii('\n');
  }
  return w;
}

/**
 * The text `bpftool btf dump file FILE` prints (raw format): one record per type, only this BTF's
 * own types when it is split BTF.
 */
export function dumpRaw(btf: Btf): string {
  return writeRaw(btf).text();
}
