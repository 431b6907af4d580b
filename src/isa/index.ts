export { IsaError } from './errors.js';
export type { IsaErrorCode } from './errors.js';
export { BPF_LD_IMM64, decodeProgram, ldImm64Value, readSlot } from './decode.js';
export type { DecodedProgram, Insn, Slot } from './decode.js';
export { branchDistance, formatInsn, hex, llvmText } from './format.js';
export { disassemble, lineInfoLookup } from './disasm.js';
export type { DisassembleOptions, LineInfoLookup, LineInfoSections, SourceLine } from './disasm.js';
export * from './opcodes.js';
