// Encodes a list of layer descriptions into frame bytes, innermost layer first so that lengths,
// next-protocol fields and checksums can be computed from what follows each header.
import { concatBytes } from '../bytes.js';
import { PacketError } from '../errors.js';
import { parseIpv4, parseIpv6, parseMac } from './addr.js';
import { internetChecksum, pseudoHeaderSum } from './checksum.js';
import {
  ARPHRD_ETHER,
  ARPOP_REPLY,
  ARPOP_REQUEST,
  ETH_P_8021Q,
  ETH_P_ARP,
  ETH_P_IP,
  ETH_P_IPV6,
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_IPIP,
  IPPROTO_IPV6,
  IPPROTO_NONE,
  IPPROTO_ROUTING,
  IPPROTO_TCP,
  IPPROTO_UDP,
  TCPOPT_MSS,
  TCPOPT_NOP,
  TCPOPT_SACK,
  TCPOPT_SACK_PERM,
  TCPOPT_TIMESTAMP,
  TCPOPT_WINDOW,
} from './constants.js';
import type {
  ArpLayer,
  EthernetLayer,
  IcmpLayer,
  Icmpv6Layer,
  Ipv4Layer,
  Ipv6Extension,
  Ipv6Layer,
  Layer,
  TcpFlags,
  TcpLayer,
  TcpOption,
  UdpLayer,
  VlanLayer,
} from './layers.js';

/** IEEE 802.1 Local Experimental EtherType 1 (ETH_P_802_EX1, include/uapi/linux/if_ether.h): the type of an Ethernet header with nothing known after it. */
const ETH_P_802_EX1 = 0x88b5;

export const DEFAULT_MAC_SRC = '02:00:00:00:00:01';
export const DEFAULT_MAC_DST = '02:00:00:00:00:02';
export const DEFAULT_IPV4_SRC = '10.0.0.1';
export const DEFAULT_IPV4_DST = '10.0.0.2';
export const DEFAULT_IPV6_SRC = 'fd00::1';
export const DEFAULT_IPV6_DST = 'fd00::2';

const TCP_FLAG_LETTERS = 'FSRPAUEC';

/** The flag byte for letters such as 'SA' (any order) or a number. */
export function tcpFlagsByte(flags: TcpFlags): number {
  if (typeof flags === 'number') {
    if (!Number.isInteger(flags) || flags < 0 || flags > 0xff) throw new PacketError(`${flags} is not a flag byte`, 'tcp', 'flags');
    return flags;
  }
  let b = 0;
  for (const ch of flags.toUpperCase()) {
    const bit = TCP_FLAG_LETTERS.indexOf(ch);
    if (bit < 0) throw new PacketError(`'${ch}' is not a TCP flag (use letters of ${TCP_FLAG_LETTERS})`, 'tcp', 'flags');
    b |= 1 << bit;
  }
  return b;
}

/** Canonical letters for a flag byte, in FSRPAUEC order. */
export function tcpFlagsString(byte: number): string {
  let s = '';
  for (let bit = 0; bit < 8; bit++) if (byte & (1 << bit)) s += TCP_FLAG_LETTERS[bit];
  return s;
}

function check(value: number, bits: number, layer: string, field: string): number {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) {
    throw new PacketError(`${value} does not fit in ${bits} unsigned bits`, layer, field);
  }
  return value;
}

function addr(parse: (s: string) => Uint8Array, text: string, layer: string, field: string): Uint8Array {
  try {
    return parse(text);
  } catch (e) {
    throw new PacketError((e as Error).message, layer, field);
  }
}

function etherTypeFor(next: Layer | undefined): number | undefined {
  switch (next?.kind) {
    case 'vlan':
      return next.tpid ?? ETH_P_8021Q;
    case 'arp':
      return ETH_P_ARP;
    case 'ipv4':
      return ETH_P_IP;
    case 'ipv6':
      return ETH_P_IPV6;
    default:
      return undefined;
  }
}

function ipProtocolFor(next: Layer | undefined): number {
  switch (next?.kind) {
    case 'tcp':
      return IPPROTO_TCP;
    case 'udp':
      return IPPROTO_UDP;
    case 'icmp':
      return IPPROTO_ICMP;
    case 'icmpv6':
      return IPPROTO_ICMPV6;
    case 'ipv4':
      return IPPROTO_IPIP;
    case 'ipv6':
      return IPPROTO_IPV6;
    default:
      return IPPROTO_NONE;
  }
}

