// The packet a program sees: bytes with headroom before them, and the [data_meta, data, data_end)
// window over them. The window is one emulator memory region, so every packet access is checked
// against data_end (and data_meta) exactly; the region keeps its id across runs and changes, as the
// program may only hold pointers the verifier lets it keep.
import type { Memory } from './memory.js';

export class PacketBuffer {
  buf: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  /** A DataView over all of buf. */
  view = new DataView(this.buf.buffer);
  /** Offsets in buf: meta <= data <= end. */
  meta = 0;
  data = 0;
  end = 0;
  /** Pointer to the first byte of the window (data_meta). */
  readonly base: bigint;
  /** Region id of the window. */
  readonly region: number;
  /** What the region shows now, to skip remapping an unchanged window. */
  private readonly mapped = { buf: new Uint8Array(0), meta: 0, end: 0 };
  /**
   * [dirtyStart, dirtyEnd) covers every window shown since the buffer was last all zero: nothing outside
   * it can have been written, so load() only clears that span instead of the whole buffer.
   */
  private dirtyStart = 0;
  private dirtyEnd = 0;
  /** Called by sync(), for a context that keeps copies of the packet pointers. */
  moved: (() => void) | undefined;

  constructor(
    private readonly memory: Memory,
    private readonly writable: boolean,
  ) {
    this.base = memory.map(new Uint8Array(0), 'packet', writable);
    this.region = Number(this.base >> 32n);
  }

  /** Start a run on a copy of `bytes` with `headroom` zero bytes before it and room up to `capacity`. */
  load(bytes: Uint8Array, headroom: number, capacity = headroom + bytes.length): void {
    const size = Math.max(capacity, headroom + bytes.length);
    const end = headroom + bytes.length;
    if (this.buf.length >= size) {
      // The frame's own bytes are overwritten below; clear only what earlier runs touched around them.
      if (this.dirtyStart < headroom) this.buf.fill(0, this.dirtyStart, Math.min(headroom, this.dirtyEnd));
      if (this.dirtyEnd > end) this.buf.fill(0, Math.max(end, this.dirtyStart), this.dirtyEnd);
    } else {
      this.setBuf(new Uint8Array(size));
    }
    this.buf.set(bytes, headroom);
    this.dirtyStart = headroom;
    this.dirtyEnd = end;
    this.meta = headroom;
    this.data = headroom;
    this.end = end;
    this.sync();
  }

  get length(): number {
    return this.end - this.data;
  }

  /** The bytes from data to data_end. */
  bytes(): Uint8Array {
    return this.buf.slice(this.data, this.end);
  }

  /** Make sure at least `n` bytes of headroom precede data_meta, moving the contents if needed. */
  growHead(n: number): void {
    if (this.meta >= n) return;
    const extra = n - this.meta;
    const next = new Uint8Array(this.buf.length + extra);
    next.set(this.buf, extra);
    this.setBuf(next);
    this.dirtyStart = 0;
    this.dirtyEnd = next.length;
    this.meta += extra;
    this.data += extra;
    this.end += extra;
  }

  /** Make sure the buffer extends at least to offset `end` (new bytes are zero). */
  growTail(end: number): void {
    if (end <= this.buf.length) return;
    const next = new Uint8Array(end);
    next.set(this.buf);
    this.setBuf(next);
    this.dirtyStart = 0;
    this.dirtyEnd = end;
  }

  private setBuf(b: Uint8Array<ArrayBuffer>): void {
    this.buf = b;
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  /** Re-point the region at the window after the offsets or the buffer changed. */
  sync(): void {
    if (this.meta < this.dirtyStart) this.dirtyStart = this.meta;
    if (this.end > this.dirtyEnd) this.dirtyEnd = this.end;
    this.moved?.();
    const m = this.mapped;
    if (m.buf === this.buf && m.meta === this.meta && m.end === this.end) return;
    this.memory.remap(this.base, this.buf.subarray(this.meta, this.end), this.writable);
    m.buf = this.buf;
    m.meta = this.meta;
    m.end = this.end;
  }
}

// Internet checksum arithmetic on 32-bit partial sums, in the packet's byte order, as
// include/net/checksum.h defines it: the helpers only ever combine values taken from memory.

export function csumAdd(a: number, b: number): number {
  const r = (a >>> 0) + (b >>> 0);
  return (r + (r > 0xffffffff ? 1 : 0)) >>> 0;
}

export function csumSub(a: number, b: number): number {
  return csumAdd(a, ~b >>> 0);
}

/** Fold a 32-bit partial sum into the complemented 16-bit checksum. */
export function csumFold(sum: number): number {
  let s = (sum & 0xffff) + (sum >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** csum_replace4: the stored 16-bit checksum after the 32-bit word `from` became `to`. */
export function csumReplace4(check: number, from: number, to: number): number {
  return csumFold(csumAdd(csumSub(~check >>> 0, from), to));
}

function csum16Add(a: number, b: number): number {
  const r = (a + b) & 0xffff;
  return (r + (r < b ? 1 : 0)) & 0xffff;
}

/** csum_replace2: the same for a 16-bit field, in 16-bit arithmetic as the kernel does it. */
export function csumReplace2(check: number, from: number, to: number): number {
  return ~csum16Add(csum16Add(~check & 0xffff, ~from & 0xffff), to) & 0xffff;
}

/** csum_replace_by_diff: the stored checksum after adding the partial sum `diff`. */
export function csumReplaceByDiff(check: number, diff: number): number {
  return csumFold(csumAdd(diff, ~check >>> 0));
}

/**
 * csum_partial() on x86-64 as a 32-bit partial sum: little-endian 32-bit words, a trailing partial
 * word zero-padded, added to `seed` with end-around carry.
 */
export function csumPartial(bytes: Uint8Array, seed: number): number {
  let sum = seed >>> 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let i = 0;
  for (; i + 4 <= bytes.length; i += 4) sum = csumAdd(sum, view.getUint32(i, true));
  let tail = 0;
  for (let k = 0; i + k < bytes.length; k++) tail |= bytes[i + k]! << (8 * k);
  return i < bytes.length ? csumAdd(sum, tail >>> 0) : sum;
}

/** csum_from32to16 (include/net/checksum.h): fold a 32-bit partial sum to 16 bits, not complemented. */
export function csumFrom32to16(sum: number): number {
  const s = (sum + (((sum >>> 16) | (sum << 16)) >>> 0)) >>> 0;
  return s >>> 16;
}
