import { MalformedInputError } from '../errors.js';

/** The file is not a well-formed ELF64 BPF object. `offset` is the file offset of the bad structure. */
export class ElfError extends MalformedInputError {
  constructor(
    message: string,
    readonly offset?: number,
    readonly structure?: string,
    readonly section?: string,
  ) {
    super(
      `${message}${structure ? ` (${structure}` : ''}${structure && offset !== undefined ? ` at offset 0x${offset.toString(16)}` : ''}${structure ? ')' : ''}`,
    );
  }
}
