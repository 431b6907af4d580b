import { BpfError, MalformedInputError } from '../errors.js';

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

/** A CO-RE relocation of a program that the target BTF cannot resolve (libbpf fails the load with -EINVAL). */
export class CoreRelocationError extends BpfError {
  readonly program: string;
  readonly section: string;
  /** Instruction index in the function the relocation belongs to. */
  readonly insn: number;

  constructor(message: string, options: { program: string; section: string; insn: number; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.program = options.program;
    this.section = options.section;
    this.insn = options.insn;
  }
}
