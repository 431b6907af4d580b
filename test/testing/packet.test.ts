// Builder and parser behaviour on hand-made cases: known answers from outside bpfts, deliberate
// defects, truncation, padding and the checksum verdict helpers.
import { describe, expect, it } from 'vitest';
import {
  buildPacket,
  findLayer,
  formatIpv6,
  formatMac,
  parseIpv4,
  parseIpv6,
  parseMac,
  formatHex,
  ipv4HeaderChecksumValid,
  l4ChecksumValid,
  packet,
  PacketError,
  parseHex,
  parsePacket,
} from '../../src/testing/index.js';

describe('known answers', () => {
  it('IPv4 header checksum of the widely published example header is 0xb861', () => {
    // 4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7 (Wikipedia, "Internet checksum").
    const bytes = packet()
      .ipv4({ src: '192.168.0.1', dst: '192.168.0.199', totalLength: 0x73, df: true, ttl: 64, protocol: 17 })
      .build();
    expect(formatHex(bytes, ' ')).toBe('45 00 00 73 00 00 40 00 40 11 b8 61 c0 a8 00 01 c0 a8 00 c7');
  });

  it('encodes the fields where RFC 791 / RFC 9293 / RFC 8200 put them', () => {
    const frame = packet()
      .eth({ src: '02:00:00:00:00:aa', dst: 'ff:ff:ff:ff:ff:ff' })
      .vlan({ vid: 0x123, pcp: 5, dei: true })
      .ipv4({ dscp: 46, ecn: 1, id: 0xbeef, mf: true, fragOffset: 0x1abc, ttl: 7 })
      .tcp({ sport: 0x1234, dport: 0x5678, seq: 0x01020304, ack: 0x05060708, flags: 'SAC', window: 0x9abc, urgent: 0xdef0 })
      .build();
    const h = formatHex(frame);
    expect(h.slice(0, 24)).toBe('ffffffffffff0200000000aa');
    expect(h.slice(24, 36)).toBe('8100b1230800'); // TPID, PCP 5 | DEI | VID 0x123, EtherType
    expect(h.slice(36, 40)).toBe('45b9'); // version 4, IHL 5, DSCP 46 << 2 | ECN 1
    expect(h.slice(44, 56)).toBe('beef3abc0706'); // id, MF | offset, TTL, protocol TCP
    expect(h.slice(76, 108)).toBe('12345678010203040506070850929abc'); // ..., data offset 5, flags S|A|C = 0x92, window
    expect(h.slice(112, 116)).toBe('def0'); // urgent pointer, after the checksum
  });

  it('IPv6 extension headers chain their next-header fields and pad to 8 bytes', () => {
    const bytes = packet()
      .ipv6({ extensions: [{ type: 'hop-by-hop' }, { type: 'destination', options: Uint8Array.of(5, 2, 0, 0) }, { type: 'fragment', id: 9 }] })
      .udp()
      .build();
    const h = formatHex(bytes);
    expect(h.slice(12, 14)).toBe('00'); // next header: hop-by-hop
    expect(h.slice(80, 96)).toBe('3c00010400000000'); // -> destination, len 0, PadN(4)
    expect(h.slice(96, 112)).toBe('2c00050200000100'); // -> fragment, router alert, PadN(0)
    expect(h.slice(112, 128)).toBe('1100000000000009'); // -> UDP, offset 0, id 9
    expect(l4ChecksumValid(bytes, { first: 'ipv6' })).toBe(true);
  });
});

