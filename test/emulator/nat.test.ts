// proxy.c and dnat.c in the emulator: a rule rewrites the destination of matching IPv4 TCP/UDP
// packets; the reply direction gets the original endpoint back as its source. Checksums are judged
// by src/testing's independent parser (RFC 791/793/768 arithmetic), positions by the header layouts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  arbEthernet,
  arbIpv4,
  arbIpv4Addr,
  arbPayload,
  arbTcp,
  arbUdp,
  buildPacket,
  ipv4HeaderChecksumValid,
  l4ChecksumValid,
  type Frame,
  type Layer,
} from '../../src/testing/index.js';
import { Emulator } from '../../src/vm/index.js';
import { hex, ipv4Bytes, ipv4Of, object, PROTO } from './spec.js';

const TC_ACT_OK = 0;
const RUNS = 300;

interface Rule {
  from: { addr: string; port: number };
  to: { addr: string; port: number };
}

const be16 = (n: number) => [n >> 8, n & 0xff];
const endpoint = (addr: string, port: number) => Uint8Array.from([...ipv4Bytes(addr), ...be16(port), 0, 0]);

const arbRule: fc.Arbitrary<Rule> = fc.record({
  from: fc.record({ addr: arbIpv4Addr(), port: fc.integer({ min: 1, max: 65535 }) }),
  to: fc.record({ addr: arbIpv4Addr(), port: fc.integer({ min: 1, max: 65535 }) }),
});

/** IPv4 TCP/UDP frames from a client, aimed at the rule's endpoint half of the time. */
function arbClientFrame(rule: Rule): fc.Arbitrary<{ frame: Frame; l4: 'tcp' | 'udp' }> {
  return fc
    .record({
      eth: arbEthernet(),
      ip: arbIpv4(),
      hit: fc.boolean(),
      l4: fc.constantFrom<'tcp' | 'udp'>('tcp', 'udp'),
      tcp: arbTcp(),
      udp: arbUdp(),
      payload: fc.option(arbPayload(40), { nil: undefined }),
    })
    .map(({ eth, ip, hit, l4, tcp, udp, payload }) => {
      const ipl = hit ? { ...ip, dst: rule.from.addr } : ip;
      const l4l = l4 === 'tcp' ? (hit ? { ...tcp, dport: rule.from.port } : tcp) : hit ? { ...udp, dport: rule.from.port } : udp;
      const layers: Layer[] = [eth, ipl, l4l, ...(payload ? [payload] : [])];
      return { frame: { layers, bytes: buildPacket(layers) }, l4 };
    });
}

/** Byte offsets of the fields a rewrite may touch. */
function fieldOffsets(frame: Frame, l4: 'tcp' | 'udp') {
  const ip = ipv4Of(frame)!;
  const l4Start = 14 + ip.headerLength;
  return {
    ipCheck: [24, 26] as const,
    saddr: [26, 30] as const,
    daddr: [30, 34] as const,
    sport: [l4Start, l4Start + 2] as const,
    dport: [l4Start + 2, l4Start + 4] as const,
    l4Check: (l4 === 'tcp' ? [l4Start + 16, l4Start + 18] : [l4Start + 6, l4Start + 8]) as readonly [number, number],
  };
}

/** Every byte outside `changed` ranges is equal. */
function sameOutside(a: Uint8Array, b: Uint8Array, changed: readonly (readonly [number, number])[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (changed.some(([s, e]) => i >= s && i < e)) continue;
    if (a[i] !== b[i]) return false;
  }
  return true;
}

const slice = (b: Uint8Array, [s, e]: readonly [number, number]) => hex(b.subarray(s, e));

interface NatCase {
  file: string;
  forward: string;
  reverse: string;
  rules: string;
  track: string;
  /** The rules-map key for a client packet. */
  ruleKey(rule: Rule, proto: number): Uint8Array;
  /** The tracking-map key the forward program must record. */
  trackKey(rule: Rule, client: { addr: string; port: number }, proto: number): Uint8Array;
}

