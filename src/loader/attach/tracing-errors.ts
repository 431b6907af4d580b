// The typed errors of tracing attachments.
import { BpfError } from '../../errors.js';

/** A tracing attachment could not be made: a missing target, an unusable kernel facility, bad input. */
export class TracingError extends BpfError {}

/** A function or symbol name that matches several candidates; `candidates` lists them. */
export class AmbiguousSymbolError extends TracingError {
  constructor(message: string, readonly candidates: readonly string[], options?: { hint?: string }) {
    super(message, options);
  }
}

/**
 * The kernel has no kprobes (CONFIG_KPROBES unset: no kprobe PMU and no kprobe_events file);
 * `alternatives` names attach points for the same function that work here.
 */
export class KprobesUnavailableError extends TracingError {
  constructor(readonly func: string, readonly alternatives: readonly string[]) {
    super(`this kernel has no kprobes (CONFIG_KPROBES is not set: neither the kprobe PMU nor tracefs kprobe_events exists), so ${func} cannot be probed`, {
      hint: alternatives.length > 0
        ? `what works instead: ${alternatives.join('; ')}`
        : 'attach to a tracepoint (tracepoint:CAT:NAME) or raw tracepoint (raw-tp:NAME) on the same code path instead',
    });
  }
}

/**
 * The kernel refuses a BTF-attached tracing program (fentry, fexit, fmod_ret, lsm, tp_btf), usually
 * with EPERM when it cannot build BPF trampolines; `errnoName` is what it answered.
 */
export class TracingUnsupportedError extends TracingError {
  constructor(readonly kind: string, readonly target: string, readonly errnoName: string, hint: string, options?: { cause?: unknown }) {
    super(`this kernel refuses ${kind} programs (${target}) with ${errnoName}`, { hint, ...options });
  }
}
