import { isAscii } from 'node:buffer';

/**
 * An append-only byte buffer for large text dumps: pieces are copied in place, so a 12 MB dump
 * makes no intermediate strings for the garbage collector.
 */
export class ByteWriter {
  private buf: Uint8Array;
  private len = 0;

  constructor(capacity = 1 << 16) {
    this.buf = new Uint8Array(capacity);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const grown = new Uint8Array(cap);
    grown.set(this.buf.subarray(0, this.len));
    this.buf = grown;
  }

  /** An ASCII string (format text, numbers already spelled). */
  ascii(s: string): void {
    const n = s.length;
    this.reserve(n);
    const buf = this.buf;
    let p = this.len;
    for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
    this.len = p;
  }

  /** A non-negative integer below 2^53 in decimal. */
  uint(v: number): void {
    this.reserve(16);
    const buf = this.buf;
    if (v < 10) {
      buf[this.len++] = 48 + v;
      return;
    }
    let digits = 0;
    for (let t = v; t >= 1; t = Math.floor(t / 10)) digits++;
    let p = this.len + digits;
    this.len = p;
    while (v >= 1) {
      const q = Math.floor(v / 10);
      buf[--p] = 48 + (v - q * 10);
      v = q;
    }
  }

  int(v: number): void {
    if (v < 0) {
      this.reserve(1);
      this.buf[this.len++] = 45;
      this.uint(-v);
    } else {
      this.uint(v);
    }
  }

  /** The NUL-terminated string starting at `start` in `src`, without the NUL. */
  cstring(src: Uint8Array, start: number): void {
    let end = src.indexOf(0, start);
    if (end < 0) end = src.length;
    this.reserve(end - start);
    this.buf.set(src.subarray(start, end), this.len);
    this.len += end - start;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  /** The text, decoded as UTF-8 (names may be UTF-8; the usual all-ASCII case takes the fast path). */
  text(): string {
    const b = Buffer.from(this.buf.buffer, this.buf.byteOffset, this.len);
    return b.toString(isAscii(b) ? 'latin1' : 'utf8');
  }
}