describe('deliberately bad packets', () => {
  const base = () => packet().eth().ipv4({ src: '10.1.1.1', dst: '10.2.2.2' });

  it('writes an overridden IHL and reports it', () => {
    const bad = packet().eth().ipv4({ ihl: 3 }).tcp().build();
    expect(bad[14]).toBe(0x43);
    expect(bad).toHaveLength(14 + 20 + 20);
    const p = parsePacket(bad);
    expect(p.issues).toContain('ipv4: IHL 3 is below 5');
    expect(p.layers.map((l) => l.kind)).toEqual(['eth', 'payload']);
    const long = parsePacket(packet().eth().ipv4({ ihl: 15 }).udp().build());
    expect(long.truncated).toBe(true);
    expect(long.issues).toContain('ipv4: header needs 60 bytes, 28 left');
  });

  it("checksum: 'bad' always fails verification, a number is written verbatim", () => {
    for (let port = 0; port < 2000; port += 7) {
      const bad = base().udp({ sport: port, checksum: 'bad' }).payload(Uint8Array.of(port & 0xff)).build();
      expect(l4ChecksumValid(bad)).toBe(false);
      const ipBad = packet().eth().ipv4({ id: port, checksum: 'bad' }).build();
      expect(ipv4HeaderChecksumValid(ipBad)).toBe(false);
    }
    const fixed = base().tcp({ checksum: 0x1234 }).build();
    expect(formatHex(fixed.subarray(50, 52))).toBe('1234');
  });

  it('UDP checksum 0 means "none" over IPv4 but is invalid over IPv6', () => {
    expect(l4ChecksumValid(base().udp({ checksum: 0 }).build())).toBe(true);
    expect(l4ChecksumValid(packet().eth().ipv6().udp({ checksum: 0 }).build())).toBe(false);
  });

  it('truncated frames parse as far as they go', () => {
    const full = base().tcp({ options: [{ kind: 'mss', mss: 1460 }] }).payload('data').build();
    const cut = full.slice(0, 14 + 20 + 22);
    const p = parsePacket(cut);
    expect(p.truncated).toBe(true);
    expect(findLayer(p, 'tcp')).toMatchObject({ sport: 1024, dport: 80, checksumValid: undefined, options: [] });
    expect(l4ChecksumValid(cut)).toBeUndefined();
    expect(ipv4HeaderChecksumValid(cut)).toBe(true);
    expect(parsePacket(full.slice(0, 20))).toMatchObject({ truncated: true, layers: [{ kind: 'eth' }, { kind: 'payload' }] });
  });

  it('refuses fields that cannot be encoded, with the layer and field named', () => {
    expect(() => packet().eth({ src: '02:00:00:00:00' }).build()).toThrow(PacketError);
    expect(() => packet().ipv4({ dst: '10.0.0.256' }).build()).toThrow(/ipv4\.dst/);
    expect(() => packet().ipv6({ src: '1::2::3' }).build()).toThrow(/ipv6\.src/);
    expect(() => packet().eth().vlan({ vid: 4096 }).build()).toThrow(/vlan\.vid/);
    expect(() => packet().ipv4().tcp({ flags: 'SX' }).build()).toThrow(/not a TCP flag/);
    expect(() => packet().tcp().build()).toThrow(/needs an ipv4 or ipv6 layer/);
    expect(() => packet().ipv4().icmpv6().build()).toThrow(/needs an ipv6 layer/);
    expect(() => packet().ipv4({ options: new Uint8Array(41) }).build()).toThrow(/40/);
  });
});

describe('addresses', () => {
  it('accepts the usual text forms and refuses ambiguous ones', () => {
    expect(formatMac(parseMac('02-AB-00-00-00-0f'))).toBe('02:ab:00:00:00:0f');
    expect(formatIpv6(parseIpv6('::FFFF:192.0.2.1'))).toBe('::ffff:192.0.2.1');
    expect(formatIpv6(parseIpv6('2001:db8:0:0:1:0:0:1'))).toBe('2001:db8::1:0:0:1');
    expect(formatIpv6(parseIpv6('1:0:0:2:0:0:0:3'))).toBe('1:0:0:2::3');
    for (const bad of ['010.0.0.1', '1.2.3', '1.2.3.4.5', '256.0.0.1', ' 1.2.3.4']) expect(() => parseIpv4(bad)).toThrow(PacketError);
    for (const bad of ['1::2::3', '1:2:3:4:5:6:7:8::', ':1::', '12345::', '::1.2.3', 'g::']) expect(() => parseIpv6(bad)).toThrow(PacketError);
    expect(() => parseMac('02:00:00:00:00:100')).toThrow(PacketError);
  });
});

