import { BpfError, MalformedInputError } from '../errors.js';

/** A packet description the builder cannot encode (bad address text, out-of-range field). */
export class PacketError extends BpfError {
  constructor(
    message: string,
    readonly layer?: string,
    readonly field?: string,
  ) {
    super(`${layer ? `${layer}${field ? `.${field}` : ''}: ` : ''}${message}`);
  }
}

/** Hex text that is not a whole number of bytes. `line` and `column` are 1-based. */
export class HexError extends MalformedInputError {
  constructor(
    message: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    const where = [line !== undefined ? `line ${line}` : '', column !== undefined ? `column ${column}` : ''].filter(Boolean).join(', ');
    super(`${message}${where ? ` (${where})` : ''}`, {
      hint: 'write bytes as pairs of hex digits, optionally separated by spaces or colons',
    });
  }
}

/** A malformed pcap or pcapng file. `offset` is the file offset of the bad structure. */
export class PcapError extends MalformedInputError {
  constructor(
    message: string,
    readonly offset?: number,
  ) {
    super(`${message}${offset !== undefined ? ` at offset 0x${offset.toString(16)}` : ''}`);
  }
}
