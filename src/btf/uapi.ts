// BTF layout constants from include/uapi/linux/btf.h (and BTF.ext from tools/lib/bpf/libbpf_internal.h,
// bpf_core_relo_kind from include/uapi/linux/bpf.h).

/** include/uapi/linux/btf.h: BTF_MAGIC */
export const BTF_MAGIC = 0xeb9f;
/** include/uapi/linux/btf.h: BTF_VERSION */
export const BTF_VERSION = 1;

/**
 * include/uapi/linux/btf.h: struct btf_header
 *   __u16 magic; __u8 version; __u8 flags; __u32 hdr_len;
 *   __u32 type_off; __u32 type_len; __u32 str_off; __u32 str_len;  (offsets relative to the header's end)
 */
export const BTF_HEADER_SIZE = 24;
export const BTF_HDR_MAGIC = 0;
export const BTF_HDR_VERSION = 2;
export const BTF_HDR_FLAGS = 3;
export const BTF_HDR_HDR_LEN = 4;
export const BTF_HDR_TYPE_OFF = 8;
export const BTF_HDR_TYPE_LEN = 12;
export const BTF_HDR_STR_OFF = 16;
export const BTF_HDR_STR_LEN = 20;

/** include/uapi/linux/btf.h: BTF_MAX_TYPE, BTF_MAX_NAME_OFFSET, BTF_MAX_VLEN */
export const BTF_MAX_TYPE = 0x000fffff;
export const BTF_MAX_NAME_OFFSET = 0x00ffffff;
export const BTF_MAX_VLEN = 0xffff;

/** include/uapi/linux/btf.h: struct btf_type (name_off, info, size/type) */
export const BTF_TYPE_SIZE = 12;

export function BTF_INFO_KIND(info: number): number {
  return (info >>> 24) & 0x1f;
}
export function BTF_INFO_VLEN(info: number): number {
  return info & 0xffff;
}
export function BTF_INFO_KFLAG(info: number): boolean {
  return info >>> 31 === 1;
}

/** include/uapi/linux/btf.h: BTF_KIND_* */
export const BTF_KIND_UNKN = 0;
export const BTF_KIND_INT = 1;
export const BTF_KIND_PTR = 2;
export const BTF_KIND_ARRAY = 3;
export const BTF_KIND_STRUCT = 4;
export const BTF_KIND_UNION = 5;
export const BTF_KIND_ENUM = 6;
export const BTF_KIND_FWD = 7;
export const BTF_KIND_TYPEDEF = 8;
export const BTF_KIND_VOLATILE = 9;
export const BTF_KIND_CONST = 10;
export const BTF_KIND_RESTRICT = 11;
export const BTF_KIND_FUNC = 12;
export const BTF_KIND_FUNC_PROTO = 13;
export const BTF_KIND_VAR = 14;
export const BTF_KIND_DATASEC = 15;
export const BTF_KIND_FLOAT = 16;
export const BTF_KIND_DECL_TAG = 17;
export const BTF_KIND_TYPE_TAG = 18;
export const BTF_KIND_ENUM64 = 19;
export const NR_BTF_KINDS = 20;
export const BTF_KIND_MAX = NR_BTF_KINDS - 1;

/** include/uapi/linux/btf.h: the INT kind's trailing u32 */
export function BTF_INT_ENCODING(v: number): number {
  return (v & 0x0f000000) >>> 24;
}
export function BTF_INT_OFFSET(v: number): number {
  return (v & 0x00ff0000) >>> 16;
}
export function BTF_INT_BITS(v: number): number {
  return v & 0x000000ff;
}
export const BTF_INT_SIGNED = 1 << 0;
export const BTF_INT_CHAR = 1 << 1;
export const BTF_INT_BOOL = 1 << 2;

