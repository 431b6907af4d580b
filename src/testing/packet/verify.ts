// Checksum verdicts on whole frames, for properties like "the NAT program keeps every checksum valid".
import type { ChecksumVerdict } from './layers.js';
import { parsePacket, type ParseOptions } from './parse.js';

/**
 * True when every IPv4 header in the frame has a correct header checksum, false when one does not,
 * undefined when the frame has no complete IPv4 header.
 */
export function ipv4HeaderChecksumValid(frame: Uint8Array, options?: ParseOptions): boolean | undefined {
  const headers = parsePacket(frame, options).layers.filter((l) => l.kind === 'ipv4');
  if (headers.length === 0) return undefined;
  return headers.every((h) => h.checksumValid);
}

/**
 * The checksum verdict of the innermost TCP, UDP, ICMP or ICMPv6 header: undefined when there is
 * none or it cannot be checked (truncated datagram, IP fragment). UDP over IPv4 with checksum 0
 * ("none computed") counts as valid; over IPv6 it does not.
 */
export function l4ChecksumValid(frame: Uint8Array, options?: ParseOptions): ChecksumVerdict {
  const layers = parsePacket(frame, options).layers;
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i]!;
    if (l.kind === 'tcp' || l.kind === 'udp' || l.kind === 'icmp' || l.kind === 'icmpv6') return l.checksumValid;
  }
  return undefined;
}