function extensionProtocol(ext: Ipv6Extension): number {
  switch (ext.type) {
    case 'hop-by-hop':
      return IPPROTO_HOPOPTS;
    case 'destination':
      return IPPROTO_DSTOPTS;
    case 'routing':
      return IPPROTO_ROUTING;
    case 'fragment':
      return IPPROTO_FRAGMENT;
  }
}

/** The pseudo-header sum for an upper-layer header, from the nearest IP layer before it. */
function pseudoSum(before: Layer[], protocol: number, length: number, layer: string): number {
  for (let i = before.length - 1; i >= 0; i--) {
    const l = before[i]!;
    if (l.kind === 'ipv4') {
      if (protocol === IPPROTO_ICMPV6) break;
      const src = addr(parseIpv4, l.src ?? DEFAULT_IPV4_SRC, 'ipv4', 'src');
      const dst = addr(parseIpv4, l.dst ?? DEFAULT_IPV4_DST, 'ipv4', 'dst');
      return pseudoHeaderSum(src, dst, protocol, length);
    }
    if (l.kind === 'ipv6') {
      const src = addr(parseIpv6, l.src ?? DEFAULT_IPV6_SRC, 'ipv6', 'src');
      const dst = addr(parseIpv6, l.dst ?? DEFAULT_IPV6_DST, 'ipv6', 'dst');
      return pseudoHeaderSum(src, dst, protocol, length);
    }
  }
  throw new PacketError(
    `needs ${protocol === IPPROTO_ICMPV6 ? 'an ipv6' : 'an ipv4 or ipv6'} layer before it to compute the checksum; give checksum explicitly otherwise`,
    layer,
  );
}

/** Writes the checksum at `at`: the given number, the correct one, or a certainly wrong one for 'bad'. */
function putChecksum(bytes: Uint8Array, at: number, given: number | 'bad' | undefined, compute: () => number, udp = false): void {
  let value: number;
  if (typeof given === 'number') {
    value = check(given, 16, 'checksum', 'value');
  } else {
    let c = compute();
    // RFC 768: a computed zero is sent as all ones, zero meaning "no checksum".
    if (udp && c === 0) c = 0xffff;
    if (given === 'bad') {
      // Off by one or two in one's-complement arithmetic can never verify; skip 0, which UDP reads as "none".
      value = c ^ 1;
      if (udp && value === 0) value = c ^ 2;
    } else {
      value = c;
    }
  }
  bytes[at] = value >> 8;
  bytes[at + 1] = value & 0xff;
}

function encodeEth(l: EthernetLayer, next: Layer | undefined): Uint8Array {
  const h = new Uint8Array(14);
  h.set(addr(parseMac, l.dst ?? DEFAULT_MAC_DST, 'eth', 'dst'), 0);
  h.set(addr(parseMac, l.src ?? DEFAULT_MAC_SRC, 'eth', 'src'), 6);
  const type = check(l.type ?? etherTypeFor(next) ?? ETH_P_802_EX1, 16, 'eth', 'type');
  new DataView(h.buffer).setUint16(12, type);
  return h;
}

function encodeVlan(l: VlanLayer, next: Layer | undefined): Uint8Array {
  const h = new Uint8Array(4);
  const tci =
    (check(l.pcp ?? 0, 3, 'vlan', 'pcp') << 13) | ((l.dei ? 1 : 0) << 12) | check(l.vid, 12, 'vlan', 'vid');
  const dv = new DataView(h.buffer);
  dv.setUint16(0, tci);
  dv.setUint16(2, check(l.type ?? etherTypeFor(next) ?? ETH_P_802_EX1, 16, 'vlan', 'type'));
  return h;
}

function encodeArp(l: ArpLayer): Uint8Array {
  const h = new Uint8Array(28);
  const dv = new DataView(h.buffer);
  dv.setUint16(0, check(l.htype ?? ARPHRD_ETHER, 16, 'arp', 'htype'));
  dv.setUint16(2, check(l.ptype ?? ETH_P_IP, 16, 'arp', 'ptype'));
  h[4] = 6;
  h[5] = 4;
  const op = l.op === undefined || l.op === 'request' ? ARPOP_REQUEST : l.op === 'reply' ? ARPOP_REPLY : l.op;
  dv.setUint16(6, check(op, 16, 'arp', 'op'));
  h.set(addr(parseMac, l.sha ?? DEFAULT_MAC_SRC, 'arp', 'sha'), 8);
  h.set(addr(parseIpv4, l.spa ?? DEFAULT_IPV4_SRC, 'arp', 'spa'), 14);
  h.set(addr(parseMac, l.tha ?? '00:00:00:00:00:00', 'arp', 'tha'), 18);
  h.set(addr(parseIpv4, l.tpa ?? DEFAULT_IPV4_DST, 'arp', 'tpa'), 24);
  return h;
}

