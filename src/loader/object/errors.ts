// Errors of loading an object: what the user asked for does not fit the object or the kernel.
import { BpfError } from '../../errors.js';

/** A program or map of the object cannot be loaded as asked; carries where, when known. */
export class LoadError extends BpfError {
  readonly program?: string;
  readonly section?: string;
  readonly map?: string;

  constructor(message: string, options: { hint?: string; cause?: unknown; program?: string; section?: string; map?: string } = {}) {
    super(message, options);
    if (options.program !== undefined) this.program = options.program;
    if (options.section !== undefined) this.section = options.section;
    if (options.map !== undefined) this.map = options.map;
  }
}

/** A program the verifier rejected: `log` is the verifier's log with C source lines interleaved. */
export class ProgramRejectedError extends LoadError {
  constructor(
    message: string,
    readonly log: string,
    readonly errno: number,
    options: { hint?: string; cause?: unknown; program?: string; section?: string } = {},
  ) {
    super(message, options);
  }
}
