// Properties of the builder and parser on every arbitrary: build -> parse gives back the description,
// generated checksums verify, and no input (truncated, defective, random) makes the parser throw.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  arbAnyFrame,
  arbArp,
  arbEthernet,
  arbFrame,
  arbFrameOf,
  arbIcmp,
  arbIcmpv6,
  arbIpv4,
  arbIpv6,
  arbPayload,
  arbTcp,
  arbTruncated,
  arbUdp,
  arbVlan,
  ipv4HeaderChecksumValid,
  l4ChecksumValid,
  parsePacket,
  type Frame,
} from '../../src/testing/index.js';

const RUNS = { numRuns: 300 };

function roundTrips(f: Frame): void {
  const parsed = parsePacket(f.bytes);
  expect(parsed.issues).toEqual([]);
  expect(parsed.truncated).toBe(false);
  expect(parsed.layers).toMatchObject(f.layers);
  expect(parsed.layers).toHaveLength(f.layers.length);
  expect(parsed.trailer).toHaveLength(0);
}

describe('build -> parse round trip', () => {
  const cases: [string, fc.Arbitrary<Frame>][] = [
    ['ethernet + payload', arbFrameOf(arbEthernet({ type: 0x88b5 }), arbPayload())],
    ['vlan tags', arbFrameOf(arbEthernet(), arbVlan(), arbVlan(), arbArp())],
    ['arp', arbFrameOf(arbEthernet(), arbArp())],
    ['ipv4/tcp', arbFrameOf(arbEthernet(), arbIpv4(), arbTcp(), arbPayload())],
    ['ipv4/udp', arbFrameOf(arbEthernet(), arbIpv4(), arbUdp(), arbPayload())],
    ['ipv4/icmp', arbFrameOf(arbEthernet(), arbIpv4(), arbIcmp(), arbPayload())],
    ['ipv6/tcp', arbFrameOf(arbEthernet(), arbIpv6(), arbTcp())],
    ['ipv6/udp', arbFrameOf(arbEthernet(), arbIpv6(), arbUdp(), arbPayload())],
    ['ipv6/icmpv6', arbFrameOf(arbEthernet(), arbIpv6(), arbIcmpv6(), arbPayload())],
    ['ipv4 in ipv4', arbFrameOf(arbEthernet(), arbIpv4(), arbIpv4(), arbUdp())],
    ['ipv6 in ipv4', arbFrameOf(arbEthernet(), arbIpv4(), arbIpv6(), arbTcp())],
    ['arbFrame (all kinds)', arbFrame({ vlan: true })],
  ];
  for (const [name, arb] of cases) {
    it(name, () => fc.assert(fc.property(arb, roundTrips), RUNS));
  }

  it('bare IP packets with first: ip', () => {
    const arb = fc.oneof(arbFrameOf(arbIpv4(), arbTcp()), arbFrameOf(arbIpv6(), arbUdp(), arbPayload()));
    fc.assert(
      fc.property(arb, (f) => {
        expect(parsePacket(f.bytes, { first: 'ip' }).layers).toMatchObject(f.layers);
      }),
      RUNS,
    );
  });
});

describe('checksums of generated frames', () => {
  it('every IPv4 header and every unfragmented L4 checksum verifies', () => {
    fc.assert(
      fc.property(arbFrame({ vlan: true }), (f) => {
        const hasV4 = f.layers.some((l) => l.kind === 'ipv4');
        expect(ipv4HeaderChecksumValid(f.bytes)).toBe(hasV4 ? true : undefined);
        const fragment = f.layers.some(
          (l) =>
            (l.kind === 'ipv4' && (l.mf || (l.fragOffset ?? 0) > 0)) ||
            (l.kind === 'ipv6' && l.extensions?.some((e) => e.type === 'fragment' && (e.more || (e.fragOffset ?? 0) > 0))),
        );
        const hasL4 = f.layers.some((l) => ['tcp', 'udp', 'icmp', 'icmpv6'].includes(l.kind));
        expect(l4ChecksumValid(f.bytes)).toBe(hasL4 && !fragment ? true : undefined);
      }),
      { numRuns: 500 },
    );
  });
});

describe('parser robustness', () => {
  it('reports every cut of an IP or ARP frame as truncated and keeps the headers before the cut', () => {
    fc.assert(
      fc.property(arbTruncated(arbFrame({ vlan: true })), (f) => {
        const p = parsePacket(f.bytes);
        expect(p.truncated).toBe(true);
        expect(p.issues.length).toBeGreaterThan(0);
        const fullKinds = parsePacket(f.full).layers.map((l) => l.kind);
        const kinds = p.layers.map((l) => l.kind);
        // Only the last reported layer may differ: it can be the remains of a cut header, as payload.
        expect(kinds.slice(0, -1)).toEqual(fullKinds.slice(0, Math.max(0, kinds.length - 1)));
        const bytesReported = p.layers.find((l) => l.kind === 'payload');
        if (bytesReported?.kind === 'payload') expect(bytesReported.bytes.length).toBeLessThanOrEqual(f.length);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on any frame or on random bytes', () => {
    fc.assert(
      fc.property(fc.oneof(arbAnyFrame().map((f) => f.bytes), fc.uint8Array({ maxLength: 200 })), fc.constantFrom<'eth' | 'ip'>('eth', 'ip'), (bytes, first) => {
        const p = parsePacket(bytes, { first });
        expect(Array.isArray(p.layers)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
