export * from './addr.js';
export { buildPacket, encodeTcpOptions, packet, PacketBuilder, tcpFlagsByte, tcpFlagsString } from './build.js';
export {
  DEFAULT_IPV4_DST,
  DEFAULT_IPV4_SRC,
  DEFAULT_IPV6_DST,
  DEFAULT_IPV6_SRC,
  DEFAULT_MAC_DST,
  DEFAULT_MAC_SRC,
} from './build.js';
export { checksumOk, internetChecksum, onesComplementSum, pseudoHeaderSum } from './checksum.js';
export * from './constants.js';
export type * from './layers.js';
export { findLayer, icmpHasIdSeq, parsePacket, parseTcpOptions } from './parse.js';
export type { FirstLayer, ParsedPacket, ParseOptions } from './parse.js';
export { ipv4HeaderChecksumValid, l4ChecksumValid } from './verify.js';
