// Errors of loading an object: what the user asked for does not fit the object or the kernel.
import { BpfError } from '../../errors.js';
import { SyscallError } from '../sys/errors.js';

/** A program or map of the object cannot be loaded as asked; carries where, when known. */
export class LoadError extends BpfError {
  readonly program?: string;
  readonly section?: string;
  readonly map?: string;
  /**
   * The step of the load that failed: "BTF", "map NAME", "global data SECTION", "program NAME" or
   * "pin PATH". Set by the loader when the error leaves that step.
   */
  step?: string;

  constructor(message: string, options: { hint?: string; cause?: unknown; program?: string; section?: string; map?: string; step?: string } = {}) {
    super(message, options);
    if (options.program !== undefined) this.program = options.program;
    if (options.section !== undefined) this.section = options.section;
    if (options.map !== undefined) this.map = options.map;
    if (options.step !== undefined) this.step = options.step;
  }
}

/** A program the verifier rejected: `log` is the verifier's log with C source lines interleaved. */
export class ProgramRejectedError extends LoadError {
  constructor(
    message: string,
    readonly log: string,
    readonly errno: number,
    options: { hint?: string; cause?: unknown; program?: string; section?: string; step?: string } = {},
  ) {
    super(message, options);
  }
}

/**
 * Runs one step of a load. A failed kernel call inside it becomes a LoadError naming the step (the
 * kernel's error as its cause), and a LoadError that names no step yet gets this one; other errors
 * (malformed input, bad usage) pass unchanged.
 */
export function inStep<T>(step: string, fn: () => T, where: { program?: string; map?: string } = {}): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof LoadError) {
      e.step ??= step;
      throw e;
    }
    if (e instanceof SyscallError) {
      throw new LoadError(`${step}: ${e.message}`, { step, cause: e, ...(e.hint ? { hint: e.hint } : {}), ...where });
    }
    throw e;
  }
}
