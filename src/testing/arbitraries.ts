// fast-check arbitraries for layers and whole frames. Every frame carries its bytes and the layer
// descriptions that built them, so a property can state the expected verdict from the description.
// Generated descriptions are canonical (lower-case addresses, RFC 5952 IPv6, padded options, no
// empty payload), so `parsePacket(frame.bytes).layers` matches `frame.layers` field for field.
import fc from 'fast-check';
import { formatIpv4, formatIpv6, formatMac } from './packet/addr.js';
import { buildPacket, encodeTcpOptions, tcpFlagsString } from './packet/build.js';
import { ETH_P_8021AD, ETH_P_8021Q, ETH_P_ARP, ETH_P_IP, ETH_P_IPV6 } from './packet/constants.js';
import type {
  ArpLayer,
  EthernetLayer,
  IcmpLayer,
  Icmpv6Layer,
  Ipv4Layer,
  Ipv6Extension,
  Ipv6Layer,
  Layer,
  PayloadLayer,
  TcpLayer,
  TcpOption,
  UdpLayer,
  VlanLayer,
} from './packet/layers.js';
import { icmpHasIdSeq } from './packet/parse.js';

/** Frame bytes with the layers that describe them. */
export interface Frame {
  bytes: Uint8Array;
  layers: Layer[];
}

/** A frame cut short: `bytes` is the first `length` bytes of `full`; `layers` describe `full`. */
export interface TruncatedFrame extends Frame {
  full: Uint8Array;
  length: number;
}

/** Per-field overrides: a fixed value or an arbitrary replaces the default generator of that field. */
export type Overrides<L> = { [K in keyof Omit<L, 'kind'>]?: L[K] | fc.Arbitrary<L[K]> };

/** Duck-typed so that arbitraries from another copy of fast-check are recognised too. */
function isArbitrary(v: unknown): v is fc.Arbitrary<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as fc.Arbitrary<unknown>).generate === 'function' && typeof (v as fc.Arbitrary<unknown>).shrink === 'function';
}

function layerArb<L extends Layer>(kind: L['kind'], defaults: Record<string, fc.Arbitrary<unknown>>, overrides: object = {}): fc.Arbitrary<L> {
  const fields: Record<string, fc.Arbitrary<unknown>> = { ...defaults };
  for (const [k, v] of Object.entries(overrides)) {
    if (v !== undefined) fields[k] = isArbitrary(v) ? v : fc.constant(v);
  }
  return fc.record(fields).map((r) => ({ kind, ...r }) as unknown as L);
}

const u8 = () => fc.integer({ min: 0, max: 0xff });
const u16 = () => fc.integer({ min: 0, max: 0xffff });
const u32 = () => fc.integer({ min: 0, max: 0xffffffff });

export function arbMac(): fc.Arbitrary<string> {
  return fc.uint8Array({ minLength: 6, maxLength: 6 }).map(formatMac);
}

export function arbIpv4Addr(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.uint8Array({ minLength: 4, maxLength: 4 }).map(formatIpv4),
    fc.constantFrom('0.0.0.0', '255.255.255.255', '127.0.0.1', '10.0.0.1', '192.168.1.1', '224.0.0.1'),
  );
}

export function arbIpv6Addr(): fc.Arbitrary<string> {
  // Zero runs are common in real addresses and exercise the `::` forms.
  const group = fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: u16() });
  return fc.oneof(
    fc.array(group, { minLength: 8, maxLength: 8 }).map((gs) => formatIpv6(Uint8Array.from(gs.flatMap((g) => [g >> 8, g & 0xff])))),
    fc.constantFrom('::', '::1', 'fe80::1', 'ff02::1', '2001:db8::1', '::ffff:10.0.0.1'),
  );
}

export function arbPort(): fc.Arbitrary<number> {
  return fc.oneof(fc.constantFrom(0, 22, 53, 80, 443, 1024, 8080, 65535), u16());
}

