// Independent oracle: Python computes the Internet checksum (RFC 1071) and the TCP/UDP pseudo-header
// checksums from scratch, and its ipaddress module parses and prints IPv6 addresses.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  arbIpv6Addr,
  formatHex,
  formatIpv6,
  internetChecksum,
  packet,
  parseHex,
  parseIpv6,
  pseudoHeaderSum,
} from '../../src/testing/index.js';
import { tool } from '../helpers/env.js';
import { python } from './oracle.js';

const havepython = !!tool('python3');
const SEED = Number(process.env.BPFTS_SEED ?? 0x5eed);

const CSUM_PY = `
import sys
def csum(b):
    if len(b) % 2: b += b'\\0'
    s = sum(int.from_bytes(b[i:i+2], 'big') for i in range(0, len(b), 2))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
`;

const CHECKSUM_PY = `${CSUM_PY}
for line in sys.stdin.read().split():
    print(csum(bytes.fromhex(line)))
`;

// Fills in the L4 checksum of an IPv4 or IPv6 packet from scratch: pseudo-header + segment.
const L4_PY = `${CSUM_PY}
for line in sys.stdin.read().split():
    p = bytearray(bytes.fromhex(line))
    if p[0] >> 4 == 4:
        ihl = (p[0] & 15) * 4
        proto, src, dst, seg = p[9], p[12:16], p[16:20], p[ihl:]
    else:
        proto, src, dst, seg = p[6], p[8:24], p[24:40], p[40:]
    off = {6: 16, 17: 6, 58: 2}[proto]
    seg[off:off+2] = b'\\0\\0'
    pseudo = src + dst + (len(seg)).to_bytes(4, 'big') + bytes([0, 0, 0, proto])
    c = csum(bytes(pseudo + seg))
    if proto == 17 and c == 0: c = 0xffff
    print('%04x' % c)
`;

describe.skipIf(!havepython)('python3 as oracle', () => {
  it('internetChecksum agrees with a from-scratch RFC 1071 sum on random data of any length', () => {
    const data = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 300 }), { seed: SEED, numRuns: 500 });
    data.push(new Uint8Array(1), Uint8Array.of(0xff, 0xff), new Uint8Array(64).fill(0xff), Uint8Array.of(0xff));
    const want = python(CHECKSUM_PY, data.map((d) => formatHex(d)).join('\n')).trim().split('\n').map(Number);
    expect(want).toHaveLength(data.length);
    expect(internetChecksum(new Uint8Array(0))).toBe(0xffff);
    data.forEach((d, i) => expect(internetChecksum(d)).toBe(want[i]));
  });

  it('TCP, UDP and ICMPv6 checksums over the pseudo-header agree with Python', () => {
    const arb = fc.tuple(
      fc.constantFrom('tcp', 'udp', 'icmpv6'),
      fc.boolean(),
      fc.uint8Array({ maxLength: 99 }),
      fc.integer({ min: 0, max: 0xffff }),
      arbIpv6Addr(),
    );
    const cases = fc.sample(arb, { seed: SEED, numRuns: 300 }).map(([l4, v4, payload, port, addr]) => {
      const useV4 = v4 && l4 !== 'icmpv6';
      let b = useV4 ? packet().ipv4({ src: `10.${port >> 8}.${port & 0xff}.1` }) : packet().ipv6({ dst: addr });
      b = l4 === 'tcp' ? b.tcp({ sport: port }) : l4 === 'udp' ? b.udp({ dport: port }) : b.icmpv6({ id: port });
      const bytes = b.payload(payload).build();
      const at = (useV4 ? 20 : 40) + (l4 === 'tcp' ? 16 : l4 === 'udp' ? 6 : 2);
      return { bytes, ours: formatHex(bytes.subarray(at, at + 2)) };
    });
    const want = python(L4_PY, cases.map((c) => formatHex(c.bytes)).join('\n')).trim().split('\n');
    expect(want).toHaveLength(cases.length);
    cases.forEach((c, i) => expect(c.ours).toBe(want[i]));
    // The helper underneath: the pseudo-header sum of a v4 header with protocol 6 and length 20.
    expect(pseudoHeaderSum(Uint8Array.of(10, 0, 0, 1), Uint8Array.of(10, 0, 0, 2), 6, 20)).toBe(0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 6 + 20);
  });

  it('IPv6 text: our strings parse in Python to the same bytes, and Python strings parse in ours', () => {
    const addrs = fc.sample(fc.oneof(arbIpv6Addr(), fc.uint8Array({ minLength: 16, maxLength: 16 }).map(formatIpv6)), {
      seed: SEED,
      numRuns: 400,
    });
    const program = `
import sys, ipaddress
for a in sys.stdin.read().split():
    x = ipaddress.IPv6Address(a)
    print(x.packed.hex(), x.compressed, x.exploded)
`;
    const rows = python(program, addrs.join('\n')).trim().split('\n');
    expect(rows).toHaveLength(addrs.length);
    rows.forEach((row, i) => {
      const [hex, compressed, exploded] = row.split(' ') as [string, string, string];
      const ours = addrs[i]!;
      expect(formatHex(parseIpv6(ours))).toBe(hex);
      expect(parseIpv6(compressed)).toEqual(parseHex(hex));
      expect(parseIpv6(exploded)).toEqual(parseHex(hex));
      // Python 3.11 prints IPv4-mapped addresses in hex; RFC 5952 §5 (and we) use the dotted form.
      if (!ours.startsWith('::ffff:') || !ours.includes('.')) expect(ours).toBe(compressed);
    });
  });
});
