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