const CASES: NatCase[] = [
  {
    file: 'proxy.o', forward: 'proxy_egress', reverse: 'proxy_ingress', rules: 'proxy_targets', track: 'proxy_reverse',
    ruleKey: (r) => endpoint(r.from.addr, r.from.port),
    trackKey: (r, c, proto) =>
      Uint8Array.from([...ipv4Bytes(r.to.addr), ...ipv4Bytes(c.addr), ...be16(r.to.port), ...be16(c.port), proto, 0, 0, 0]),
  },
  {
    file: 'dnat.o', forward: 'dnat_ingress', reverse: 'dnat_egress', rules: 'dnat_rules', track: 'conn_track',
    ruleKey: (r, proto) => Uint8Array.from([...ipv4Bytes(r.from.addr), ...be16(r.from.port), proto, 0]),
    trackKey: (r, c) => Uint8Array.from([...ipv4Bytes(r.to.addr), ...ipv4Bytes(c.addr), ...be16(r.to.port), ...be16(c.port)]),
  },
];

for (const c of CASES) {
  describe(c.file, () => {
    it(`${c.forward} rewrites exactly the matching packets with valid checksums; ${c.reverse} restores the original tuple on the reply`, () => {
      fc.assert(
        fc.property(
          arbRule.chain((rule) => fc.tuple(fc.constant(rule), fc.array(arbClientFrame(rule), { minLength: 1, maxLength: 4 }))),
          ([rule, packets]) => {
            const fwd = Emulator.fromObject(object(c.file), { program: c.forward });
            const rev = Emulator.fromObject(object(c.file), { program: c.reverse });
            for (const proto of [PROTO.tcp, PROTO.udp]) fwd.maps.get(c.rules).update(c.ruleKey(rule, proto), endpoint(rule.to.addr, rule.to.port));
            for (const { frame, l4 } of packets) {
              const ip = ipv4Of(frame)!;
              const ports = l4 === 'tcp' || l4 === 'udp' ? (frame.layers[2] as { sport: number; dport: number }) : undefined;
              const hit = ip.dst === rule.from.addr && ports!.dport === rule.from.port;
              const off = fieldOffsets(frame, l4);
              const out = fwd.run(frame.bytes);
              expect(out.retval).toBe(TC_ACT_OK);
              if (!hit) {
                expect(hex(out.packet)).toBe(hex(frame.bytes));
                continue;
              }
              expect(sameOutside(out.packet, frame.bytes, [off.daddr, off.dport, off.ipCheck, off.l4Check])).toBe(true);
              expect(slice(out.packet, off.daddr)).toBe(hex(Uint8Array.from(ipv4Bytes(rule.to.addr))));
              expect(slice(out.packet, off.dport)).toBe(hex(Uint8Array.from(be16(rule.to.port))));
              expect(ipv4HeaderChecksumValid(out.packet)).toBe(true);
              expect(l4ChecksumValid(out.packet)).toBe(true);
              if (l4 === 'udp' && slice(frame.bytes, off.l4Check) === '0000') expect(slice(out.packet, off.l4Check)).toBe('0000');

              const client = { addr: ip.src, port: ports!.sport };
              const proto = l4 === 'tcp' ? PROTO.tcp : PROTO.udp;
              const recorded = fwd.maps.get(c.track).lookup(c.trackKey(rule, client, proto));
              expect(recorded && hex(recorded)).toBe(hex(endpoint(rule.from.addr, rule.from.port)));

              // The reply: from the new destination back to the client, with whatever tracking state the forward run left.
              rev.maps.get(c.track).update(c.trackKey(rule, client, proto), recorded!);
              const replyLayers: Layer[] = [
                frame.layers[0]!,
                { ...(frame.layers[1] as object), kind: 'ipv4', src: rule.to.addr, dst: client.addr },
                { ...(frame.layers[2] as object), kind: l4, sport: rule.to.port, dport: client.port } as Layer,
                ...frame.layers.slice(3),
              ];
              const reply = buildPacket(replyLayers);
              const back = rev.run(reply);
              expect(back.retval).toBe(TC_ACT_OK);
              expect(sameOutside(back.packet, reply, [off.saddr, off.sport, off.ipCheck, off.l4Check])).toBe(true);
              expect(slice(back.packet, off.saddr)).toBe(hex(Uint8Array.from(ipv4Bytes(rule.from.addr))));
              expect(slice(back.packet, off.sport)).toBe(hex(Uint8Array.from(be16(rule.from.port))));
              expect(ipv4HeaderChecksumValid(back.packet)).toBe(true);
              expect(l4ChecksumValid(back.packet)).toBe(true);
            }
          },
        ),
        { numRuns: RUNS },
      );
    });
  });
}
