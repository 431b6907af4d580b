// Errors of attaching and detaching programs, each naming the step that failed.
import { BpfError } from '../../errors.js';
import { SyscallError } from '../sys/errors.js';

/** An attach or detach that failed; `step` is "clsact qdisc", "tc filter", "tcx link", "XDP" or "pin PATH". */
export class AttachError extends BpfError {
  constructor(
    message: string,
    readonly step: string,
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

/** Runs one step; a failed kernel call inside it becomes an AttachError naming the step, with the kernel's error as its cause. */
export function attachStep<T>(step: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw stepError(step, e);
  }
}

/** `e` as attachStep throws it: a failed kernel call becomes an AttachError naming `step`, anything else is unchanged. */
export function stepError(step: string, e: unknown): unknown {
  return e instanceof SyscallError ? new AttachError(`${step}: ${e.message}`, step, { cause: e, ...(e.hint ? { hint: e.hint } : {}) }) : e;
}