export function arbEthernet(o?: Overrides<EthernetLayer>): fc.Arbitrary<EthernetLayer> {
  return layerArb('eth', { src: arbMac(), dst: arbMac() }, o);
}

export function arbVlan(o?: Overrides<VlanLayer>): fc.Arbitrary<VlanLayer> {
  return layerArb(
    'vlan',
    { vid: fc.integer({ min: 0, max: 4095 }), pcp: fc.integer({ min: 0, max: 7 }), dei: fc.boolean(), tpid: fc.constantFrom(ETH_P_8021Q, ETH_P_8021AD) },
    o,
  );
}

export function arbArp(o?: Overrides<ArpLayer>): fc.Arbitrary<ArpLayer> {
  return layerArb(
    'arp',
    {
      op: fc.oneof({ weight: 4, arbitrary: fc.constantFrom<'request' | 'reply'>('request', 'reply') }, { weight: 1, arbitrary: fc.integer({ min: 3, max: 0xffff }) }),
      sha: arbMac(),
      spa: arbIpv4Addr(),
      tha: arbMac(),
      tpa: arbIpv4Addr(),
    },
    o,
  );
}

/** Well-formed IPv4 options (NOP, Router Alert) within the 40-byte limit, padded with EOL to a multiple of 4. */
function arbIpv4Options(): fc.Arbitrary<Uint8Array> {
  const option = fc.constantFrom([1], [148, 4, 0, 0]);
  return fc.array(option, { maxLength: 8 }).map((opts) => {
    const bytes = new Uint8Array(40);
    let n = 0;
    for (const o of opts) {
      if (n + o.length > 40) break;
      bytes.set(o, n);
      n += o.length;
    }
    return bytes.slice(0, (n + 3) & ~3);
  });
}

export function arbIpv4(o?: Overrides<Ipv4Layer>): fc.Arbitrary<Ipv4Layer> {
  return layerArb(
    'ipv4',
    {
      src: arbIpv4Addr(),
      dst: arbIpv4Addr(),
      ttl: u8(),
      dscp: fc.integer({ min: 0, max: 63 }),
      ecn: fc.integer({ min: 0, max: 3 }),
      id: u16(),
      df: fc.boolean(),
      mf: fc.constant(false),
      fragOffset: fc.constant(0),
      options: fc.oneof({ weight: 3, arbitrary: fc.constant(new Uint8Array(0)) }, { weight: 1, arbitrary: arbIpv4Options() }),
    },
    o,
  );
}

/** Pad bytes (RFC 8200 §4.2) that fill `n` bytes of an option area. */
function padOptions(n: number): number[] {
  if (n === 0) return [];
  if (n === 1) return [0];
  return [1, n - 2, ...new Array<number>(n - 2).fill(0)];
}

function arbOptionsHeader(type: 'hop-by-hop' | 'destination'): fc.Arbitrary<Ipv6Extension> {
  // Router Alert (type 5, RFC 2711) then PadN to the 8-byte boundary, or padding alone.
  return fc
    .tuple(fc.boolean(), fc.integer({ min: 0, max: 2 }))
    .map(([alert, extra]) => {
      const body = alert ? [5, 2, 0, 0] : [];
      const area = 6 + 8 * extra;
      return { type, options: Uint8Array.from([...body, ...padOptions(area - body.length)]) };
    });
}

/** Hop-by-hop, destination and atomic fragment headers in RFC 8200 order (each present or not). */
export function arbIpv6Extensions(): fc.Arbitrary<Ipv6Extension[]> {
  return fc
    .tuple(
      fc.option(arbOptionsHeader('hop-by-hop'), { nil: undefined }),
      fc.option(arbOptionsHeader('destination'), { nil: undefined }),
      fc.option(
        u32().map((id): Ipv6Extension => ({ type: 'fragment', fragOffset: 0, more: false, id })),
        { nil: undefined },
      ),
    )
    .map((exts) => exts.filter((e): e is Ipv6Extension => e !== undefined));
}

