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
  const n = piece.bytes.length;
  if (pos <= out.fastLimit) {
    const words = piece.words;
    const view = out.view;
    for (let i = 0; i < words.length; i++) view.setInt32(pos + i * 4, words[i]!, true);
    return pos + n;
  }
  const buf = out.buf;
  const bytes = piece.bytes;
  for (let i = 0; i < n; i++) buf[pos + i] = bytes[i]!;
  return pos + n;
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
  let i = start;
  const wordEnd = src.length - 4;
  const view = out.view;
  const fastLimit = out.fastLimit;
  while (i <= wordEnd && pos <= fastLimit) {
    const w = srcView.getInt32(i, true);
    // Some byte of w is zero (the classic has-zero-byte test): finish byte by byte.
    if (((w - 0x01010101) & ~w & 0x80808080) !== 0) break;
    view.setInt32(pos, w, true);
    pos += 4;
    i += 4;
  }
  const buf = out.buf;
  const end = src.length;
  for (; i < end; i++) {
    const c = src[i]!;
    if (c === 0) break;
    buf[pos++] = c;
  }
  return pos;
}