describe('parsing details', () => {
  it('findLayer types layers of parsed packets and of descriptions', () => {
    const layers = [{ kind: 'eth' as const }, { kind: 'ipv4' as const, ttl: 3 }, { kind: 'udp' as const, dport: 53 }];
    expect(findLayer({ layers }, 'udp')?.dport).toBe(53);
    expect(findLayer(parsePacket(buildPacket(layers)), 'ipv4')?.checksumValid).toBe(true);
    expect(findLayer({ layers }, 'tcp')).toBeUndefined();
  });

  it('Ethernet padding after a short datagram is a trailer, not payload', () => {
    const frame = packet().eth().ipv4().udp().build();
    const padded = new Uint8Array(60);
    padded.set(frame);
    const p = parsePacket(padded);
    expect(p.trailer).toHaveLength(60 - frame.length);
    expect(p.layers.map((l) => l.kind)).toEqual(['eth', 'ipv4', 'udp']);
    expect(l4ChecksumValid(padded)).toBe(true);
  });

  it('later IPv4 fragments carry opaque payload and no L4 verdict', () => {
    const p = parsePacket(packet().eth().ipv4({ fragOffset: 3 }).payload('abc').build());
    expect(p.layers.map((l) => l.kind)).toEqual(['eth', 'ipv4', 'payload']);
    const first = packet().eth().ipv4({ mf: true }).tcp().payload('abc').build();
    expect(l4ChecksumValid(first)).toBeUndefined();
  });

  it('decodes TCP options including unknown and malformed ones', () => {
    const raw = Uint8Array.of(1, 2, 4, 5, 0xb4, 30, 4, 0xaa, 0xbb, 0, 0, 0);
    const p = parsePacket(packet().ipv4().tcp({ options: raw }).build(), { first: 'ipv4' });
    expect(findLayer(p, 'tcp')!.options).toEqual([
      { kind: 'nop' },
      { kind: 'mss', mss: 1460 },
      { kind: 'other', type: 30, data: Uint8Array.of(0xaa, 0xbb) },
    ]);
    const bad = parsePacket(packet().ipv4().tcp({ options: Uint8Array.of(2, 9, 0, 0) }).build(), { first: 'ipv4' });
    expect(bad.issues[0]).toMatch(/malformed option 2/);
  });

  it('keeps checksums valid through a NAT rewrite only when they are fixed up (RFC 1624)', () => {
    const frame = packet().eth().ipv4({ src: '192.168.1.10', dst: '8.8.8.8' }).tcp({ sport: 40000, dport: 443 }).payload('x').build();
    const nat = frame.slice();
    nat.set([203, 0, 113, 7], 26); // new source address, checksums untouched
    expect(ipv4HeaderChecksumValid(nat)).toBe(false);
    expect(l4ChecksumValid(nat)).toBe(false);
    // HC' = ~(~HC + ~m + m') over the two changed 16-bit words, as a NAT program would do.
    const fix = (at: number) => {
      let sum = (~((nat[at]! << 8) | nat[at + 1]!) & 0xffff);
      for (const [o, n] of [[0xc0a8, 0xcb00], [0x010a, 0x7107]] as const) sum += (~o & 0xffff) + n;
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
      nat[at] = (~sum >> 8) & 0xff;
      nat[at + 1] = ~sum & 0xff;
    };
    fix(24);
    fix(50);
    expect(ipv4HeaderChecksumValid(nat)).toBe(true);
    expect(l4ChecksumValid(nat)).toBe(true);
    expect(parseHex(formatHex(nat, ':'))).toEqual(nat);
  });
});