export function arbIpv6(o?: Overrides<Ipv6Layer>): fc.Arbitrary<Ipv6Layer> {
  return layerArb(
    'ipv6',
    {
      src: arbIpv6Addr(),
      dst: arbIpv6Addr(),
      hopLimit: u8(),
      trafficClass: u8(),
      flowLabel: fc.integer({ min: 0, max: 0xfffff }),
      extensions: fc.oneof({ weight: 2, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: arbIpv6Extensions() }),
    },
    o,
  );
}

export function arbTcpOptions(): fc.Arbitrary<TcpOption[]> {
  const option: fc.Arbitrary<TcpOption> = fc.oneof(
    fc.constant<TcpOption>({ kind: 'nop' }),
    u16().map((mss): TcpOption => ({ kind: 'mss', mss })),
    fc.integer({ min: 0, max: 14 }).map((shift): TcpOption => ({ kind: 'wscale', shift })),
    fc.constant<TcpOption>({ kind: 'sackPermitted' }),
    fc.tuple(u32(), u32()).map(([tsval, tsecr]): TcpOption => ({ kind: 'timestamp', tsval, tsecr })),
    fc.array(fc.tuple(u32(), u32()), { minLength: 1, maxLength: 3 }).map((blocks): TcpOption => ({ kind: 'sack', blocks })),
  );
  return fc.array(option, { maxLength: 6 }).filter((opts) => encodeTcpOptions(opts).length <= 40);
}

export function arbTcp(o?: Overrides<TcpLayer>): fc.Arbitrary<TcpLayer> {
  return layerArb(
    'tcp',
    {
      sport: arbPort(),
      dport: arbPort(),
      seq: u32(),
      ack: u32(),
      flags: fc.oneof(fc.constantFrom('S', 'SA', 'A', 'PA', 'FA', 'R', 'RA'), u8().map(tcpFlagsString)),
      window: u16(),
      urgent: u16(),
      options: fc.oneof({ weight: 1, arbitrary: fc.constant([]) }, { weight: 2, arbitrary: arbTcpOptions() }),
    },
    o,
  );
}

export function arbUdp(o?: Overrides<UdpLayer>): fc.Arbitrary<UdpLayer> {
  return layerArb('udp', { sport: arbPort(), dport: arbPort() }, o);
}

function icmpLike<L extends IcmpLayer | Icmpv6Layer>(kind: L['kind'], types: number[], o?: Overrides<L>): fc.Arbitrary<L> {
  const v6 = kind === 'icmpv6';
  const type = o?.type ?? fc.oneof(fc.constantFrom(...types), u8());
  const typeArb = isArbitrary(type) ? (type as fc.Arbitrary<number>) : fc.constant(type as number);
  return typeArb.chain((t) =>
    layerArb<L>(
      kind,
      icmpHasIdSeq(t, v6) ? { type: fc.constant(t), code: fc.constant(0), id: u16(), seq: u16() } : { type: fc.constant(t), code: u8(), rest: u32() },
      { ...o, type: undefined },
    ),
  );
}

/** ICMP with echo/timestamp messages getting `id`/`seq`, others `rest`, as the parser reports them. */
export function arbIcmp(o?: Overrides<IcmpLayer>): fc.Arbitrary<IcmpLayer> {
  return icmpLike<IcmpLayer>('icmp', [0, 3, 5, 8, 11, 12, 13, 14], o);
}

export function arbIcmpv6(o?: Overrides<Icmpv6Layer>): fc.Arbitrary<Icmpv6Layer> {
  return icmpLike<Icmpv6Layer>('icmpv6', [1, 2, 3, 4, 128, 129, 133, 134, 135, 136], o);
}

/** A non-empty payload (the parser reports no payload layer for zero bytes). */
export function arbPayload(maxLength = 64): fc.Arbitrary<PayloadLayer> {
  return fc.uint8Array({ minLength: 1, maxLength: Math.max(1, maxLength) }).map((bytes) => ({ kind: 'payload', bytes }));
}