function encodeIpv4(l: Ipv4Layer, next: Layer | undefined, inner: Uint8Array): Uint8Array {
  const options = l.options ?? new Uint8Array(0);
  const optLen = (options.length + 3) & ~3;
  if (optLen > 40) throw new PacketError(`${options.length} option bytes do not fit in the 40 an IPv4 header allows`, 'ipv4', 'options');
  const h = new Uint8Array(20 + optLen);
  const dv = new DataView(h.buffer);
  h[0] = (check(l.version ?? 4, 4, 'ipv4', 'version') << 4) | check(l.ihl ?? h.length / 4, 4, 'ipv4', 'ihl');
  h[1] = (check(l.dscp ?? 0, 6, 'ipv4', 'dscp') << 2) | check(l.ecn ?? 0, 2, 'ipv4', 'ecn');
  const total = l.totalLength ?? h.length + inner.length;
  dv.setUint16(2, check(total, 16, 'ipv4', 'totalLength'));
  dv.setUint16(4, check(l.id ?? 0, 16, 'ipv4', 'id'));
  const frag =
    ((l.reservedFlag ? 1 : 0) << 15) | ((l.df ? 1 : 0) << 14) | ((l.mf ? 1 : 0) << 13) | check(l.fragOffset ?? 0, 13, 'ipv4', 'fragOffset');
  dv.setUint16(6, frag);
  h[8] = check(l.ttl ?? 64, 8, 'ipv4', 'ttl');
  h[9] = check(l.protocol ?? ipProtocolFor(next), 8, 'ipv4', 'protocol');
  h.set(addr(parseIpv4, l.src ?? DEFAULT_IPV4_SRC, 'ipv4', 'src'), 12);
  h.set(addr(parseIpv4, l.dst ?? DEFAULT_IPV4_DST, 'ipv4', 'dst'), 16);
  h.set(options, 20);
  putChecksum(h, 10, l.checksum, () => internetChecksum(h));
  return h;
}

function encodeExtension(ext: Ipv6Extension, nextHeader: number): Uint8Array {
  let h: Uint8Array;
  const where = `ipv6 ${ext.type} header`;
  switch (ext.type) {
    case 'hop-by-hop':
    case 'destination': {
      const opts = ext.options ?? new Uint8Array(0);
      const pad = (8 - ((2 + opts.length) % 8)) % 8;
      h = new Uint8Array(2 + opts.length + pad);
      h.set(opts, 2);
      // RFC 8200 §4.2: Pad1 is a single zero byte, PadN is type 1 with a length.
      if (pad >= 2) {
        h[2 + opts.length] = 1;
        h[3 + opts.length] = pad - 2;
      }
      break;
    }
    case 'routing': {
      const data = ext.data ?? new Uint8Array(4);
      const padded = 4 + data.length + ((8 - ((4 + data.length) % 8)) % 8);
      h = new Uint8Array(padded);
      h[2] = check(ext.routingType ?? 0, 8, where, 'routingType');
      h[3] = check(ext.segmentsLeft ?? 0, 8, where, 'segmentsLeft');
      h.set(data, 4);
      break;
    }
    case 'fragment': {
      h = new Uint8Array(8);
      const dv = new DataView(h.buffer);
      dv.setUint16(2, (check(ext.fragOffset ?? 0, 13, where, 'fragOffset') << 3) | (ext.more ? 1 : 0));
      dv.setUint32(4, check(ext.id ?? 0, 32, where, 'id'));
      break;
    }
  }
  if (ext.type !== 'fragment') {
    if (h.length > 2048) throw new PacketError(`${h.length} bytes exceed the 2048 an extension header can declare`, where);
    h[1] = h.length / 8 - 1;
  }
  h[0] = check(ext.nextHeader ?? nextHeader, 8, where, 'nextHeader');
  return h;
}

function encodeIpv6(l: Ipv6Layer, next: Layer | undefined, inner: Uint8Array): Uint8Array {
  const exts = l.extensions ?? [];
  const encoded: Uint8Array[] = [];
  let nh = ipProtocolFor(next);
  for (let i = exts.length - 1; i >= 0; i--) {
    encoded.unshift(encodeExtension(exts[i]!, nh));
    nh = extensionProtocol(exts[i]!);
  }
  const extBytes = concatBytes(encoded);
  const h = new Uint8Array(40);
  const dv = new DataView(h.buffer);
  const version = check(l.version ?? 6, 4, 'ipv6', 'version');
  const tc = check(l.trafficClass ?? 0, 8, 'ipv6', 'trafficClass');
  const flow = check(l.flowLabel ?? 0, 20, 'ipv6', 'flowLabel');
  dv.setUint32(0, ((version << 28) | (tc << 20) | flow) >>> 0);
  dv.setUint16(4, check(l.payloadLength ?? extBytes.length + inner.length, 16, 'ipv6', 'payloadLength'));
  h[6] = check(l.nextHeader ?? nh, 8, 'ipv6', 'nextHeader');
  h[7] = check(l.hopLimit ?? 64, 8, 'ipv6', 'hopLimit');
  h.set(addr(parseIpv6, l.src ?? DEFAULT_IPV6_SRC, 'ipv6', 'src'), 8);
  h.set(addr(parseIpv6, l.dst ?? DEFAULT_IPV6_DST, 'ipv6', 'dst'), 24);
  return concatBytes([h, extBytes]);
}

