// Independent oracle: tshark decodes frames from the arbitraries, and its field values and checksum
// verdicts must agree with the descriptions the frames were built from.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  arbDefectiveFrame,
  arbFrame,
  ipv4HeaderChecksumValid,
  l4ChecksumValid,
  parseIpv6,
  tcpFlagsByte,
  type Frame,
  type Layer,
} from '../../src/testing/index.js';
import { tool } from '../helpers/env.js';
import { tsharkFields } from './oracle.js';

const tshark = tool('tshark');
const SEED = Number(process.env.BPFTS_SEED ?? 0x5eed);

const FIELDS = [
  'frame.len', 'eth.src', 'eth.dst', 'eth.type', 'vlan.id', 'vlan.priority', 'vlan.dei',
  'ieee8021ad.id', 'ieee8021ad.svid', 'ieee8021ad.cvid', 'ieee8021ad.priority', 'ieee8021ad.dei',
  'arp.opcode', 'arp.src.hw_mac', 'arp.src.proto_ipv4', 'arp.dst.hw_mac', 'arp.dst.proto_ipv4',
  'ip.version', 'ip.hdr_len', 'ip.dsfield.dscp', 'ip.dsfield.ecn', 'ip.len', 'ip.id', 'ip.flags.df', 'ip.flags.mf',
  'ip.frag_offset', 'ip.ttl', 'ip.proto', 'ip.checksum.status', 'ip.src', 'ip.dst',
  'ipv6.tclass', 'ipv6.flow', 'ipv6.plen', 'ipv6.hlim', 'ipv6.src', 'ipv6.dst', 'ipv6.fraghdr.ident',
  'ipv6.fraghdr.offset', 'ipv6.fraghdr.more',
  'tcp.srcport', 'tcp.dstport', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.hdr_len', 'tcp.flags', 'tcp.window_size_value',
  'tcp.urgent_pointer', 'tcp.checksum.status', 'tcp.options.mss_val', 'tcp.options.wscale.shift',
  'tcp.options.timestamp.tsval', 'tcp.options.timestamp.tsecr',
  'udp.srcport', 'udp.dstport', 'udp.length', 'udp.checksum.status',
  'icmp.type', 'icmp.code', 'icmp.ident', 'icmp.seq', 'icmp.checksum.status',
  'icmpv6.type', 'icmpv6.code', 'icmpv6.echo.identifier', 'icmpv6.echo.sequence_number', 'icmpv6.checksum.status',
];

const GOOD = '1';
const BAD = '0';