/** Combines layer arbitraries, outermost first, into frames. */
export function arbFrameOf(...layers: fc.Arbitrary<Layer | Layer[] | undefined>[]): fc.Arbitrary<Frame> {
  return fc.tuple(...layers).map((parts) => {
    const flat = parts.flat().filter((l): l is Layer => l !== undefined);
    return { layers: flat, bytes: buildPacket(flat) };
  });
}

export interface FrameOptions {
  /** Network layer; 'any' (default) picks IPv4, IPv6 or ARP. */
  l3?: 'ipv4' | 'ipv6' | 'arp' | 'any';
  /** Transport layer for IP; 'icmp' means ICMPv6 over IPv6; 'none' is a bare payload; 'any' (default) also includes non-first fragments. */
  l4?: 'tcp' | 'udp' | 'icmp' | 'none' | 'any';
  /** VLAN tags: false (default) none, true up to two, or a maximum count. */
  vlan?: boolean | number;
  /** Largest payload after the last header (default 64; 0 for none). */
  maxPayload?: number;
}

function arbL4(l3: 'ipv4' | 'ipv6', l4: NonNullable<FrameOptions['l4']>, maxPayload: number): fc.Arbitrary<Layer[]> {
  const payload = maxPayload > 0 ? fc.option(arbPayload(maxPayload), { nil: undefined }) : fc.constant(undefined);
  const withPayload = (header: fc.Arbitrary<Layer> | undefined) =>
    fc.tuple(header ?? fc.constant(undefined), payload).map((ls) => ls.filter((l): l is Layer => l !== undefined));
  const choices: Record<string, () => fc.Arbitrary<Layer[]>> = {
    tcp: () => withPayload(arbTcp()),
    udp: () => withPayload(arbUdp()),
    icmp: () => withPayload(l3 === 'ipv4' ? arbIcmp() : arbIcmpv6()),
    none: () => withPayload(undefined),
  };
  if (l4 !== 'any') return choices[l4]!();
  return fc.oneof(choices.tcp!(), choices.udp!(), choices.icmp!(), choices.none!());
}

/** A later IPv4 fragment: fragment offset set, the rest an opaque payload. */
function arbIpv4Fragment(maxPayload: number): fc.Arbitrary<Layer[]> {
  return fc.tuple(
    arbIpv4({ mf: fc.boolean(), fragOffset: fc.integer({ min: 1, max: 0x1fff }), df: false }),
    arbPayload(Math.max(1, maxPayload)),
  );
}

/** A later IPv6 fragment: a fragment header with an offset, the rest an opaque payload. */
function arbIpv6Fragment(maxPayload: number): fc.Arbitrary<Layer[]> {
  const frag = fc.record({ fragOffset: fc.integer({ min: 1, max: 0x1fff }), more: fc.boolean(), id: u32() });
  return fc.tuple(
    arbIpv6({ extensions: frag.map((f): Ipv6Extension[] => [{ type: 'fragment', ...f }]) }),
    arbPayload(Math.max(1, maxPayload)),
  );
}

/** Whole frames: Ethernet, optional VLAN tags, then ARP, IPv4 or IPv6 with a transport header and payload. */
export function arbFrame(options: FrameOptions = {}): fc.Arbitrary<Frame> {
  const { l3 = 'any', l4 = 'any', vlan = false, maxPayload = 64 } = options;
  const maxTags = vlan === true ? 2 : vlan === false ? 0 : vlan;
  const tags = fc.array(arbVlan(), { maxLength: maxTags });
  const network: Record<string, () => fc.Arbitrary<Layer[]>> = {
    arp: () => arbArp().map((a) => [a]),
    ipv4: () => {
      const whole = fc.tuple(arbIpv4(), arbL4('ipv4', l4, maxPayload)).map(([ip, rest]) => [ip, ...rest]);
      return l4 === 'any' ? fc.oneof({ weight: 5, arbitrary: whole }, { weight: 1, arbitrary: arbIpv4Fragment(maxPayload) }) : whole;
    },
    ipv6: () => {
      const whole = fc.tuple(arbIpv6(), arbL4('ipv6', l4, maxPayload)).map(([ip, rest]) => [ip, ...rest]);
      return l4 === 'any' ? fc.oneof({ weight: 5, arbitrary: whole }, { weight: 1, arbitrary: arbIpv6Fragment(maxPayload) }) : whole;
    },
  };
  const l3Arb = l3 === 'any' ? fc.oneof(network.ipv4!(), network.ipv6!(), network.arp!()) : network[l3]!();
  return arbFrameOf(arbEthernet(), tags, l3Arb);
}

