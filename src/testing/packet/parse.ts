// Decodes frame bytes into layers. Never throws on malformed or truncated input: it reports the
// layers it could decode, the rest as a payload layer, and says why it stopped in `issues`.
import { formatIpv4, formatIpv6, formatMac } from './addr.js';
import { checksumOk, pseudoHeaderSum } from './checksum.js';
import { tcpFlagsString } from './build.js';
import {
  ARPOP_REPLY,
  ARPOP_REQUEST,
  ETH_P_8021AD,
  ETH_P_8021Q,
  ETH_P_ARP,
  ETH_P_IP,
  ETH_P_IPV6,
  ICMP_ECHO,
  ICMP_ECHOREPLY,
  ICMP_TIMESTAMP,
  ICMP_TIMESTAMPREPLY,
  ICMPV6_ECHO_REPLY,
  ICMPV6_ECHO_REQUEST,
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_IPIP,
  IPPROTO_IPV6,
  IPPROTO_ROUTING,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IP_CE,
  IP_DF,
  IP_MF,
  IP_OFFSET,
  TCPOPT_EOL,
  TCPOPT_MSS,
  TCPOPT_NOP,
  TCPOPT_SACK,
  TCPOPT_SACK_PERM,
  TCPOPT_TIMESTAMP,
  TCPOPT_WINDOW,
} from './constants.js';
import type { ChecksumVerdict, Layer, ParsedIpv6Extension, ParsedLayer, TcpOption } from './layers.js';

export interface ParsedPacket {
  /** Outermost first. Bytes past the last decodable header are one final `payload` layer. */
  layers: ParsedLayer[];
  /** The frame ended inside a header, or before the length an IP or UDP header declares. */
  truncated: boolean;
  /** Why decoding stopped early or what looked wrong, one line each (e.g. "ipv4: IHL 3 is below 5"). */
  issues: string[];
  /** Bytes after the end an IP datagram (or ARP message) declares, such as Ethernet padding. */
  trailer: Uint8Array;
}

/** The first header in the bytes: Ethernet (tc, XDP) or a bare IP packet (cgroup skb, LINKTYPE_RAW). */
export type FirstLayer = 'eth' | 'ipv4' | 'ipv6' | 'ip';

export interface ParseOptions {
  first?: FirstLayer;
}

type Next = 'eth' | 'vlan' | 'arp' | 'ipv4' | 'ipv6' | 'ip' | 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'payload';

/** ICMP types whose second word is identifier + sequence (RFC 792). */
const ICMP_ID_SEQ = new Set([ICMP_ECHOREPLY, ICMP_ECHO, ICMP_TIMESTAMP, ICMP_TIMESTAMPREPLY, 15, 16, 17, 18]);
const ICMPV6_ID_SEQ = new Set([ICMPV6_ECHO_REQUEST, ICMPV6_ECHO_REPLY]);

/** Whether the parser reports an ICMP (or ICMPv6) message's second word as `id`/`seq` rather than `rest`. */
export function icmpHasIdSeq(type: number, v6: boolean): boolean {
  return (v6 ? ICMPV6_ID_SEQ : ICMP_ID_SEQ).has(type);
}

function etherNext(type: number): Next {
  switch (type) {
    case ETH_P_8021Q:
    case ETH_P_8021AD:
      return 'vlan';
    case ETH_P_IP:
      return 'ipv4';
    case ETH_P_IPV6:
      return 'ipv6';
    case ETH_P_ARP:
      return 'arp';
    default:
      return 'payload';
  }
}

function ipNext(protocol: number): Next {
  switch (protocol) {
    case IPPROTO_TCP:
      return 'tcp';
    case IPPROTO_UDP:
      return 'udp';
    case IPPROTO_ICMP:
      return 'icmp';
    case IPPROTO_ICMPV6:
      return 'icmpv6';
    case IPPROTO_IPIP:
      return 'ipv4';
    case IPPROTO_IPV6:
      return 'ipv6';
    default:
      return 'payload';
  }
}