/** Option bytes for structured TCP options, before padding. */
export function encodeTcpOptions(options: TcpOption[]): Uint8Array {
  const out: number[] = [];
  const u16 = (v: number, f: string) => {
    check(v, 16, 'tcp option', f);
    out.push(v >> 8, v & 0xff);
  };
  const u32 = (v: number, f: string) => {
    check(v, 32, 'tcp option', f);
    out.push(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  };
  for (const o of options) {
    switch (o.kind) {
      case 'nop':
        out.push(TCPOPT_NOP);
        break;
      case 'mss':
        out.push(TCPOPT_MSS, 4);
        u16(o.mss, 'mss');
        break;
      case 'wscale':
        out.push(TCPOPT_WINDOW, 3, check(o.shift, 8, 'tcp option', 'shift'));
        break;
      case 'sackPermitted':
        out.push(TCPOPT_SACK_PERM, 2);
        break;
      case 'sack':
        out.push(TCPOPT_SACK, 2 + 8 * o.blocks.length);
        for (const [left, right] of o.blocks) {
          u32(left, 'sack left edge');
          u32(right, 'sack right edge');
        }
        break;
      case 'timestamp':
        out.push(TCPOPT_TIMESTAMP, 10);
        u32(o.tsval, 'tsval');
        u32(o.tsecr, 'tsecr');
        break;
      case 'other':
        out.push(check(o.type, 8, 'tcp option', 'type'), check(2 + o.data.length, 8, 'tcp option', 'length'), ...o.data);
        break;
    }
  }
  return Uint8Array.from(out);
}

function encodeTcp(l: TcpLayer, inner: Uint8Array, before: Layer[]): Uint8Array {
  const opts = l.options instanceof Uint8Array ? l.options : encodeTcpOptions(l.options ?? []);
  const optLen = (opts.length + 3) & ~3;
  if (optLen > 40) throw new PacketError(`${opts.length} option bytes do not fit in the 40 a TCP header allows`, 'tcp', 'options');
  const h = new Uint8Array(20 + optLen);
  const dv = new DataView(h.buffer);
  dv.setUint16(0, check(l.sport ?? 1024, 16, 'tcp', 'sport'));
  dv.setUint16(2, check(l.dport ?? 80, 16, 'tcp', 'dport'));
  dv.setUint32(4, check(l.seq ?? 0, 32, 'tcp', 'seq'));
  dv.setUint32(8, check(l.ack ?? 0, 32, 'tcp', 'ack'));
  h[12] = (check(l.dataOffset ?? h.length / 4, 4, 'tcp', 'dataOffset') << 4) | check(l.reserved ?? 0, 4, 'tcp', 'reserved');
  h[13] = tcpFlagsByte(l.flags ?? 'S');
  dv.setUint16(14, check(l.window ?? 65535, 16, 'tcp', 'window'));
  dv.setUint16(18, check(l.urgent ?? 0, 16, 'tcp', 'urgent'));
  h.set(opts, 20);
  const seg = concatBytes([h, inner]);
  putChecksum(seg, 16, l.checksum, () => internetChecksum(seg, pseudoSum(before, IPPROTO_TCP, seg.length, 'tcp')));
  return seg.subarray(0, h.length);
}

function encodeUdp(l: UdpLayer, inner: Uint8Array, before: Layer[]): Uint8Array {
  const h = new Uint8Array(8);
  const dv = new DataView(h.buffer);
  dv.setUint16(0, check(l.sport ?? 1024, 16, 'udp', 'sport'));
  dv.setUint16(2, check(l.dport ?? 53, 16, 'udp', 'dport'));
  dv.setUint16(4, check(l.length ?? 8 + inner.length, 16, 'udp', 'length'));
  const seg = concatBytes([h, inner]);
  putChecksum(seg, 6, l.checksum, () => internetChecksum(seg, pseudoSum(before, IPPROTO_UDP, seg.length, 'udp')), true);
  return seg.subarray(0, 8);
}

function encodeIcmp(l: IcmpLayer | Icmpv6Layer, inner: Uint8Array, before: Layer[]): Uint8Array {
  const v6 = l.kind === 'icmpv6';
  const h = new Uint8Array(8);
  const dv = new DataView(h.buffer);
  h[0] = check(l.type ?? (v6 ? 128 : 8), 8, l.kind, 'type');
  h[1] = check(l.code ?? 0, 8, l.kind, 'code');
  if (l.id !== undefined || l.seq !== undefined) {
    dv.setUint16(4, check(l.id ?? 0, 16, l.kind, 'id'));
    dv.setUint16(6, check(l.seq ?? 0, 16, l.kind, 'seq'));
  } else {
    dv.setUint32(4, check(l.rest ?? 0, 32, l.kind, 'rest'));
  }
  const msg = concatBytes([h, inner]);
  putChecksum(msg, 2, l.checksum, () =>
    internetChecksum(msg, v6 ? pseudoSum(before, IPPROTO_ICMPV6, msg.length, 'icmpv6') : 0),
  );
  return msg.subarray(0, 8);
}

/** Frame bytes for `layers`, outermost first. Throws PacketError for fields that cannot be encoded. */
export function buildPacket(layers: readonly Layer[]): Uint8Array {
  let inner: Uint8Array = new Uint8Array(0);
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i]!;
    const next = layers[i + 1];
    const before = layers.slice(0, i);
    let header: Uint8Array;
    switch (l.kind) {
      case 'eth':
        header = encodeEth(l, next);
        break;
      case 'vlan':
        header = encodeVlan(l, next);
        break;
      case 'arp':
        header = encodeArp(l);
        break;
      case 'ipv4':
        header = encodeIpv4(l, next, inner);
        break;
      case 'ipv6':
        header = encodeIpv6(l, next, inner);
        break;
      case 'tcp':
        header = encodeTcp(l, inner, before);
        break;
      case 'udp':
        header = encodeUdp(l, inner, before);
        break;
      case 'icmp':
      case 'icmpv6':
        header = encodeIcmp(l, inner, before);
        break;
      case 'payload':
        header = l.bytes;
        break;
    }
    inner = concatBytes([header, inner]);
  }
  return inner;
}