/** include/uapi/linux/btf.h: struct btf_array { type, index_type, nelems } */
export const BTF_ARRAY_SIZE = 12;
/** include/uapi/linux/btf.h: struct btf_member { name_off, type, offset } */
export const BTF_MEMBER_SIZE = 12;
export function BTF_MEMBER_BITFIELD_SIZE(offset: number): number {
  return offset >>> 24;
}
export function BTF_MEMBER_BIT_OFFSET(offset: number): number {
  return offset & 0xffffff;
}
/** include/uapi/linux/btf.h: struct btf_enum { name_off; __s32 val } */
export const BTF_ENUM_SIZE = 8;
/** include/uapi/linux/btf.h: struct btf_enum64 { name_off, val_lo32, val_hi32 } */
export const BTF_ENUM64_SIZE = 12;
/** include/uapi/linux/btf.h: struct btf_param { name_off, type } */
export const BTF_PARAM_SIZE = 8;
/** include/uapi/linux/btf.h: struct btf_var { linkage } */
export const BTF_VAR_SIZE = 4;
/** include/uapi/linux/btf.h: struct btf_var_secinfo { type, offset, size } */
export const BTF_VAR_SECINFO_SIZE = 12;
/** include/uapi/linux/btf.h: struct btf_decl_tag { __s32 component_idx } */
export const BTF_DECL_TAG_SIZE = 4;

/** include/uapi/linux/btf.h: enum btf_func_linkage (stored in a FUNC's vlen) */
export const BTF_FUNC_STATIC = 0;
export const BTF_FUNC_GLOBAL = 1;
export const BTF_FUNC_EXTERN = 2;

/** include/uapi/linux/btf.h: BTF_VAR_* linkage of a VAR */
export const BTF_VAR_STATIC = 0;
export const BTF_VAR_GLOBAL_ALLOCATED = 1;
export const BTF_VAR_GLOBAL_EXTERN = 2;

/**
 * tools/lib/bpf/libbpf_internal.h: struct btf_ext_header
 *   __u16 magic; __u8 version; __u8 flags; __u32 hdr_len;
 *   __u32 func_info_off, func_info_len, line_info_off, line_info_len;   (all BTF.ext headers)
 *   __u32 core_relo_off, core_relo_len;                                   (hdr_len >= 32)
 */
export const BTF_EXT_HEADER_MIN_SIZE = 24;
export const BTF_EXT_HEADER_CORE_SIZE = 32;

/** include/uapi/linux/bpf.h: struct bpf_func_info { insn_off, type_id } */
export const BPF_FUNC_INFO_SIZE = 8;
/** include/uapi/linux/bpf.h: struct bpf_line_info { insn_off, file_name_off, line_off, line_col } */
export const BPF_LINE_INFO_SIZE = 16;
export function BPF_LINE_INFO_LINE_NUM(lineCol: number): number {
  return lineCol >>> 10;
}
export function BPF_LINE_INFO_LINE_COL(lineCol: number): number {
  return lineCol & 0x3ff;
}
/** include/uapi/linux/bpf.h: struct bpf_core_relo { insn_off, type_id, access_str_off, kind } */
export const BPF_CORE_RELO_SIZE = 16;

/** include/uapi/linux/bpf.h: enum bpf_core_relo_kind */
export const BPF_CORE_FIELD_BYTE_OFFSET = 0;
export const BPF_CORE_FIELD_BYTE_SIZE = 1;
export const BPF_CORE_FIELD_EXISTS = 2;
export const BPF_CORE_FIELD_SIGNED = 3;
export const BPF_CORE_FIELD_LSHIFT_U64 = 4;
export const BPF_CORE_FIELD_RSHIFT_U64 = 5;
export const BPF_CORE_TYPE_ID_LOCAL = 6;
export const BPF_CORE_TYPE_ID_TARGET = 7;
export const BPF_CORE_TYPE_EXISTS = 8;
export const BPF_CORE_TYPE_SIZE = 9;
export const BPF_CORE_ENUMVAL_EXISTS = 10;
export const BPF_CORE_ENUMVAL_VALUE = 11;
export const BPF_CORE_TYPE_MATCHES = 12;
