// Structured descriptions of each protocol layer. The builder takes these (most fields optional:
// lengths, checksums and next-protocol fields are computed unless given); the parser returns the
// Parsed* forms with every field filled in, so `parsePacket(build(layers)).layers` matches `layers`.

/** TCP flags as letters in any order: F S R P A U E C (FIN SYN RST PSH ACK URG ECE CWR), or the flag byte. */
export type TcpFlags = string | number;

export interface EthernetLayer {
  kind: 'eth';
  src?: string;
  dst?: string;
  /** EtherType; computed from the next layer (0x88b5, local experimental, when nothing follows). */
  type?: number;
}

export interface VlanLayer {
  kind: 'vlan';
  vid: number;
  pcp?: number;
  dei?: boolean;
  /** The EtherType that announces this tag, written into the previous header (0x8100, or 0x88a8 for an 802.1ad outer tag). */
  tpid?: number;
  /** The EtherType after the tag; computed from the next layer. */
  type?: number;
}

export interface ArpLayer {
  kind: 'arp';
  /** 'request' (1), 'reply' (2) or any opcode. */
  op?: 'request' | 'reply' | number;
  sha?: string;
  spa?: string;
  tha?: string;
  tpa?: string;
  htype?: number;
  ptype?: number;
}

export interface Ipv4Layer {
  kind: 'ipv4';
  src?: string;
  dst?: string;
  ttl?: number;
  dscp?: number;
  ecn?: number;
  id?: number;
  df?: boolean;
  mf?: boolean;
  /** The reserved ("evil") flag bit. */
  reservedFlag?: boolean;
  /** Fragment offset in 8-byte units, as in the header. */
  fragOffset?: number;
  /** Option bytes, padded with zeros (EOL) to a multiple of 4. */
  options?: Uint8Array;
  /** Overrides: computed unless given. */
  version?: number;
  ihl?: number;
  totalLength?: number;
  protocol?: number;
  checksum?: number | 'bad';
}

/** IPv6 extension headers, in order, inside the IPv6 layer. */
export type Ipv6Extension =
  | {
      type: 'hop-by-hop' | 'destination';
      /** The TLV option area; padded with Pad1/PadN to fill the header to a multiple of 8 bytes. */
      options?: Uint8Array;
      nextHeader?: number;
    }
  | { type: 'routing'; routingType?: number; segmentsLeft?: number; data?: Uint8Array; nextHeader?: number }
  | {
      type: 'fragment';
      /** Fragment offset in 8-byte units, as in the header. */
      fragOffset?: number;
      more?: boolean;
      id?: number;
      nextHeader?: number;
    };

export interface Ipv6Layer {
  kind: 'ipv6';
  src?: string;
  dst?: string;
  hopLimit?: number;
  trafficClass?: number;
  flowLabel?: number;
  extensions?: Ipv6Extension[];
  /** Overrides: computed unless given. */
  version?: number;
  payloadLength?: number;
  nextHeader?: number;
}

export type TcpOption =
  | { kind: 'nop' }
  | { kind: 'mss'; mss: number }
  | { kind: 'wscale'; shift: number }
  | { kind: 'sackPermitted' }
  | { kind: 'sack'; blocks: [number, number][] }
  | { kind: 'timestamp'; tsval: number; tsecr: number }
  /** Any other option: `type` is the kind byte, `data` what follows the length byte. */
  | { kind: 'other'; type: number; data: Uint8Array };

export interface TcpLayer {
  kind: 'tcp';
  sport?: number;
  dport?: number;
  seq?: number;
  ack?: number;
  flags?: TcpFlags;
  window?: number;
  urgent?: number;
  /** Structured options (padded with EOL to a multiple of 4), or raw option bytes. */
  options?: TcpOption[] | Uint8Array;
  /** The 4 reserved bits (the lowest is AccECN's AE). */
  reserved?: number;
  /** Overrides: computed unless given. Data offset in 32-bit words. */
  dataOffset?: number;
  checksum?: number | 'bad';
}

export interface UdpLayer {
  kind: 'udp';
  sport?: number;
  dport?: number;
  length?: number;
  checksum?: number | 'bad';
}

