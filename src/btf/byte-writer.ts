// Byte-level writers for large text dumps (the raw dump of vmlinux is 12 MB): each writes at `pos`
// in an Out and returns the position after what it wrote, so the caller keeps the position in a
// local and no intermediate strings are made for the garbage collector.
//
// Fixed pieces and names are stored four bytes at a time through a DataView while there is room;
// near the end of the buffer everything goes byte by byte into the Uint8Array, where a store past
// the end is dropped. The caller sees a returned position beyond `out.buf.length`, grows the buffer
// and writes the same record again.

/** Room kept after `fastLimit` for the widest four-byte-store write (a piece, rounded up to 4). */
const FAST_MARGIN = 64;

export class Out {
  buf: Uint8Array;
  view: DataView;
  /** Positions up to here take the four-byte stores. */
  fastLimit: number;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafeSlow(capacity);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.fastLimit = capacity - FAST_MARGIN;
  }

  /** Move to a buffer with room for `need` more bytes after the first `used`, which it keeps. */
  grow(used: number, need: number): void {
    const next = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, used + need * 2 + FAST_MARGIN));
    next.set(this.buf.subarray(0, used));
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
    this.fastLimit = next.length - FAST_MARGIN;
  }
}

/** A fixed ASCII piece of the format, encoded once: its bytes and the same as little-endian words. */
export class Piece {
  readonly bytes: Uint8Array;
  /** The bytes in 4-byte groups, the last one padded with NULs that the next write overwrites. */
  readonly words: Int32Array;

  constructor(text: string) {
    if (text.length > FAST_MARGIN - 4) throw new RangeError(`piece longer than ${FAST_MARGIN - 4} bytes`);
    this.bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) this.bytes[i] = text.charCodeAt(i);
    const words = new Uint8Array(Math.ceil(text.length / 4) * 4);
    words.set(this.bytes);
    this.words = new Int32Array(words.length / 4);
    const view = new DataView(words.buffer);
    for (let i = 0; i < this.words.length; i++) this.words[i] = view.getInt32(i * 4, true);
  }
}

export function putPiece(out: Out, pos: number, piece: Piece): number {
  if (pos > out.fastLimit) return putBytes(out, pos, piece.bytes);
  const words = piece.words;
  const view = out.view;
  for (let i = 0; i < words.length; i++) view.setInt32(pos + i * 4, words[i]!, true);
  return pos + piece.bytes.length;
}

/** Byte by byte, for the end of the buffer (kept out of putPiece, which is inlined everywhere). */
function putBytes(out: Out, pos: number, bytes: Uint8Array): number {
  const buf = out.buf;
  for (let i = 0; i < bytes.length; i++) buf[pos + i] = bytes[i]!;
  return pos + bytes.length;
}

/** An ASCII string made at run time (a bigint's digits). */
export function putAscii(out: Out, pos: number, s: string): number {
  const buf = out.buf;
  const n = s.length;
  for (let i = 0; i < n; i++) buf[pos + i] = s.charCodeAt(i);
  return pos + n;
}

function digitCount(v: number): number {
  if (v < 100) return v < 10 ? 1 : 2;
  if (v < 10000) return v < 1000 ? 3 : 4;
  if (v < 1000000) return v < 100000 ? 5 : 6;
  if (v < 100000000) return v < 10000000 ? 7 : 8;
  return v < 1000000000 ? 9 : 10;
}

/** A u32 in decimal. */
export function putUint(out: Out, pos: number, v: number): number {
  const buf = out.buf;
  const end = pos + digitCount(v);
  let p = end;
  do {
    // v / 10 < 2^31 for any u32, so `| 0` truncates it exactly.
    const q = (v / 10) | 0;
    buf[--p] = 48 + v - q * 10;
    v = q;
  } while (v !== 0);
  return end;
}

/** An s32 in decimal. */
export function putInt(out: Out, pos: number, v: number): number {
  if (v >= 0) return putUint(out, pos, v);
  out.buf[pos] = 45;
  return putUint(out, pos + 1, -v);
}

/**
 * The NUL-terminated string at `start` in `src` (`srcView` views the same bytes), without the NUL;
 * up to the end of `src` if it has none.
 */
export function putCString(out: Out, pos: number, src: Uint8Array, srcView: DataView, start: number): number {
  const wordEnd = src.length - 4;
  const view = out.view;
  const fastLimit = out.fastLimit;
  for (let i = start; i <= wordEnd && pos <= fastLimit; i += 4) {
    const w = srcView.getInt32(i, true);
    // The classic has-zero-byte test: the string ends in this word.
    if (((w - 0x01010101) & ~w & 0x80808080) !== 0) {
      const buf = out.buf;
      if ((w & 0xff) === 0) return pos;
      buf[pos] = w;
      if ((w & 0xff00) === 0) return pos + 1;
      buf[pos + 1] = w >> 8;
      if ((w & 0xff0000) === 0) return pos + 2;
      buf[pos + 2] = w >> 16;
      return pos + 3;
    }
    view.setInt32(pos, w, true);
    pos += 4;
    start = i + 4;
  }
  return putCStringBytes(out, pos, src, start);
}

/** Byte by byte, for the end of the buffer or of `src`. */
function putCStringBytes(out: Out, pos: number, src: Uint8Array, start: number): number {
  const buf = out.buf;
  for (let i = start; i < src.length; i++) {
    const c = src[i]!;
    if (c === 0) break;
    buf[pos++] = c;
  }
  return pos;
}
