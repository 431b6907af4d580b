import { BpfError } from '../errors.js';
import type { RawInsn } from './insn.js';

/**
 * Why a program stopped abnormally or was refused:
 * - `invalid-insn`: an encoding the kernel rejects (unknown opcode, reserved field set, bad jump target)
 * - `memory`: a load/store/helper access outside every region, or a store to a read-only one
 * - `budget`: more instructions executed than allowed
 * - `call-depth`: more than the kernel's 8 nested frames
 * - `helper`: a call to a helper the VM does not have, or a helper that failed
 * - `fall-through`: execution ran past the last instruction
 */
export type VmFaultKind = 'invalid-insn' | 'memory' | 'budget' | 'call-depth' | 'helper' | 'fall-through';

export class VmFault extends BpfError {
  readonly kind: VmFaultKind;
  /** Instruction index (8-byte slot) where it happened. */
  readonly pc: number;
  /** The decoded fields of that instruction, when pc is inside the program. */
  readonly insn: RawInsn | undefined;
  /** Text form of that instruction. */
  readonly insnText: string;
  /** Source line for pc, filled in by a caller that has line info (BTF .BTF.ext). */
  sourceLine?: string;

  constructor(
    kind: VmFaultKind,
    pc: number,
    insn: RawInsn | undefined,
    insnText: string,
    detail: string,
    options?: { hint?: string; cause?: unknown },
  ) {
    super(`${detail} at pc ${pc}: ${insnText}`, options);
    this.kind = kind;
    this.pc = pc;
    this.insn = insn;
    this.insnText = insnText;
  }
}

/**
 * A resource limit of the emulator was hit. `limit` is the name of the option that sets it
 * (EmulatorOptions.mapMemory), `value` its value; the message says both.
 */
export class LimitError extends BpfError {
  constructor(
    readonly limit: 'mapMemory',
    readonly value: number,
    message: string,
    options?: { hint?: string },
  ) {
    super(message, options);
  }
}
