// Encoding of netlink requests and bounds-checked parsing of replies (nlmsghdr, rtattr TLVs).
import { BpfError } from '../../errors.js';
import { NLA_F_NESTED, NLA_TYPE_MASK, NLMSGHDR, NLMSG_ALIGNTO, RTATTR, RTA_ALIGNTO } from '../abi/netlink.js';
import { StructView } from '../abi/layout.js';

export function align(n: number, to: number = NLMSG_ALIGNTO): number {
  return (n + to - 1) & ~(to - 1);
}

/** A reply that does not parse as netlink: a kernel/ABI mismatch, never a user mistake. */
export class NetlinkParseError extends BpfError {}

/** Builds a sequence of rtattr TLVs, each padded to RTA_ALIGNTO. */
export class AttrWriter {
  private buf = new Uint8Array(128);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** Appends one attribute with `payload` as its value. */
  bytes(type: number, payload: Uint8Array): this {
    const total = RTATTR.size + payload.length;
    this.reserve(align(total, RTA_ALIGNTO));
    new StructView(RTATTR, this.buf, this.len).set('rta_len', total).set('rta_type', type);
    this.buf.set(payload, this.len + RTATTR.size);
    this.len += align(total, RTA_ALIGNTO);
    return this;
  }

  u8(type: number, v: number): this {
    return this.bytes(type, Uint8Array.of(v & 0xff));
  }

  u32(type: number, v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    return this.bytes(type, b);
  }

  s32(type: number, v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, v, true);
    return this.bytes(type, b);
  }

  /** A NUL-terminated string attribute. */
  str(type: number, s: string): this {
    return this.bytes(type, new TextEncoder().encode(`${s}\0`));
  }

  /** A nested attribute (NLA_F_NESTED set) whose contents `fill` writes. */
  nested(type: number, fill: (w: AttrWriter) => void): this {
    const inner = new AttrWriter();
    fill(inner);
    return this.bytes(type | NLA_F_NESTED, inner.finish());
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** nlmsghdr + fixed family header + attributes, as one request. */
export function encodeMessage(type: number, flags: number, seq: number, header: Uint8Array, attrs?: Uint8Array): Uint8Array {
  const headerLen = align(header.length);
  const total = NLMSGHDR.size + headerLen + (attrs?.length ?? 0);
  const out = new Uint8Array(total);
  new StructView(NLMSGHDR, out)
    .set('nlmsg_len', total)
    .set('nlmsg_type', type)
    .set('nlmsg_flags', flags)
    .set('nlmsg_seq', seq)
    .set('nlmsg_pid', 0);
  out.set(header, NLMSGHDR.size);
  if (attrs) out.set(attrs, NLMSGHDR.size + headerLen);
  return out;
}

export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** Everything after the nlmsghdr. */
  payload: Uint8Array;
}

/** Splits a datagram into messages; a length that runs past the datagram is a parse error. */
export function parseMessages(buf: Uint8Array): NlMessage[] {
  const out: NlMessage[] = [];
  let at = 0;
  while (at + NLMSGHDR.size <= buf.length) {
    const h = new StructView(NLMSGHDR, buf, at);
    const len = h.num('nlmsg_len');
    if (len < NLMSGHDR.size || at + len > buf.length) {
      throw new NetlinkParseError(`netlink message at byte ${at} claims ${len} bytes, ${buf.length - at} remain`);
    }
    out.push({
      type: h.num('nlmsg_type'),
      flags: h.num('nlmsg_flags'),
      seq: h.num('nlmsg_seq'),
      pid: h.num('nlmsg_pid'),
      payload: buf.subarray(at + NLMSGHDR.size, at + len),
    });
    at += align(len);
  }
  return out;
}

/** Attributes by type (flag bits stripped); a malformed TLV stops parsing with an error. */
export function parseAttrs(buf: Uint8Array): Map<number, Uint8Array> {
  const attrs = new Map<number, Uint8Array>();
  let at = 0;
  while (at + RTATTR.size <= buf.length) {
    const a = new StructView(RTATTR, buf, at);
    const len = a.num('rta_len');
    if (len < RTATTR.size || at + len > buf.length) {
      throw new NetlinkParseError(`netlink attribute at byte ${at} claims ${len} bytes, ${buf.length - at} remain`);
    }
    attrs.set(a.num('rta_type') & NLA_TYPE_MASK, buf.subarray(at + RTATTR.size, at + len));
    at += align(len, RTA_ALIGNTO);
  }
  return attrs;
}

function need(attr: Uint8Array, n: number, what: string): DataView {
  if (attr.length < n) throw new NetlinkParseError(`netlink attribute ${what} has ${attr.length} bytes, expected ${n}`);
  return new DataView(attr.buffer, attr.byteOffset, attr.byteLength);
}

export function attrU8(attr: Uint8Array, what: string): number {
  return need(attr, 1, what).getUint8(0);
}

export function attrU32(attr: Uint8Array, what: string): number {
  return need(attr, 4, what).getUint32(0, true);
}

/** A string attribute up to its NUL. */
export function attrStr(attr: Uint8Array): string {
  const nul = attr.indexOf(0);
  return new TextDecoder().decode(nul < 0 ? attr : attr.subarray(0, nul));
}