/** Compares one decoded frame with its description; `got(field)` is the first occurrence. */
function checkFrame(f: Frame, row: Map<string, string[]>): void {
  const all = (field: string) => row.get(field) ?? [];
  const got = (field: string) => all(field)[0];
  const num = (field: string) => (got(field) === undefined ? undefined : Number(got(field)));
  expect(num('frame.len')).toBe(f.bytes.length);
  const ls = f.layers;
  const at = <K extends Layer['kind']>(kind: K) => ls.find((l) => l.kind === kind) as Extract<Layer, { kind: K }> | undefined;
  const eth = at('eth')!;
  expect(got('eth.src')).toBe(eth.src);
  expect(got('eth.dst')).toBe(eth.dst);
  const tags = ls.filter((l) => l.kind === 'vlan');
  // tshark names 802.1Q tags vlan.* and 802.1ad tags ieee8021ad.*. Random payloads may decode as
  // further tunnels, so our tags are the first occurrences.
  for (const [tpid, proto] of [[0x8100, 'vlan'], [0x88a8, 'ieee8021ad']] as const) {
    const ours = tags.filter((t) => (t.tpid ?? 0x8100) === tpid);
    if (proto === 'vlan') {
      expect(all('vlan.id').slice(0, ours.length).map(Number)).toEqual(ours.map((t) => t.vid));
    } else {
      // Two 802.1ad tags in a row are shown as one S-VID/C-VID pair, so only the set of ids is comparable.
      const ids = [...all('ieee8021ad.id'), ...all('ieee8021ad.svid'), ...all('ieee8021ad.cvid')].map(Number);
      expect(ids.sort((a, b) => a - b)).toEqual(ours.map((t) => t.vid).sort((a, b) => a - b));
    }
    expect(all(`${proto}.priority`).slice(0, ours.length).map(Number)).toEqual(ours.map((t) => t.pcp));
    expect(all(`${proto}.dei`).slice(0, ours.length).map(Number)).toEqual(ours.map((t) => (t.dei ? 1 : 0)));
  }
  const l3Start = 14 + 4 * tags.length;

  const arp = at('arp');
  if (arp) {
    expect(num('arp.opcode')).toBe(arp.op === 'request' ? 1 : arp.op === 'reply' ? 2 : arp.op);
    // tshark names the address fields differently for other opcodes (RARP, InARP).
    if (typeof arp.op === 'number') return;
    expect(got('arp.src.hw_mac')).toBe(arp.sha);
    expect(got('arp.src.proto_ipv4')).toBe(arp.spa);
    expect(got('arp.dst.hw_mac')).toBe(arp.tha);
    expect(got('arp.dst.proto_ipv4')).toBe(arp.tpa);
  }

  const ip4 = at('ipv4');
  let fragment = false;
  if (ip4) {
    fragment = !!ip4.mf || (ip4.fragOffset ?? 0) > 0;
    expect(num('ip.version')).toBe(4);
    expect(num('ip.hdr_len')).toBe(20 + (ip4.options?.length ?? 0));
    expect(num('ip.len')).toBe(f.bytes.length - l3Start);
    expect(num('ip.dsfield.dscp')).toBe(ip4.dscp);
    expect(num('ip.dsfield.ecn')).toBe(ip4.ecn);
    expect(num('ip.id')).toBe(ip4.id);
    expect(num('ip.flags.df')).toBe(ip4.df ? 1 : 0);
    expect(num('ip.flags.mf')).toBe(ip4.mf ? 1 : 0);
    expect(num('ip.frag_offset')).toBe(ip4.fragOffset);
    expect(num('ip.ttl')).toBe(ip4.ttl);
    expect(got('ip.src')).toBe(ip4.src);
    expect(got('ip.dst')).toBe(ip4.dst);
    expect(got('ip.checksum.status')).toBe(ip4.checksum === 'bad' ? BAD : GOOD);
    expect(ipv4HeaderChecksumValid(f.bytes)).toBe(got('ip.checksum.status') === GOOD);
  }
  const ip6 = at('ipv6');
  if (ip6) {
    expect(num('ipv6.tclass')).toBe(ip6.trafficClass);
    expect(num('ipv6.flow')).toBe(ip6.flowLabel);
    expect(num('ipv6.plen')).toBe(f.bytes.length - l3Start - 40);
    expect(num('ipv6.hlim')).toBe(ip6.hopLimit);
    // tshark writes IPv4-compatible addresses (::a.b.c.d) dotted, RFC 5952 only mapped ones: compare bytes.
    expect(parseIpv6(got('ipv6.src')!)).toEqual(parseIpv6(ip6.src!));
    expect(parseIpv6(got('ipv6.dst')!)).toEqual(parseIpv6(ip6.dst!));
    const frag = ip6.extensions?.find((e) => e.type === 'fragment');
    if (frag?.type === 'fragment') {
      expect(num('ipv6.fraghdr.ident')).toBe(frag.id);
      expect(num('ipv6.fraghdr.offset')).toBe(frag.fragOffset);
      expect(num('ipv6.fraghdr.more')).toBe(frag.more ? 1 : 0);
      fragment = (frag.fragOffset ?? 0) > 0;
    }
  }
  if (fragment) return;
  // Our parser's L4 verdict must be tshark's, on good and corrupted frames alike.
  const l4 = ls.find((l) => ['tcp', 'udp', 'icmp', 'icmpv6'].includes(l.kind));
  if (l4) expect(l4ChecksumValid(f.bytes)).toBe(got(`${l4.kind}.checksum.status`) === GOOD);

  const tcp = at('tcp');
  if (tcp) {
    expect(num('tcp.srcport')).toBe(tcp.sport);
    expect(num('tcp.dstport')).toBe(tcp.dport);
    expect(num('tcp.seq_raw')).toBe(tcp.seq);
    expect(num('tcp.ack_raw')).toBe(tcp.ack);
    expect(num('tcp.flags')! & 0xff).toBe(tcpFlagsByte(tcp.flags ?? 0));
    expect(num('tcp.window_size_value')).toBe(tcp.window);
    expect(num('tcp.urgent_pointer')).toBe(tcp.urgent);
    expect(got('tcp.checksum.status')).toBe(tcp.checksum === 'bad' ? BAD : GOOD);
    const opts = Array.isArray(tcp.options) ? tcp.options : [];
    const mss = opts.flatMap((o) => (o.kind === 'mss' ? [o.mss] : []));
    expect(all('tcp.options.mss_val').map(Number)).toEqual(mss);
    const ts = opts.flatMap((o) => (o.kind === 'timestamp' ? [o.tsval] : []));
    expect(all('tcp.options.timestamp.tsval').map(Number)).toEqual(ts);
    const optLen = (Array.isArray(tcp.options) ? undefined : tcp.options?.length) ?? undefined;
    if (optLen === undefined) expect(num('tcp.hdr_len')! % 4).toBe(0);
  }
  const udp = at('udp');
  if (udp) {
    expect(num('udp.srcport')).toBe(udp.sport);
    expect(num('udp.dstport')).toBe(udp.dport);
    const udpStart = f.bytes.length - (ls.at(-1)?.kind === 'payload' ? (ls.at(-1) as { bytes: Uint8Array }).bytes.length : 0) - 8;
    expect(num('udp.length')).toBe(f.bytes.length - udpStart);
    expect(got('udp.checksum.status')).toBe(udp.checksum === 'bad' ? BAD : GOOD);
  }
  const icmp = at('icmp');
  if (icmp) {
    expect(num('icmp.type')).toBe(icmp.type);
    expect(num('icmp.code')).toBe(icmp.code);
    if (icmp.id !== undefined && (icmp.type === 0 || icmp.type === 8)) {
      expect(num('icmp.ident')).toBe(icmp.id);
      expect(num('icmp.seq')).toBe(icmp.seq);
    }
    expect(got('icmp.checksum.status')).toBe(icmp.checksum === 'bad' ? BAD : GOOD);
  }
  const icmp6 = at('icmpv6');
  if (icmp6) {
    expect(num('icmpv6.type')).toBe(icmp6.type);
    expect(num('icmpv6.code')).toBe(icmp6.code);
    if (icmp6.id !== undefined) {
      expect(num('icmpv6.echo.identifier')).toBe(icmp6.id);
      expect(num('icmpv6.echo.sequence_number')).toBe(icmp6.seq);
    }
    expect(got('icmpv6.checksum.status')).toBe(icmp6.checksum === 'bad' ? BAD : GOOD);
  }
}

