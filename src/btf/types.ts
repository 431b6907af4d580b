// The BTF type model: one object per type record, discriminated by `kind` (bpftool's kind names).

export type BtfKindName =
  | 'VOID' | 'INT' | 'PTR' | 'ARRAY' | 'STRUCT' | 'UNION' | 'ENUM' | 'FWD' | 'TYPEDEF' | 'VOLATILE'
  | 'CONST' | 'RESTRICT' | 'FUNC' | 'FUNC_PROTO' | 'VAR' | 'DATASEC' | 'FLOAT' | 'DECL_TAG'
  | 'TYPE_TAG' | 'ENUM64';

interface Common {
  id: number;
  /** '' for anonymous types. */
  name: string;
  /** Offset of the name in the (possibly base + split) string table; 0 when anonymous. */
  nameOff: number;
  /** The record's info word as stored (kind, vlen, kind_flag). */
  info: number;
  /** Offset of the record inside the BTF blob it came from. */
  offset: number;
}

export interface BtfVoid extends Common { kind: 'VOID' }

export interface BtfInt extends Common {
  kind: 'INT';
  size: number;
  /** BTF_INT_SIGNED | BTF_INT_CHAR | BTF_INT_BOOL bits. */
  encoding: number;
  bitsOffset: number;
  bits: number;
}

/** Kinds that are just a reference to another type. */
export interface BtfRef extends Common {
  kind: 'PTR' | 'TYPEDEF' | 'VOLATILE' | 'CONST' | 'RESTRICT' | 'TYPE_TAG';
  type: number;
}

export interface BtfArray extends Common {
  kind: 'ARRAY';
  type: number;
  indexType: number;
  nelems: number;
}

export interface BtfMember {
  name: string;
  nameOff: number;
  type: number;
  /** Bit offset from the start of the struct. */
  bitOffset: number;
  /** Non-zero only for bitfields of a kind_flag struct/union. */
  bitfieldSize: number;
}

export interface BtfComposite extends Common {
  kind: 'STRUCT' | 'UNION';
  size: number;
  /** kind_flag: member offsets carry bitfield sizes. */
  kflag: boolean;
  members: BtfMember[];
}

export interface BtfEnumValue {
  name: string;
  nameOff: number;
  /** Signed when the enum's kind_flag is set, else unsigned. */
  value: number;
}

export interface BtfEnum extends Common {
  kind: 'ENUM';
  size: number;
  signed: boolean;
  values: BtfEnumValue[];
}

export interface BtfEnum64Value {
  name: string;
  nameOff: number;
  value: bigint;
}

export interface BtfEnum64 extends Common {
  kind: 'ENUM64';
  size: number;
  signed: boolean;
  values: BtfEnum64Value[];
}

export interface BtfFwd extends Common {
  kind: 'FWD';
  /** kind_flag: a forward declaration of a union rather than a struct. */
  union: boolean;
}

export interface BtfFunc extends Common {
  kind: 'FUNC';
  /** The FUNC_PROTO. */
  type: number;
  /** BTF_FUNC_STATIC / GLOBAL / EXTERN, stored in vlen. */
  linkage: number;
}

export interface BtfParam {
  name: string;
  nameOff: number;
  /** 0 with an anonymous name marks a trailing `...`. */
  type: number;
}

export interface BtfFuncProto extends Common {
  kind: 'FUNC_PROTO';
  returnType: number;
  params: BtfParam[];
}

export interface BtfVar extends Common {
  kind: 'VAR';
  type: number;
  /** BTF_VAR_STATIC / GLOBAL_ALLOCATED / GLOBAL_EXTERN. */
  linkage: number;
}

export interface BtfVarSecinfo {
  type: number;
  offset: number;
  size: number;
}

export interface BtfDatasec extends Common {
  kind: 'DATASEC';
  size: number;
  vars: BtfVarSecinfo[];
}

export interface BtfFloat extends Common {
  kind: 'FLOAT';
  size: number;
}

export interface BtfDeclTag extends Common {
  kind: 'DECL_TAG';
  type: number;
  /** -1: the tag applies to the type itself; otherwise a member or parameter index. */
  componentIdx: number;
}

export type BtfType =
  | BtfVoid | BtfInt | BtfRef | BtfArray | BtfComposite | BtfEnum | BtfEnum64 | BtfFwd | BtfFunc
  | BtfFuncProto | BtfVar | BtfDatasec | BtfFloat | BtfDeclTag;
