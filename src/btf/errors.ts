import { MalformedInputError } from '../errors.js';

/**
 * BTF or BTF.ext bytes that are not well formed. `offset` is relative to the start of the BTF blob
 * (the .BTF / .BTF.ext section of an object, or the raw BTF file).
 */
export class BtfError extends MalformedInputError {
  readonly section?: string;

  constructor(
    readonly detail: string,
    readonly offset?: number,
    readonly typeId?: number,
    options?: { hint?: string; section?: string },
  ) {
    const where = [
      typeId !== undefined ? `type [${typeId}]` : undefined,
      offset !== undefined ? `offset 0x${offset.toString(16)}` : undefined,
    ].filter((w) => w !== undefined);
    super(`${options?.section ? `${options.section}: ` : ''}${detail}${where.length ? ` (${where.join(', ')})` : ''}`, options);
    if (options?.section) this.section = options.section;
  }

  /** The same error, located in an object's section. */
  inSection(section: string): BtfError {
    return new BtfError(this.detail, this.offset, this.typeId, { section, ...(this.hint ? { hint: this.hint } : {}) });
  }
}