type Fields<L extends Layer> = Omit<L, 'kind'>;

/**
 * Fluent, immutable frame builder: every call returns a new builder, so a common prefix can be
 * shared between tests. `build()` fills lengths, next-protocol fields and checksums unless given.
 */
export class PacketBuilder {
  constructor(readonly layers: readonly Layer[] = []) {}

  layer(l: Layer): PacketBuilder {
    return new PacketBuilder([...this.layers, l]);
  }
  eth(f: Fields<EthernetLayer> = {}): PacketBuilder {
    return this.layer({ kind: 'eth', ...f });
  }
  vlan(f: Fields<VlanLayer>): PacketBuilder {
    return this.layer({ kind: 'vlan', ...f });
  }
  arp(f: Fields<ArpLayer> = {}): PacketBuilder {
    return this.layer({ kind: 'arp', ...f });
  }
  ipv4(f: Fields<Ipv4Layer> = {}): PacketBuilder {
    return this.layer({ kind: 'ipv4', ...f });
  }
  ipv6(f: Fields<Ipv6Layer> = {}): PacketBuilder {
    return this.layer({ kind: 'ipv6', ...f });
  }
  tcp(f: Fields<TcpLayer> = {}): PacketBuilder {
    return this.layer({ kind: 'tcp', ...f });
  }
  udp(f: Fields<UdpLayer> = {}): PacketBuilder {
    return this.layer({ kind: 'udp', ...f });
  }
  icmp(f: Fields<IcmpLayer> = {}): PacketBuilder {
    return this.layer({ kind: 'icmp', ...f });
  }
  icmpv6(f: Fields<Icmpv6Layer> = {}): PacketBuilder {
    return this.layer({ kind: 'icmpv6', ...f });
  }
  /** Raw bytes, or a string encoded as UTF-8. */
  payload(data: Uint8Array | string): PacketBuilder {
    return this.layer({ kind: 'payload', bytes: typeof data === 'string' ? new TextEncoder().encode(data) : data });
  }
  build(): Uint8Array {
    return buildPacket(this.layers);
  }
}

/** Starts a frame: `packet().eth().ipv4({ dst: '10.0.0.2' }).tcp({ dport: 80, flags: 'S' }).build()`. */
export function packet(): PacketBuilder {
  return new PacketBuilder();
}
