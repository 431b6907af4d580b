/**
 * The root of every error bpfts raises on purpose. The CLI prints `message` (and `hint` when set)
 * without a stack trace for any BpfError; anything else is a bug in bpfts.
 */
export class BpfError extends Error {
  /** A one-line suggestion shown after the message. */
  hint?: string;

  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options?.hint) this.hint = options.hint;
  }
}

/** Wrong command-line usage: exit code 2. */
export class UsageError extends BpfError {}

/**
 * A file given as input is malformed (not ELF, bad BTF, a broken capture, bad hex): like bad usage,
 * it is the caller's input that must change, so the CLI exits 2.
 */
export class MalformedInputError extends BpfError {}
