// The Internet checksum (RFC 1071) and the TCP/UDP/ICMPv6 pseudo-headers (RFC 9293, RFC 768, RFC 8200 §8.1).

/** Adds `bytes` as big-endian 16-bit words (an odd last byte padded with zero) to `sum`, folded to 16 bits. */
export function onesComplementSum(bytes: Uint8Array, sum = 0): number {
  let s = sum;
  const even = bytes.length & ~1;
  for (let i = 0; i < even; i += 2) s += (bytes[i]! << 8) | bytes[i + 1]!;
  if (even < bytes.length) s += bytes[even]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** The checksum field value for `bytes` (whose checksum field is zero) plus an optional pseudo-header sum. */
export function internetChecksum(bytes: Uint8Array, sum = 0): number {
  return ~onesComplementSum(bytes, sum) & 0xffff;
}

/** Sum of the pseudo-header: both addresses (4 or 16 bytes), the protocol and the upper-layer length. */
export function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): number {
  let s = onesComplementSum(dst, onesComplementSum(src));
  s += protocol + (length & 0xffff) + Math.floor(length / 0x10000);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** True when `bytes`, checksum field included, sum (with the pseudo-header) to all ones. */
export function checksumOk(bytes: Uint8Array, sum = 0): boolean {
  return onesComplementSum(bytes, sum) === 0xffff;
}
