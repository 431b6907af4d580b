// The counting, logging and global-data programs of bpf/: map contents, ring buffer records and
// trace lines after a run of generated frames, against models computed from the frames' descriptions.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbAnyFrame, arbEthernet, arbFrame, arbFrameOf, arbIpv4, arbTruncated, arbUdp, type Frame } from '../../src/testing/index.js';
import { Emulator, EmulatorError } from '../../src/vm/index.js';
import { PROTO, hex, ipv4Bytes, ipv4Of, object, outerEtherType, portsOf, readU64, u32le } from './spec.js';

const RUNS = 200;
const runnable = (a: fc.Arbitrary<Frame>) => a.filter((f) => f.bytes.length >= 14);
const frames = runnable(fc.oneof(arbFrame({ l3: 'ipv4' }), arbTruncated(arbFrame({ l3: 'ipv4' })), arbAnyFrame()));
const frameLists = fc.array(frames, { minLength: 1, maxLength: 12 });

describe('monitor.o', () => {
  for (const [program, direction] of [['monitor_ingress', 0], ['monitor_egress', 1]] as const) {
    it(`${program} counts packets and bytes exactly, in total and per flow`, () => {
      fc.assert(
        fc.property(frameLists, (list) => {
          const emu = Emulator.fromObject(object('monitor.o'), { program });
          const flows = new Map<string, { packets: bigint; bytes: bigint }>();
          let bytes = 0n;
          for (const f of list) {
            expect(emu.run(f.bytes).retval).toBe(0);
            bytes += BigInt(f.bytes.length);
            const ip = ipv4Of(f);
            if (!ip || f.bytes.length < 14 + 20) continue;
            let ports = { sport: 0, dport: 0 };
            const p = portsOf(ip);
            // Ports are read at IHL*4 when a whole UDP-sized (8-byte) header is inside the frame.
            if (p && ip.ihl >= 5 && ip.ihl * 4 === ip.headerLength && f.bytes.length >= 14 + ip.headerLength + 8) ports = p;
            else if ((ip.protocol === PROTO.tcp || ip.protocol === PROTO.udp) && ip.ihl >= 5 && f.bytes.length >= 14 + ip.ihl * 4 + 8) {
              const v = new DataView(f.bytes.buffer, f.bytes.byteOffset);
              ports = { sport: v.getUint16(14 + ip.ihl * 4), dport: v.getUint16(14 + ip.ihl * 4 + 2) };
            }
            const key = hex(Uint8Array.from([
              ...ipv4Bytes(ip.src), ...ipv4Bytes(ip.dst), ports.sport & 0xff, ports.sport >> 8, ports.dport & 0xff, ports.dport >> 8,
              ip.protocol, direction, 0, 0,
            ]));
            const c = flows.get(key) ?? { packets: 0n, bytes: 0n };
            flows.set(key, { packets: c.packets + 1n, bytes: c.bytes + BigInt(f.bytes.length) });
          }
          const total = emu.maps.get('pkt_count').lookup(u32le(direction))!;
          expect([readU64(total, 0), readU64(total, 8)]).toEqual([BigInt(list.length), bytes]);
          expect(readU64(emu.maps.get('pkt_count').lookup(u32le(1 - direction))!, 0)).toBe(0n);
          const got = new Map(emu.maps.get('flows').entries().map(([k, v]) => [hex(k), { packets: readU64(v, 0), bytes: readU64(v, 8) }]));
          expect(got).toEqual(flows);
        }),
        { numRuns: RUNS },
      );
    });
  }
});