export function parseTcpOptions(raw: Uint8Array, issues: string[]): TcpOption[] {
  const out: TcpOption[] = [];
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  let i = 0;
  while (i < raw.length) {
    const kind = raw[i]!;
    if (kind === TCPOPT_EOL) break;
    if (kind === TCPOPT_NOP) {
      out.push({ kind: 'nop' });
      i++;
      continue;
    }
    const len = raw[i + 1];
    if (len === undefined || len < 2 || i + len > raw.length) {
      issues.push(`tcp: malformed option ${kind} at option offset ${i}`);
      break;
    }
    if (kind === TCPOPT_MSS && len === 4) out.push({ kind: 'mss', mss: dv.getUint16(i + 2) });
    else if (kind === TCPOPT_WINDOW && len === 3) out.push({ kind: 'wscale', shift: raw[i + 2]! });
    else if (kind === TCPOPT_SACK_PERM && len === 2) out.push({ kind: 'sackPermitted' });
    else if (kind === TCPOPT_TIMESTAMP && len === 10) {
      out.push({ kind: 'timestamp', tsval: dv.getUint32(i + 2), tsecr: dv.getUint32(i + 6) });
    } else if (kind === TCPOPT_SACK && len >= 10 && (len - 2) % 8 === 0) {
      const blocks: [number, number][] = [];
      for (let b = i + 2; b < i + len; b += 8) blocks.push([dv.getUint32(b), dv.getUint32(b + 4)]);
      out.push({ kind: 'sack', blocks });
    } else {
      out.push({ kind: 'other', type: kind, data: raw.slice(i + 2, i + len) });
    }
    i += len;
  }
  return out;
}

