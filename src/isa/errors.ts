import { BpfError } from '../errors.js';

/** What is wrong with an encoding; lets callers group or filter diagnostics without parsing text. */
export type IsaErrorCode =
  | 'unknown-opcode'
  | 'bad-register'
  | 'bad-field'
  | 'bad-ld-imm64-second-slot'
  | 'truncated-ld-imm64'
  | 'trailing-bytes';

/** An instruction that does not decode. `index` is the slot, `offset` the byte offset in the code. */
export class IsaError extends BpfError {
  constructor(
    readonly code: IsaErrorCode,
    message: string,
    readonly index: number,
    readonly offset: number,
    readonly section?: string,
  ) {
    super(`${section ? `${section}: ` : ''}insn ${index} (offset 0x${offset.toString(16)}): ${message}`);
  }
}