/** ICMP and ICMPv6 share their header: type, code, checksum, then a second word. */
interface IcmpFields {
  type?: number;
  code?: number;
  /** Echo identifier and sequence (the second word of the header). */
  id?: number;
  seq?: number;
  /** The second word as one 32-bit number, for messages that are not echo (or ICMP timestamp). */
  rest?: number;
  checksum?: number | 'bad';
}

export interface IcmpLayer extends IcmpFields {
  kind: 'icmp';
}

export interface Icmpv6Layer extends IcmpFields {
  kind: 'icmpv6';
}

export interface PayloadLayer {
  kind: 'payload';
  bytes: Uint8Array;
}

export type Layer =
  | EthernetLayer
  | VlanLayer
  | ArpLayer
  | Ipv4Layer
  | Ipv6Layer
  | TcpLayer
  | UdpLayer
  | IcmpLayer
  | Icmpv6Layer
  | PayloadLayer;

export type LayerKind = Layer['kind'];

// ---- parsed forms: every field present -------------------------------------------------------

export interface ParsedEthernet {
  kind: 'eth';
  src: string;
  dst: string;
  type: number;
}

export interface ParsedVlan {
  kind: 'vlan';
  tpid: number;
  pcp: number;
  dei: boolean;
  vid: number;
  type: number;
}

export interface ParsedArp {
  kind: 'arp';
  htype: number;
  ptype: number;
  op: 'request' | 'reply' | number;
  sha: string;
  spa: string;
  tha: string;
  tpa: string;
}

export interface ParsedIpv4 {
  kind: 'ipv4';
  version: number;
  ihl: number;
  dscp: number;
  ecn: number;
  totalLength: number;
  id: number;
  reservedFlag: boolean;
  df: boolean;
  mf: boolean;
  fragOffset: number;
  ttl: number;
  protocol: number;
  checksum: number;
  checksumValid: boolean;
  src: string;
  dst: string;
  options: Uint8Array;
}

export type ParsedIpv6Extension =
  | { type: 'hop-by-hop' | 'destination'; nextHeader: number; options: Uint8Array }
  | { type: 'routing'; nextHeader: number; routingType: number; segmentsLeft: number; data: Uint8Array }
  | { type: 'fragment'; nextHeader: number; fragOffset: number; more: boolean; id: number };

export interface ParsedIpv6 {
  kind: 'ipv6';
  version: number;
  trafficClass: number;
  flowLabel: number;
  payloadLength: number;
  nextHeader: number;
  hopLimit: number;
  src: string;
  dst: string;
  extensions: ParsedIpv6Extension[];
}

/**
 * L4 checksum verdict: true/false when the whole datagram is present, undefined when it cannot be
 * checked (truncated, a fragment, or no IP layer to form the pseudo-header).
 */
export type ChecksumVerdict = boolean | undefined;

export interface ParsedTcp {
  kind: 'tcp';
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  dataOffset: number;
  reserved: number;
  flags: string;
  window: number;
  checksum: number;
  checksumValid: ChecksumVerdict;
  urgent: number;
  options: TcpOption[];
  rawOptions: Uint8Array;
}

export interface ParsedUdp {
  kind: 'udp';
  sport: number;
  dport: number;
  length: number;
  checksum: number;
  checksumValid: ChecksumVerdict;
}

interface ParsedIcmpFields {
  type: number;
  code: number;
  checksum: number;
  checksumValid: ChecksumVerdict;
  /** Present for echo (and ICMP timestamp) messages: see icmpHasIdSeq. */
  id?: number;
  seq?: number;
  /** Present for other messages. */
  rest?: number;
}

export interface ParsedIcmp extends ParsedIcmpFields {
  kind: 'icmp';
}

export interface ParsedIcmpv6 extends ParsedIcmpFields {
  kind: 'icmpv6';
}

export interface ParsedPayload {
  kind: 'payload';
  bytes: Uint8Array;
}

export type ParsedLayer =
  | ParsedEthernet
  | ParsedVlan
  | ParsedArp
  | ParsedIpv4
  | ParsedIpv6
  | ParsedTcp
  | ParsedUdp
  | ParsedIcmp
  | ParsedIcmpv6
  | ParsedPayload;
