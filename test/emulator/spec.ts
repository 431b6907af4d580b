// What a frame is, read from its description (the layers it was built from) and the builder's
// documented defaults for computed fields, never from running a program: the oracle of the property
// tests. Field meanings follow RFC 791 / 793 / 768 and IEEE 802.3.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Frame, Layer, TruncatedFrame } from '../../src/testing/index.js';
import { repoRoot } from '../helpers/env.js';

export const ETHERTYPE = { ipv4: 0x0800, ipv6: 0x86dd, arp: 0x0806, vlan: 0x8100, experimental: 0x88b5 } as const;
export const PROTO = { icmp: 1, ipip: 4, tcp: 6, udp: 17, ipv6: 41, icmpv6: 58, none: 59 } as const;

export function object(file: string): Uint8Array {
  return readFileSync(resolve(repoRoot, 'bpf', 'build', 'bpfel', file));
}

/** The EtherType right after the MAC addresses. */
export function outerEtherType(layers: readonly Layer[]): number {
  const eth = layers[0];
  if (eth?.kind !== 'eth') throw new Error('frame does not start with Ethernet');
  if (eth.type !== undefined) return eth.type;
  const next = layers[1];
  switch (next?.kind) {
    case 'vlan':
      return next.tpid ?? ETHERTYPE.vlan;
    case 'arp':
      return ETHERTYPE.arp;
    case 'ipv4':
      return ETHERTYPE.ipv4;
    case 'ipv6':
      return ETHERTYPE.ipv6;
    default:
      return ETHERTYPE.experimental;
  }
}

export interface Ipv4Facts {
  /** Real header length in bytes (20 + padded options). */
  headerLength: number;
  /** The IHL field as written. */
  ihl: number;
  protocol: number;
  totalLength: number;
  fragOffset: number;
  src: string;
  dst: string;
  /** The layer after the IPv4 header in the description. */
  next: Layer | undefined;
}

function ipProtocolOf(next: Layer | undefined): number {
  switch (next?.kind) {
    case 'tcp':
      return PROTO.tcp;
    case 'udp':
      return PROTO.udp;
    case 'icmp':
      return PROTO.icmp;
    case 'icmpv6':
      return PROTO.icmpv6;
    case 'ipv4':
      return PROTO.ipip;
    case 'ipv6':
      return PROTO.ipv6;
    default:
      return PROTO.none;
  }
}

/** Facts about the IPv4 header right after Ethernet (no VLAN tag), when there is one. */
export function ipv4Of(frame: Frame | TruncatedFrame): Ipv4Facts | undefined {
  const ip = frame.layers[1];
  if (outerEtherType(frame.layers) !== ETHERTYPE.ipv4 || ip?.kind !== 'ipv4') return undefined;
  const full = 'full' in frame ? frame.full : frame.bytes;
  const headerLength = 20 + (((ip.options?.length ?? 0) + 3) & ~3);
  return {
    headerLength,
    ihl: ip.ihl ?? headerLength / 4,
    protocol: ip.protocol ?? ipProtocolOf(frame.layers[2]),
    totalLength: ip.totalLength ?? full.length - 14,
    fragOffset: ip.fragOffset ?? 0,
    src: ip.src ?? '10.0.0.1',
    dst: ip.dst ?? '10.0.0.2',
    next: frame.layers[2],
  };
}

export function ipv4Bytes(text: string): number[] {
  return text.split('.').map(Number);
}

/** Host-order ports of the TCP/UDP layer after IPv4, when the description has them. */
export function portsOf(ip: Ipv4Facts): { sport: number; dport: number } | undefined {
  const l4 = ip.next;
  if (l4?.kind !== 'tcp' && l4?.kind !== 'udp') return undefined;
  if (l4.sport === undefined || l4.dport === undefined) return undefined;
  return { sport: l4.sport, dport: l4.dport };
}

export const u32le = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n >>> 0]).buffer);
export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const readU64 = (b: Uint8Array, off = 0): bigint => new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(off, true);
