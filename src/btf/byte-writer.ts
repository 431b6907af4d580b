// Byte-level writers for large text dumps (the raw dump of vmlinux is 12 MB): each writes at `pos`
// in `buf` and returns the position after what it wrote, so the caller keeps the position in a
// local. A write past the end of `buf` is dropped (typed-array stores out of range are ignored);
// the caller sees a returned position beyond `buf.length`, moves to a larger buffer and writes the
// same piece again. No intermediate strings are made for the garbage collector.

/** A fixed ASCII piece of the format, encoded once. */
export function asciiBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function putBytes(buf: Uint8Array, pos: number, piece: Uint8Array): number {
  const n = piece.length;
  for (let i = 0; i < n; i++) buf[pos + i] = piece[i]!;
  return pos + n;
}

/** An ASCII string made at run time (a bigint's digits). */
export function putAscii(buf: Uint8Array, pos: number, s: string): number {
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
export function putUint(buf: Uint8Array, pos: number, v: number): number {
  if (v < 10) {
    buf[pos] = 48 + v;
    return pos + 1;
  }
  const end = pos + digitCount(v);
  let p = end;
  // Below 2^31 the quotient fits int32 arithmetic; larger values take the float path.
  if (v < 0x80000000) {
    while (v >= 10) {
      const q = (v / 10) | 0;
      buf[--p] = 48 + v - q * 10;
      v = q;
    }
  } else {
    while (v >= 10) {
      const q = Math.floor(v / 10);
      buf[--p] = 48 + v - q * 10;
      v = q;
    }
  }
  buf[--p] = 48 + v;
  return end;
}

/** An s32 in decimal. */
export function putInt(buf: Uint8Array, pos: number, v: number): number {
  if (v >= 0) return putUint(buf, pos, v);
  buf[pos] = 45;
  return putUint(buf, pos + 1, -v);
}

/** The NUL-terminated string at `start` in `src`, without the NUL (or up to the end of `src`). */
export function putCString(buf: Uint8Array, pos: number, src: Uint8Array, start: number): number {
  const end = src.length;
  for (let i = start; i < end; i++) {
    const c = src[i]!;
    if (c === 0) break;
    buf[pos++] = c;
  }
  return pos;
}

/** A buffer with room for `need` more bytes after the first `used` bytes of `buf`, which it keeps. */
export function grown(buf: Uint8Array, used: number, need: number): Buffer {
  const next = Buffer.allocUnsafeSlow(Math.max(buf.length * 2, used + need * 2));
  next.set(buf.subarray(0, used));
  return next;
}
