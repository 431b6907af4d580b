import { isAscii } from 'node:buffer';
import { BtfError } from './errors.js';

const decoder = new TextDecoder('utf-8');

/**
 * A BTF string section. Offsets of a split BTF continue after its base's section, so a lookup
 * below `start` is answered by the base.
 */
export class BtfStrings {
  /**
   * The whole section as one string when it is ASCII (the usual case): lookups are then substrings.
   * Decoded on the first lookup: the raw dump copies names as bytes and never needs it.
   */
  private text?: string | null;
  private readonly cache = new Map<number, string>();
  private dataView?: DataView;

  constructor(
    /** The section's bytes (a view, not a copy). */
    readonly bytes: Uint8Array,
    /** First offset this section answers (the base's size for split BTF, else 0). */
    readonly start: number,
    readonly base?: BtfStrings,
  ) {}

  /** The section's bytes as a DataView, for copying names four bytes at a time. */
  get view(): DataView {
    return (this.dataView ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength));
  }

  /** Total size including the base's section: the next offset a split BTF on top of this one would use. */
  get end(): number {
    return this.start + this.bytes.length;
  }

  /** The NUL-terminated string at `off`, or undefined when `off` is outside the table. */
  tryGet(off: number): string | undefined {
    if (off < this.start) return this.base?.tryGet(off);
    const rel = off - this.start;
    if (rel >= this.bytes.length) return undefined;
    const bytes = this.bytes;
    if (this.text === undefined) this.text = isAscii(bytes) ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1') : null;
    const text = this.text;
    if (text !== null) {
      // The parser checked that the section ends with a NUL, so indexOf always finds one.
      return text.substring(rel, text.indexOf('\0', rel));
    }
    const cached = this.cache.get(off);
    if (cached !== undefined) return cached;
    const end = bytes.indexOf(0, rel);
    const s = decoder.decode(bytes.subarray(rel, end < 0 ? bytes.length : end));
    this.cache.set(off, s);
    return s;
  }

  /** Like tryGet, but an offset outside the table is a BtfError. */
  get(off: number, what = 'name', typeId?: number, recordOffset?: number): string {
    const s = this.tryGet(off);
    if (s === undefined) throw new BtfError(`${what} offset ${off} is outside the string section (size ${this.end})`, recordOffset, typeId);
    return s;
  }
}
