export { Vm, DEFAULT_BUDGET, type HelperFn, type RunResult, type VmOptions } from './vm.js';
export { decodeProgram, type DecodeOptions, type LdImm64Request, type Program } from './decode.js';
export { Memory, CODE_REGION, type RegionInfo } from './memory.js';
export { MAX_CALL_FRAMES } from '../isa/opcodes.js';
export { LimitError, VmFault, type VmFaultKind } from './errors.js';
export { formatInsn, readInsn, type RawInsn } from './insn.js';
export { conformanceHelpers, CONFORMANCE_UNWIND_HELPER } from './conformance-helpers.js';
export { conformancePlugin, parseHexBytes, type PluginResult } from './conformance-plugin.js';
export { KernelEnv, type KernelEnvOptions } from './kernel-helpers.js';
export { BpfMap, type MapDef } from './maps/map.js';
export { HashMap } from './maps/hash.js';
export { ArrayMap } from './maps/array.js';
export { LpmTrieMap } from './maps/lpm.js';
export { QueueStackMap } from './maps/queue.js';
export { RingBufMap } from './maps/ringbuf.js';
export { PerfEventArrayMap, ProgArrayMap, type PerfRecord } from './maps/events.js';
export { MapOfMapsMap, innerMapFits, type MapFds } from './maps/map-of-maps.js';
export { MapRegistry, MapError, createMap, mapMemory, DEFAULT_MAP_MEMORY } from './maps/registry.js';
export {
  Emulator, EmulatedMap, EmulatedMaps, EmulatorError, RunOutput, BatchRun, COVERAGE_COLLECTOR,
  type BatchSummary, type EmulatorOptions, type ContextOverrides, type ProgramKind, type CoverageCollector,
} from './emulator.js';
export type { Redirect, ClonedPacket, SkbOverrides, SkbKind } from './skb.js';
export type { XdpOverrides } from './xdp.js';
export type { ContextAccess, Tracer } from './vm.js';
export { SK_BUFF, XDP_MD } from './context-layout.js';
/** The CLI's names for return codes; they are src/uapi's. */
export { parseMapJson, type MapJsonSpec } from './map-json.js';
export {
  buildCoverageReport, mergeCoverage, summarizeCoverage,
  type BranchCoverage, type CoverageCounts, type CoverageReport, type CoverageSummary, type FileCoverage, type FunctionCoverage, type LineCoverage,
} from './coverage-report.js';
export { toLcov, type LcovOptions } from './coverage-lcov.js';
export { toCoverageHtml, type CoverageHtmlOptions } from './coverage-html.js';
export { TypedEmulatedMap } from './typed-map.js';
export { StackTraceMap } from './maps/stack-trace.js';
export type { TracingInput } from './tracing.js';
export type { KernelObjectSpec } from './kernel-memory.js';
export { parseTracepointFormat, registerOffset, type TracingCtxSpec, type TracepointField, type TracepointFormat, type CtxValue } from './tracing-context.js';
export type { CurrentTask, TracingEnvOptions } from './tracing-helpers.js';
export { parseContextJson } from './ctx-json.js';
