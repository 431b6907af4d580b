import type { BtfStrings } from './strings.js';
import type { BtfMember, BtfParam, BtfType, BtfVarSecinfo } from './types.js';
import {
  BTF_ENUM64_SIZE, BTF_ENUM_SIZE, BTF_INFO_KFLAG, BTF_INFO_KIND, BTF_INFO_VLEN, BTF_INT_BITS,
  BTF_INT_ENCODING, BTF_INT_OFFSET, BTF_KIND_ARRAY, BTF_KIND_CONST, BTF_KIND_DATASEC, BTF_KIND_ENUM,
  BTF_KIND_ENUM64, BTF_KIND_FLOAT, BTF_KIND_FUNC, BTF_KIND_FUNC_PROTO, BTF_KIND_FWD, BTF_KIND_INT,
  BTF_KIND_PTR, BTF_KIND_RESTRICT, BTF_KIND_STRUCT, BTF_KIND_TYPEDEF, BTF_KIND_TYPE_TAG,
  BTF_KIND_UNION, BTF_KIND_VAR, BTF_KIND_VOLATILE, BTF_MEMBER_BITFIELD_SIZE, BTF_MEMBER_BIT_OFFSET,
  BTF_MEMBER_SIZE, BTF_PARAM_SIZE, BTF_TYPE_SIZE, BTF_VAR_SECINFO_SIZE,
} from './uapi.js';

const REF_KINDS = {
  [BTF_KIND_PTR]: 'PTR', [BTF_KIND_TYPEDEF]: 'TYPEDEF', [BTF_KIND_VOLATILE]: 'VOLATILE', [BTF_KIND_CONST]: 'CONST',
  [BTF_KIND_RESTRICT]: 'RESTRICT', [BTF_KIND_TYPE_TAG]: 'TYPE_TAG',
} as const;

/**
 * Build the model object for the record at `rec`. The parser has already checked that the record,
 * its names and its type references are in range, so nothing here can read out of bounds.
 */
export function decodeType(view: DataView, le: boolean, strings: BtfStrings, id: number, rec: number): BtfType {
  const nameOff = view.getUint32(rec, le);
  const info = view.getUint32(rec + 4, le);
  const sizeOrType = view.getUint32(rec + 8, le);
  const kind = BTF_INFO_KIND(info);
  const vlen = BTF_INFO_VLEN(info);
  const kflag = BTF_INFO_KFLAG(info);
  const name = nameOff === 0 ? '' : strings.tryGet(nameOff)!;
  const off = rec + BTF_TYPE_SIZE;
  switch (kind) {
    case BTF_KIND_INT: {
      const v = view.getUint32(off, le);
      return { id, name, nameOff, info, offset: rec, kind: 'INT', size: sizeOrType, encoding: BTF_INT_ENCODING(v), bitsOffset: BTF_INT_OFFSET(v), bits: BTF_INT_BITS(v) };
    }
    case BTF_KIND_PTR: case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST: case BTF_KIND_RESTRICT: case BTF_KIND_TYPE_TAG:
      return { id, name, nameOff, info, offset: rec, kind: REF_KINDS[kind], type: sizeOrType };
    case BTF_KIND_ARRAY:
      return { id, name, nameOff, info, offset: rec, kind: 'ARRAY', type: view.getUint32(off, le), indexType: view.getUint32(off + 4, le), nelems: view.getUint32(off + 8, le) };
    case BTF_KIND_STRUCT: case BTF_KIND_UNION: {
      const members: BtfMember[] = new Array(vlen);
      for (let i = 0, m = off; i < vlen; i++, m += BTF_MEMBER_SIZE) {
        const mNameOff = view.getUint32(m, le);
        const raw = view.getUint32(m + 8, le);
        members[i] = {
          name: mNameOff === 0 ? '' : strings.tryGet(mNameOff)!,
          nameOff: mNameOff,
          type: view.getUint32(m + 4, le),
          bitOffset: kflag ? BTF_MEMBER_BIT_OFFSET(raw) : raw,
          bitfieldSize: kflag ? BTF_MEMBER_BITFIELD_SIZE(raw) : 0,
        };
      }
      return { id, name, nameOff, info, offset: rec, kind: kind === BTF_KIND_STRUCT ? 'STRUCT' : 'UNION', size: sizeOrType, kflag, members };
    }
    case BTF_KIND_ENUM: {
      const values = new Array(vlen);
      for (let i = 0, e = off; i < vlen; i++, e += BTF_ENUM_SIZE) {
        const vNameOff = view.getUint32(e, le);
        values[i] = { name: strings.tryGet(vNameOff)!, nameOff: vNameOff, value: kflag ? view.getInt32(e + 4, le) : view.getUint32(e + 4, le) };
      }
      return { id, name, nameOff, info, offset: rec, kind: 'ENUM', size: sizeOrType, signed: kflag, values };
    }
    case BTF_KIND_ENUM64: {
      const values = new Array(vlen);
      for (let i = 0, e = off; i < vlen; i++, e += BTF_ENUM64_SIZE) {
        const vNameOff = view.getUint32(e, le);
        const u = (BigInt(view.getUint32(e + 8, le)) << 32n) | BigInt(view.getUint32(e + 4, le));
        values[i] = { name: strings.tryGet(vNameOff)!, nameOff: vNameOff, value: kflag ? BigInt.asIntN(64, u) : u };
      }
      return { id, name, nameOff, info, offset: rec, kind: 'ENUM64', size: sizeOrType, signed: kflag, values };
    }
    case BTF_KIND_FWD:
      return { id, name, nameOff, info, offset: rec, kind: 'FWD', union: kflag };
    case BTF_KIND_FUNC:
      return { id, name, nameOff, info, offset: rec, kind: 'FUNC', type: sizeOrType, linkage: vlen };
    case BTF_KIND_FUNC_PROTO: {
      const params: BtfParam[] = new Array(vlen);
      for (let i = 0, p = off; i < vlen; i++, p += BTF_PARAM_SIZE) {
        const pNameOff = view.getUint32(p, le);
        params[i] = { name: pNameOff === 0 ? '' : strings.tryGet(pNameOff)!, nameOff: pNameOff, type: view.getUint32(p + 4, le) };
      }
      return { id, name, nameOff, info, offset: rec, kind: 'FUNC_PROTO', returnType: sizeOrType, params };
    }
    case BTF_KIND_VAR:
      return { id, name, nameOff, info, offset: rec, kind: 'VAR', type: sizeOrType, linkage: view.getUint32(off, le) };
    case BTF_KIND_DATASEC: {
      const vars: BtfVarSecinfo[] = new Array(vlen);
      for (let i = 0, v = off; i < vlen; i++, v += BTF_VAR_SECINFO_SIZE) {
        vars[i] = { type: view.getUint32(v, le), offset: view.getUint32(v + 4, le), size: view.getUint32(v + 8, le) };
      }
      return { id, name, nameOff, info, offset: rec, kind: 'DATASEC', size: sizeOrType, vars };
    }
    case BTF_KIND_FLOAT:
      return { id, name, nameOff, info, offset: rec, kind: 'FLOAT', size: sizeOrType };
    default: // BTF_KIND_DECL_TAG: the parser admits no other kind
      return { id, name, nameOff, info, offset: rec, kind: 'DECL_TAG', type: sizeOrType, componentIdx: view.getInt32(off, le) };
  }
}
