import { MalformedInputError } from '../errors.js';

/** The ELF is well formed but is not a usable BPF object (bad map definitions, relocations, ...). */
export class ObjectError extends MalformedInputError {
  constructor(
    message: string,
    readonly section?: string,
    readonly offset?: number,
  ) {
    super(section ? `${section}${offset !== undefined ? `+0x${offset.toString(16)}` : ''}: ${message}` : message);
  }
}
