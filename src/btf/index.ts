export { Btf, type BtfHeader } from './btf.js';
export { BtfError } from './errors.js';
export { BtfStrings } from './strings.js';
export { parseBtf, isBtf, BTF_KIND_NAMES, type ParseBtfOptions } from './parse.js';
export { parseBtfExt, CORE_RELO_KIND_NAMES } from './ext.js';
export type { BtfExt, BtfExtSection, BtfFuncInfo, BtfLineInfo, BtfCoreRelo } from './ext.js';
export { btfFromFile, btfFromElf } from './file.js';
export { dumpRaw, dumpRawBytes } from './dump-raw.js';
export { dumpJson } from './dump-json.js';
export type * from './types.js';
export { btfMapDefinitions, mapDefFromStruct, type BtfMapDef } from './maps.js';
export { dumpC } from './dump-c.js';
export { encodeBtf, btfContent, BtfStringTable, BTF_KIND_BY_NAME, type BtfContent } from './encode.js';
export {
  sanitizeBtf, btfFeaturesOf, kernelHasBtf, parseKernelVersion, BTF_FEATURES, BTF_MIN_KERNEL,
  type BtfFeature, type BtfFeatureInfo, type SanitizeChange,
} from './sanitize.js';
export { BTF_FUNC_STATIC, BTF_FUNC_GLOBAL, BTF_FUNC_EXTERN } from './uapi.js';
export {
  BPF_CORE_FIELD_BYTE_OFFSET, BPF_CORE_FIELD_BYTE_SIZE, BPF_CORE_FIELD_EXISTS, BPF_CORE_FIELD_SIGNED, BPF_CORE_FIELD_LSHIFT_U64,
  BPF_CORE_FIELD_RSHIFT_U64, BPF_CORE_TYPE_ID_LOCAL, BPF_CORE_TYPE_ID_TARGET, BPF_CORE_TYPE_EXISTS, BPF_CORE_TYPE_SIZE,
  BPF_CORE_ENUMVAL_EXISTS, BPF_CORE_ENUMVAL_VALUE, BPF_CORE_TYPE_MATCHES,
} from './uapi.js';
export {
  BTF_MAGIC, BTF_VERSION, BTF_HEADER_SIZE, BTF_KIND_INT, BTF_KIND_FUNC, BTF_KIND_FLOAT, BTF_KIND_DECL_TAG, BTF_KIND_TYPE_TAG,
} from './uapi.js';
export {
  BtfCodec, BtfValueError, btfDecode, btfEncode, btfEncodeInto, btfValueSize, cValueToJson, memberNames,
  type CValue, type Encodable, type EncodeOptions, type JsonCValue,
} from './codec.js';
