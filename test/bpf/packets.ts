// Builds Ethernet/IPv4/TCP/UDP frames for BPF_PROG_TEST_RUN and checks their checksums
// from scratch (RFC 1071), independently of the incremental updates the programs make.

export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

const ETH_HLEN = 14;
const IP_HLEN = 20;

export function ipv4(addr: string): Buffer {
  return Buffer.from(addr.split('.').map(Number));
}

function ethernet(etherType: number, payload: Buffer): Buffer {
  const eth = Buffer.alloc(ETH_HLEN);
  eth.fill(0x02, 0, 6);
  eth.fill(0x04, 6, 12);
  eth.writeUInt16BE(etherType, 12);
  return Buffer.concat([eth, payload]);
}

export function arpFrame(): Buffer {
  return ethernet(ETH_P_ARP, Buffer.alloc(28, 0x11));
}

/** One's-complement sum of 16-bit big-endian words, folded and inverted. */
export function internetChecksum(...parts: Buffer[]): number {
  const data = Buffer.concat(parts);
  let sum = 0;
  for (let i = 0; i < data.length; i += 2) {
    sum += (data[i] << 8) | (i + 1 < data.length ? data[i + 1] : 0);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface Ipv4Spec {
  src: string;
  dst: string;
  proto: number;
  sport?: number;
  dport?: number;
  payload?: Buffer;
}

function pseudoHeader(ip: Buffer, l4Length: number): Buffer {
  const ph = Buffer.alloc(12);
  ip.copy(ph, 0, 12, 20);
  ph[9] = ip[9];
  ph.writeUInt16BE(l4Length, 10);
  return ph;
}

export function ipv4Frame(spec: Ipv4Spec): Buffer {
  const payload = spec.payload ?? Buffer.from('bpfts test payload');
  let l4: Buffer;
  if (spec.proto === IPPROTO_TCP) {
    l4 = Buffer.alloc(20);
    l4.writeUInt16BE(spec.sport ?? 0, 0);
    l4.writeUInt16BE(spec.dport ?? 0, 2);
    l4.writeUInt32BE(1, 4);
    l4[12] = 5 << 4;
    l4[13] = 0x18; // PSH|ACK
    l4.writeUInt16BE(0xffff, 14);
  } else if (spec.proto === IPPROTO_UDP) {
    l4 = Buffer.alloc(8);
    l4.writeUInt16BE(spec.sport ?? 0, 0);
    l4.writeUInt16BE(spec.dport ?? 0, 2);
    l4.writeUInt16BE(8 + payload.length, 4);
  } else {
    l4 = Buffer.from([8, 0, 0, 0, 0, 1, 0, 1]); // ICMP echo request header
  }
  const segment = Buffer.concat([l4, payload]);

  const ip = Buffer.alloc(IP_HLEN);
  ip[0] = 0x45;
  ip.writeUInt16BE(IP_HLEN + segment.length, 2);
  ip[8] = 64;
  ip[9] = spec.proto;
  ipv4(spec.src).copy(ip, 12);
  ipv4(spec.dst).copy(ip, 16);
  ip.writeUInt16BE(internetChecksum(ip), 10);

  const csumOff = l4ChecksumOffset(spec.proto);
  if (csumOff !== undefined) {
    segment.writeUInt16BE(internetChecksum(pseudoHeader(ip, segment.length), segment), csumOff);
  } else {
    segment.writeUInt16BE(internetChecksum(segment), 2);
  }
  return ethernet(ETH_P_IP, Buffer.concat([ip, segment]));
}

function l4ChecksumOffset(proto: number): number | undefined {
  if (proto === IPPROTO_TCP) return 16;
  if (proto === IPPROTO_UDP) return 6;
  return undefined;
}

export interface ParsedIpv4 {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  ipChecksumOk: boolean;
  l4ChecksumOk: boolean;
}

/** Parses a frame built by ipv4Frame (no IP options) and verifies both checksums. */
export function parseIpv4Frame(frame: Buffer): ParsedIpv4 {
  const ip = frame.subarray(ETH_HLEN, ETH_HLEN + IP_HLEN);
  const segment = frame.subarray(ETH_HLEN + IP_HLEN, ETH_HLEN + ip.readUInt16BE(2));
  const addr = (off: number): string => [...ip.subarray(off, off + 4)].join('.');
  return {
    src: addr(12),
    dst: addr(16),
    sport: segment.readUInt16BE(0),
    dport: segment.readUInt16BE(2),
    ipChecksumOk: internetChecksum(ip) === 0,
    l4ChecksumOk: internetChecksum(pseudoHeader(ip, segment.length), segment) === 0,
  };
}