/** Decodes `bytes` (an Ethernet frame unless `options.first` says otherwise). Never throws. */
export function parsePacket(input: Uint8Array, options: ParseOptions = {}): ParsedPacket {
  // A plain view, so that slices of a Node Buffer come out as copies, not Buffer views.
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const layers: ParsedLayer[] = [];
  const issues: string[] = [];
  let truncated = false;
  let off = 0;
  let end = bytes.length;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let next: Next = options.first ?? 'eth';
  let prevType = 0;
  // What the L4 checksum needs from the enclosing IP header; undefined when it cannot be checked.
  let pseudo: { src: Uint8Array; dst: Uint8Array; v6: boolean } | undefined;
  let datagramWhole = false;

  const need = (n: number, what: string): boolean => {
    if (end - off >= n) return true;
    truncated = true;
    issues.push(`${what}: header needs ${n} bytes, ${end - off} left`);
    return false;
  };
  const verdict = (ok: () => boolean): ChecksumVerdict => (pseudo && datagramWhole ? ok() : undefined);
  /** Narrows the datagram to its declared length, noting truncation. */
  const declare = (start: number, length: number, what: string) => {
    if (start + length > end) {
      truncated = true;
      datagramWhole = false;
      issues.push(`${what}: declares ${length} bytes, ${end - start} present`);
    } else {
      end = start + length;
    }
  };

  loop: for (;;) {
    switch (next) {
      case 'eth': {
        if (!need(14, 'eth')) break loop;
        const type = dv.getUint16(off + 12);
        layers.push({ kind: 'eth', dst: formatMac(bytes.subarray(off)), src: formatMac(bytes.subarray(off + 6)), type });
        off += 14;
        prevType = type;
        next = etherNext(type);
        break;
      }
      case 'vlan': {
        if (!need(4, 'vlan')) break loop;
        const tci = dv.getUint16(off);
        const type = dv.getUint16(off + 2);
        layers.push({ kind: 'vlan', tpid: prevType, pcp: tci >> 13, dei: (tci & 0x1000) !== 0, vid: tci & 0xfff, type });
        off += 4;
        prevType = type;
        next = etherNext(type);
        break;
      }
      case 'arp': {
        if (!need(8, 'arp')) break loop;
        if (bytes[off + 4] !== 6 || bytes[off + 5] !== 4) {
          issues.push(`arp: hardware/protocol address lengths ${bytes[off + 4]}/${bytes[off + 5]} are not Ethernet/IPv4`);
          break loop;
        }
        if (!need(28, 'arp')) break loop;
        const op = dv.getUint16(off + 6);
        layers.push({
          kind: 'arp',
          htype: dv.getUint16(off),
          ptype: dv.getUint16(off + 2),
          op: op === ARPOP_REQUEST ? 'request' : op === ARPOP_REPLY ? 'reply' : op,
          sha: formatMac(bytes.subarray(off + 8)),
          spa: formatIpv4(bytes.subarray(off + 14)),
          tha: formatMac(bytes.subarray(off + 18)),
          tpa: formatIpv4(bytes.subarray(off + 24)),
        });
        off += 28;
        end = off;
        break loop;
      }
      case 'ip': {
        next = bytes[off]! >> 4 === 6 ? 'ipv6' : 'ipv4';
        break;
      }
      case 'ipv4': {
        if (!need(20, 'ipv4')) break loop;
        const version = bytes[off]! >> 4;
        const ihl = bytes[off]! & 0xf;
        if (version !== 4) issues.push(`ipv4: version ${version} is not 4`);
        if (ihl < 5) {
          issues.push(`ipv4: IHL ${ihl} is below 5`);
          break loop;
        }
        if (!need(ihl * 4, 'ipv4')) break loop;
        const header = bytes.subarray(off, off + ihl * 4);
        const totalLength = dv.getUint16(off + 2);
        const frag = dv.getUint16(off + 6);
        const protocol = bytes[off + 9]!;
        const src = bytes.slice(off + 12, off + 16);
        const dst = bytes.slice(off + 16, off + 20);
        layers.push({
          kind: 'ipv4',
          version,
          ihl,
          dscp: bytes[off + 1]! >> 2,
          ecn: bytes[off + 1]! & 3,
          totalLength,
          id: dv.getUint16(off + 4),
          reservedFlag: (frag & IP_CE) !== 0,
          df: (frag & IP_DF) !== 0,
          mf: (frag & IP_MF) !== 0,
          fragOffset: frag & IP_OFFSET,
          ttl: bytes[off + 8]!,
          protocol,
          checksum: dv.getUint16(off + 10),
          checksumValid: checksumOk(header),
          src: formatIpv4(src),
          dst: formatIpv4(dst),
          options: header.slice(20),
        });
        if (totalLength < ihl * 4) {
          issues.push(`ipv4: total length ${totalLength} is shorter than the ${ihl * 4}-byte header`);
          off += ihl * 4;
          break loop;
        }
        datagramWhole = true;
        declare(off, totalLength, 'ipv4');
        off += ihl * 4;
        pseudo = { src, dst, v6: false };
        if (frag & (IP_MF | IP_OFFSET)) datagramWhole = false;
        next = (frag & IP_OFFSET) !== 0 ? 'payload' : ipNext(protocol);
        break;
      }
      case 'ipv6': {
        if (!need(40, 'ipv6')) break loop;
        const word = dv.getUint32(off);
        const version = word >>> 28;
        if (version !== 6) issues.push(`ipv6: version ${version} is not 6`);
        const payloadLength = dv.getUint16(off + 4);
        let nh = bytes[off + 6]!;
        const src = bytes.slice(off + 8, off + 24);
        const dst = bytes.slice(off + 24, off + 40);
        const extensions: ParsedIpv6Extension[] = [];
        layers.push({
          kind: 'ipv6',
          version,
          trafficClass: (word >>> 20) & 0xff,
          flowLabel: word & 0xfffff,
          payloadLength,
          nextHeader: nh,
          hopLimit: bytes[off + 7]!,
          src: formatIpv6(src),
          dst: formatIpv6(dst),
          extensions,
        });
        off += 40;
        datagramWhole = true;
        declare(off, payloadLength, 'ipv6');
        pseudo = { src, dst, v6: true };
        next = ipNext(nh);
        while (nh === IPPROTO_HOPOPTS || nh === IPPROTO_DSTOPTS || nh === IPPROTO_ROUTING || nh === IPPROTO_FRAGMENT) {
          const what = 'ipv6 extension header';
          if (!need(8, what)) break loop;
          const extNext = bytes[off]!;
          if (nh === IPPROTO_FRAGMENT) {
            const fo = dv.getUint16(off + 2);
            extensions.push({ type: 'fragment', nextHeader: extNext, fragOffset: fo >> 3, more: (fo & 1) !== 0, id: dv.getUint32(off + 4) });
            off += 8;
            if (fo >> 3 !== 0 || (fo & 1) !== 0) datagramWhole = false;
            nh = extNext;
            next = fo >> 3 !== 0 ? 'payload' : ipNext(nh);
            if (next === 'payload') break;
            continue;
          }
          const len = (bytes[off + 1]! + 1) * 8;
          if (!need(len, what)) break loop;
          if (nh === IPPROTO_ROUTING) {
            extensions.push({
              type: 'routing',
              nextHeader: extNext,
              routingType: bytes[off + 2]!,
              segmentsLeft: bytes[off + 3]!,
              data: bytes.slice(off + 4, off + len),
            });
          } else {
            extensions.push({
              type: nh === IPPROTO_HOPOPTS ? 'hop-by-hop' : 'destination',
              nextHeader: extNext,
              options: bytes.slice(off + 2, off + len),
            });
          }
          off += len;
          nh = extNext;
          next = ipNext(nh);
        }
        break;
      }
      case 'tcp': {
        if (!need(20, 'tcp')) break loop;
        const start = off;
        const dataOffset = bytes[off + 12]! >> 4;
        const hlen = Math.max(20, dataOffset * 4);
        if (dataOffset < 5) issues.push(`tcp: data offset ${dataOffset} is below 5`);
        if (hlen > end - off) {
          truncated = true;
          issues.push(`tcp: header needs ${hlen} bytes, ${end - off} left`);
        }
        const rawOptions = bytes.slice(off + 20, Math.min(off + hlen, end));
        const segment = bytes.subarray(start, end);
        const p = pseudo;
        layers.push({
          kind: 'tcp',
          sport: dv.getUint16(off),
          dport: dv.getUint16(off + 2),
          seq: dv.getUint32(off + 4),
          ack: dv.getUint32(off + 8),
          dataOffset,
          reserved: bytes[off + 12]! & 0xf,
          flags: tcpFlagsString(bytes[off + 13]!),
          window: dv.getUint16(off + 14),
          checksum: dv.getUint16(off + 16),
          checksumValid: verdict(() => checksumOk(segment, pseudoHeaderSum(p!.src, p!.dst, IPPROTO_TCP, segment.length))),
          urgent: dv.getUint16(off + 18),
          options: parseTcpOptions(rawOptions, issues),
          rawOptions,
        });
        off = Math.min(off + hlen, end);
        next = 'payload';
        break;
      }
      case 'udp': {
        if (!need(8, 'udp')) break loop;
        const length = dv.getUint16(off + 4);
        const checksum = dv.getUint16(off + 6);
        const start = off;
        if (length < 8) {
          issues.push(`udp: length ${length} is below 8`);
          datagramWhole = false;
        } else if (start + length > end) {
          declare(start, length, 'udp');
        } else if (start + length < end) {
          end = start + length;
        }
        const segment = bytes.subarray(start, end);
        const p = pseudo;
        layers.push({
          kind: 'udp',
          sport: dv.getUint16(off),
          dport: dv.getUint16(off + 2),
          length,
          checksum,
          checksumValid: verdict(() =>
            // RFC 768: zero means the sender computed none (IPv4 only; RFC 8200 §8.1 forbids it over IPv6).
            checksum === 0 ? !p!.v6 : checksumOk(segment, pseudoHeaderSum(p!.src, p!.dst, IPPROTO_UDP, segment.length)),
          ),
        });
        off += 8;
        next = 'payload';
        break;
      }
      case 'icmp':
      case 'icmpv6': {
        if (!need(8, next)) break loop;
        const type = bytes[off]!;
        const message = bytes.subarray(off, end);
        const p = pseudo;
        const v6 = next === 'icmpv6';
        const idSeq = icmpHasIdSeq(type, v6);
        const checksumValid: ChecksumVerdict = v6
          ? p?.v6
            ? verdict(() => checksumOk(message, pseudoHeaderSum(p.src, p.dst, IPPROTO_ICMPV6, message.length)))
            : undefined
          : verdict(() => checksumOk(message));
        const common = { type, code: bytes[off + 1]!, checksum: dv.getUint16(off + 2), checksumValid };
        const second = idSeq ? { id: dv.getUint16(off + 4), seq: dv.getUint16(off + 6) } : { rest: dv.getUint32(off + 4) };
        layers.push(v6 ? { kind: 'icmpv6', ...common, ...second } : { kind: 'icmp', ...common, ...second });
        off += 8;
        next = 'payload';
        break;
      }
      case 'payload':
        break loop;
    }
  }
  if (off < end) layers.push({ kind: 'payload', bytes: bytes.slice(off, end) });
  return { layers, truncated, issues, trailer: bytes.slice(end) };
}

/** The first layer of `kind`, typed: from a parsed packet, or from a description such as an arbitrary's Frame. */
export function findLayer<K extends ParsedLayer['kind']>(packet: ParsedPacket, kind: K): Extract<ParsedLayer, { kind: K }> | undefined;
export function findLayer<K extends Layer['kind']>(frame: { layers: readonly Layer[] }, kind: K): Extract<Layer, { kind: K }> | undefined;
export function findLayer(packet: { layers: readonly (Layer | ParsedLayer)[] }, kind: string): Layer | ParsedLayer | undefined {
  return packet.layers.find((l) => l.kind === kind);
}
