export { Vm, DEFAULT_BUDGET, type HelperFn, type RunResult, type VmOptions } from './vm.js';
export { decodeProgram, type DecodeOptions, type LdImm64Request, type Program } from './decode.js';
export { Memory, MAX_CALL_FRAMES, CODE_REGION, type RegionInfo } from './memory.js';
export { VmFault, type VmFaultKind } from './errors.js';
export { formatInsn, readInsn, type RawInsn } from './insn.js';
export { conformanceHelpers, CONFORMANCE_UNWIND_HELPER } from './conformance-helpers.js';
export { conformancePlugin, parseHexBytes, type PluginResult } from './conformance-plugin.js';
