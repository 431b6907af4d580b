// The package root: reading, diagnosing, fixing and emulating objects, which needs no privileges and
// no native code. The loader (bpf() and rtnetlink through koffi) is `bpfts/loader`; packet builders,
// arbitraries and pcap for users' own tests are `bpfts/testing`.
export { BpfError, UsageError, MalformedInputError } from './errors.js';
export * as uapi from './uapi/index.js';
export { parseElf, writeElf, sectionByName, ElfError } from './elf/index.js';
export type { ElfFile, ElfSection, ElfSymbol, ElfRelocation, ElfEdits } from './elf/index.js';
export { decodeProgram, formatInsn, disassemble, lineInfoLookup, IsaError } from './isa/index.js';
export type { Insn, DisassembleOptions } from './isa/index.js';
export { Btf, BtfError, parseBtf, parseBtfExt, btfFromFile, btfFromElf, dumpRaw, dumpRawBytes, dumpC, dumpJson } from './btf/index.js';
export type { BtfType, BtfExt } from './btf/index.js';
export { BtfCodec, BtfValueError, btfDecode, btfEncode, cValueToJson } from './btf/index.js';
export type { CValue, JsonCValue, EncodeOptions } from './btf/index.js';
export {
  readObject, summarizeObject, matchSection, loaderView, loaderViews, suggestSections, ObjectError,
} from './object/index.js';
export type { BpfObject, BpfProgram, MapDefinition, GlobalDataSection, Diagnostic, ObjectSummary } from './object/index.js';
export { doctor, verify, checkBtf, formatReport, formatVerifyReport } from './doctor/index.js';
export type { Report, VerifyReport, Finding } from './doctor/index.js';
export { fixObject, FixError } from './fix/index.js';
export type { FixOptions, FixResult } from './fix/index.js';
export {
  Emulator, EmulatorError, LimitError, Vm, VmFault, parseMapJson, parseContextJson, parseTracepointFormat, mergeCoverage, summarizeCoverage, toLcov, toCoverageHtml,
} from './vm/index.js';
export type {
  EmulatorOptions, ContextOverrides, RunOutput, BatchRun, BatchSummary, TracingInput, TracingCtxSpec, KernelObjectSpec, CurrentTask, TracingEnvOptions,
  BranchCoverage, CoverageCounts, CoverageHtmlOptions, CoverageReport, CoverageSummary, FileCoverage, FunctionCoverage, LcovOptions, LineCoverage,
} from './vm/index.js';