/** `frame` cut at a random length shorter than itself. */
export function arbTruncated(frame: fc.Arbitrary<Frame>): fc.Arbitrary<TruncatedFrame> {
  return frame.chain((f) =>
    fc.integer({ min: 0, max: Math.max(0, f.bytes.length - 1) }).map((length) => ({ layers: f.layers, full: f.bytes, bytes: f.bytes.slice(0, length), length })),
  );
}

const KNOWN_ETHER_TYPES = new Set([ETH_P_IP, ETH_P_IPV6, ETH_P_ARP, ETH_P_8021Q, ETH_P_8021AD]);

/** Ethernet with an EtherType the parser does not decode, and opaque bytes after it. */
export function arbGarbageFrame(): fc.Arbitrary<Frame> {
  return arbFrameOf(
    arbEthernet({ type: u16().filter((t) => !KNOWN_ETHER_TYPES.has(t)) }),
    fc.option(arbPayload(64), { nil: undefined }),
  );
}

/** Frames with one deliberate defect named in their description: a bad checksum or an impossible length field. */
export function arbDefectiveFrame(): fc.Arbitrary<Frame> {
  const v4 = fc.oneof(
    arbFrameOf(arbEthernet(), arbIpv4({ checksum: 'bad' }), arbL4('ipv4', 'any', 32)),
    arbFrameOf(arbEthernet(), arbIpv4({ ihl: fc.integer({ min: 0, max: 4 }) }), arbL4('ipv4', 'any', 32)),
    arbFrameOf(arbEthernet(), arbIpv4({ totalLength: fc.integer({ min: 0, max: 19 }) }), arbL4('ipv4', 'any', 32)),
    arbFrameOf(arbEthernet(), arbIpv4(), arbTcp({ checksum: 'bad' }), fc.option(arbPayload(), { nil: undefined })),
    arbFrameOf(arbEthernet(), arbIpv4(), arbTcp({ dataOffset: fc.integer({ min: 0, max: 4 }) })),
    arbFrameOf(arbEthernet(), arbIpv4(), arbUdp({ checksum: 'bad' }), fc.option(arbPayload(), { nil: undefined })),
    arbFrameOf(arbEthernet(), arbIpv4(), arbIcmp({ checksum: 'bad' })),
  );
  const v6 = fc.oneof(
    arbFrameOf(arbEthernet(), arbIpv6(), arbTcp({ checksum: 'bad' })),
    arbFrameOf(arbEthernet(), arbIpv6(), arbUdp({ checksum: fc.constantFrom<number | 'bad'>('bad', 0) })),
    arbFrameOf(arbEthernet(), arbIpv6(), arbIcmpv6({ checksum: 'bad' })),
    arbFrameOf(arbEthernet(), arbIpv6({ payloadLength: fc.integer({ min: 1000, max: 0xffff }) }), arbUdp()),
  );
  return fc.oneof(v4, v6);
}

/**
 * Everything a filter may meet: well-formed frames with VLAN tags, garbage EtherTypes, deliberately
 * defective frames and truncations of all of these.
 */
export function arbAnyFrame(): fc.Arbitrary<Frame> {
  const whole = fc.oneof(
    { weight: 6, arbitrary: arbFrame({ vlan: true }) },
    { weight: 1, arbitrary: arbGarbageFrame() },
    { weight: 2, arbitrary: arbDefectiveFrame() },
  );
  return fc.oneof({ weight: 3, arbitrary: whole }, { weight: 1, arbitrary: arbTruncated(whole) });
}