describe('xdp_monitor.o', () => {
  it('counts IPv4 packets per protocol and drops exactly UDP to the configured port', () => {
    const udpTo = (port: fc.Arbitrary<number>) => arbFrameOf(arbEthernet(), arbIpv4(), arbUdp({ dport: port }));
    fc.assert(
      fc.property(
        fc.constantFrom(0, 53, 4789, 65535),
        fc.array(runnable(fc.oneof(frames, udpTo(fc.constantFrom(53, 4789, 65535, 80)))), { minLength: 1, maxLength: 10 }),
        (port, list) => {
          const emu = Emulator.fromObject(object('xdp_monitor.o'));
          emu.maps.get('xdp_config').update(u32le(0), u32le(port));
          const counts = new Map<number, bigint>();
          for (const f of list) {
            const ip = ipv4Of(f);
            const whole = ip !== undefined && f.bytes.length >= 14 + 20;
            if (whole) counts.set(ip.protocol, (counts.get(ip.protocol) ?? 0n) + 1n);
            let drop = false;
            if (whole && port !== 0 && ip.protocol === PROTO.udp && ip.ihl >= 5 && f.bytes.length >= 14 + ip.ihl * 4 + 8) {
              const v = new DataView(f.bytes.buffer, f.bytes.byteOffset);
              drop = v.getUint16(14 + ip.ihl * 4 + 2) === port;
            }
            const r = emu.run(f.bytes);
            expect(r.verdict).toBe(drop ? 'XDP_DROP' : 'XDP_PASS');
            expect(hex(r.packet)).toBe(hex(f.bytes));
          }
          const got = new Map<number, bigint>();
          for (const [k, v] of emu.maps.get('proto_count').entries()) {
            const n = readU64(v);
            if (n !== 0n) got.set(new DataView(k.buffer, k.byteOffset).getUint32(0, true), n);
          }
          expect(got).toEqual(counts);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('globals.o', () => {
  /** fold_bytes() of globals.c: sum = sum * 33 + byte over the first 16 bytes, from the .data seed. */
  const fold = (bytes: Uint8Array, seed: number) => bytes.subarray(0, 16).reduce((s, b) => (Math.imul(s, 33) + b) >>> 0, seed);

  it('counts packets in .bss, short ones against .rodata min_len, and folds the header with the .data seed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 14, max: 80 }), fc.integer({ min: 0, max: 0xffffffff }), fc.array(frames, { minLength: 1, maxLength: 8 }), (minLen, seed, list) => {
        const emu = Emulator.fromObject(object('globals.o'));
        // .rodata is frozen for programs; before the run it is the loader's to set, as libbpf's skeletons do.
        emu.maps.get('.rodata').update(u32le(0), u32le(minLen));
        emu.maps.get('.data').update(u32le(0), u32le(seed));
        let short = 0n;
        let last = 0;
        for (const f of list) {
          expect(emu.run(f.bytes).retval).toBe(0);
          if (f.bytes.length < minLen) short++;
          else if (f.bytes.length >= 16) last = fold(f.bytes, seed);
        }
        // .bss: packets_seen (u64), short_packets (u64), last_checksum (u32), in that order.
        const bss = emu.maps.get('.bss').lookup(u32le(0))!;
        expect(readU64(bss, 0)).toBe(BigInt(list.length));
        expect(readU64(bss, 8)).toBe(short);
        expect(new DataView(bss.buffer, bss.byteOffset).getUint32(16, true)).toBe(last);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('printk.o', () => {
  it('writes "pkt len=LEN proto=0xETHERTYPE ifindex=1" for every frame', () => {
    const emu = Emulator.fromObject(object('printk.o'));
    fc.assert(
      fc.property(frames, (f) => {
        const type = outerEtherType(f.layers);
        // eth_type_trans: EtherTypes below 0x600 are 802.3 lengths; raw 802.3 when 0xffff follows.
        const proto = type >= 0x600 ? type : f.bytes[14] === 0xff && f.bytes[15] === 0xff ? 0x0001 : 0x0004;
        const r = emu.run(f.bytes);
        expect(r.printk).toEqual([`pkt len=${f.bytes.length} proto=0x${proto.toString(16).padStart(4, '0')} ifindex=1`]);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('provenance.o and provenance_egress.o', () => {
  for (const [file, progType] of [['provenance.o', undefined], ['provenance_egress.o', 'sched_cls']] as const) {
    it(`${file} submits one 32-byte record per packet describing it`, () => {
      fc.assert(
        fc.property(frames, fc.integer({ min: 0, max: 3 }), (f, earlier) => {
          const emu = Emulator.fromObject(object(file), { ...(progType ? { type: progType } : {}), clock: { startNs: 5000n, tickNs: 7n } });
          for (let i = 0; i < earlier; i++) emu.run(f.bytes);
          const now = 5000n + 7n * BigInt(earlier);
          const r = emu.run(f.bytes);
          expect(r.retval).toBe(0);
          expect(r.ringbuf.events).toHaveLength(1);
          const rec = r.ringbuf.events![0]!;
          const v = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
          const type = outerEtherType(f.layers);
          const ip = ipv4Of(f);
          const ipWhole = ip !== undefined && f.bytes.length >= 34;
          let flags = ipWhole ? 1 : 0;
          let ports = { sport: 0, dport: 0 };
          if (ipWhole && (ip.protocol === PROTO.tcp || ip.protocol === PROTO.udp) && ip.ihl >= 5 && f.bytes.length >= 14 + ip.ihl * 4 + 8) {
            flags |= 2;
            const d = new DataView(f.bytes.buffer, f.bytes.byteOffset);
            ports = { sport: d.getUint16(14 + ip.ihl * 4), dport: d.getUint16(14 + ip.ihl * 4 + 2) };
          }
          expect({
            ts: v.getBigUint64(0, true), len: v.getUint32(8, true), ifindex: v.getUint32(12, true),
            ethProto: v.getUint16(16, true), ipProto: v.getUint8(18), flags: v.getUint8(19),
            saddr: hex(rec.subarray(20, 24)), daddr: hex(rec.subarray(24, 28)), sport: v.getUint16(28, true), dport: v.getUint16(30, true),
          }).toEqual({
            ts: now, len: f.bytes.length, ifindex: 1,
            ethProto: type >= 0x600 ? type : f.bytes[14] === 0xff && f.bytes[15] === 0xff ? 1 : 4,
            ipProto: ipWhole ? ip.protocol : 0, flags,
            saddr: ipWhole ? hex(Uint8Array.from(ipv4Bytes(ip.src))) : '00000000',
            daddr: ipWhole ? hex(Uint8Array.from(ipv4Bytes(ip.dst))) : '00000000',
            ...ports,
          });
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('provenance_egress.o needs a program type: libbpf cannot tell it from section "egress"', () => {
    expect(() => Emulator.fromObject(object('provenance_egress.o'))).toThrow(EmulatorError);
  });
});

describe('legacy_maps.o', () => {
  it('returns skb->len (the frame after its MAC header) and counts only outgoing packets by IP protocol', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(frames, fc.boolean()), { minLength: 1, maxLength: 8 }), (list) => {
        const emu = Emulator.fromObject(object('legacy_maps.o'));
        const counted = new Map<number, bigint>();
        for (const [f, outgoing] of list) {
          const len = f.bytes.length - 14;
          // LD_ABS is relative to skb->data, which for a socket filter is the network header:
          // ETH_HLEN + 9 from there. An offset past the end ends the program with 0.
          const at = 14 + 14 + 9;
          const expected = f.bytes.length <= at ? 0 : len;
          const r = emu.run(f.bytes, outgoing ? { pkt_type: 4 } : {});
          expect(r.retval).toBe(expected);
          // The test run hands back the frame with a zeroed MAC header for L3 programs.
          expect(hex(r.packet)).toBe('00'.repeat(14) + hex(f.bytes.subarray(14)));
          if (outgoing && f.bytes.length > at) counted.set(f.bytes[at]!, (counted.get(f.bytes[at]!) ?? 0n) + BigInt(len));
        }
        for (const [proto, bytes] of counted) expect(readU64(emu.maps.get('proto_bytes').lookup(u32le(proto))!)).toBe(bytes);
        const nonzero = emu.maps.get('proto_bytes').entries().filter(([, v]) => readU64(v) !== 0n);
        expect(nonzero).toHaveLength(counted.size);
      }),
      { numRuns: RUNS },
    );
  });
});