describe.skipIf(!tshark)('tshark as oracle', () => {
  it('decodes generated frames to the values they were built from, with good checksums', () => {
    const frames = fc.sample(arbFrame({ vlan: true }), { seed: SEED, numRuns: 600 });
    const rows = tsharkFields(tshark!, frames.map((f) => f.bytes), FIELDS);
    expect(rows).toHaveLength(frames.length);
    frames.forEach((f, i) => {
      try {
        checkFrame(f, rows[i]!);
      } catch (e) {
        throw new Error(`frame ${i + 1} (seed ${SEED}): ${JSON.stringify(f.layers)}\n${(e as Error).message}`);
      }
    });
  });

  it('finds exactly the checksums we corrupted on purpose', () => {
    const frames = fc
      .sample(arbDefectiveFrame(), { seed: SEED, numRuns: 400 })
      .filter((f) => f.layers.some((l) => 'checksum' in l && l.checksum === 'bad'));
    expect(frames.length).toBeGreaterThan(100);
    const rows = tsharkFields(tshark!, frames.map((f) => f.bytes), FIELDS);
    frames.forEach((f, i) => {
      try {
        checkFrame(f, rows[i]!);
      } catch (e) {
        throw new Error(`frame ${i + 1} (seed ${SEED}): ${JSON.stringify(f.layers)}\n${(e as Error).message}`);
      }
    });
  });
});
