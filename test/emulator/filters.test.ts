// The drop filters of bpf/, run in the emulator on generated frames; the expected verdict comes from
// each frame's description (spec.ts), as the program's source comment states its behaviour.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbAnyFrame, arbEthernet, arbFrame, arbFrameOf, arbIpv4, arbPayload, arbTcp, arbTruncated, type Frame } from '../../src/testing/index.js';
import { Emulator } from '../../src/vm/index.js';
import { ETHERTYPE, PROTO, hex, ipv4Of, object, outerEtherType } from './spec.js';

const TC_ACT_OK = 0;
const TC_ACT_SHOT = 2;
const RUNS = 400;

/** Frames the test run accepts: at least an Ethernet header. */
const runnable = (a: fc.Arbitrary<Frame>) => a.filter((f) => f.bytes.length >= 14);

/** Frames aimed at the filters: mostly IPv4, many TCP to port 80, some truncated, plus everything else. */
function arbFilterFrames(): fc.Arbitrary<Frame> {
  const tcp80 = arbFrameOf(arbEthernet(), arbIpv4(), arbTcp({ dport: fc.constantFrom(80, 80, 8080, 443) }), fc.option(arbPayload(32), { nil: undefined }));
  const aimed = fc.oneof(tcp80, arbFrame({ l3: 'ipv4' }), arbFrame({ l3: 'arp' }), arbFrame({ l3: 'ipv4', l4: 'icmp' }));
  return runnable(fc.oneof(aimed, arbTruncated(aimed), arbAnyFrame()));
}

describe('tc_drop_arp.o', () => {
  const emu = Emulator.fromObject(object('tc_drop_arp.o'));
  it('drops exactly the frames whose EtherType is ARP and never changes the frame', () => {
    fc.assert(
      fc.property(arbFilterFrames(), (f) => {
        const r = emu.run(f.bytes);
        expect(r.retval).toBe(outerEtherType(f.layers) === ETHERTYPE.arp ? TC_ACT_SHOT : TC_ACT_OK);
        expect(hex(r.packet)).toBe(hex(f.bytes));
      }),
      { numRuns: RUNS },
    );
  });
});

for (const file of ['tc_drop_icmp.o', 'tc_drop_icmp_nobtf.o']) {
  describe(file, () => {
    const emu = Emulator.fromObject(object(file));
    it('drops exactly IPv4 ICMP (header present), passes the rest', () => {
      fc.assert(
        fc.property(arbFilterFrames(), (f) => {
          const ip = ipv4Of(f);
          const drop = ip !== undefined && f.bytes.length >= 14 + 20 && ip.protocol === PROTO.icmp;
          expect(emu.run(f.bytes).retval).toBe(drop ? TC_ACT_SHOT : TC_ACT_OK);
        }),
        { numRuns: RUNS },
      );
    });
  });
}

for (const file of ['tc_drop_tcp80.o', 'tc_drop_tcp80_v4.o']) {
  describe(file, () => {
    const emu = Emulator.fromObject(object(file));
    it('drops exactly IPv4 TCP to port 80 whose IP and TCP headers are whole and consistent', () => {
      fc.assert(
        fc.property(arbFilterFrames(), (f) => {
          const ip = ipv4Of(f);
          let drop = false;
          if (ip && ip.protocol === PROTO.tcp && ip.ihl >= 5 && f.bytes.length >= 14 + 20) {
            const tcpStart = 14 + ip.ihl * 4;
            const headerWhole = f.bytes.length >= tcpStart + 20;
            const lengthSaysWhole = ip.totalLength >= ip.ihl * 4 + 20;
            // With IHL describing the real header, the TCP layer of the description is what sits there.
            const dport = ip.ihl * 4 === ip.headerLength && ip.next?.kind === 'tcp' ? ip.next.dport : undefined;
            drop = headerWhole && lengthSaysWhole && dport === 80;
          }
          expect(emu.run(f.bytes).retval).toBe(drop ? TC_ACT_SHOT : TC_ACT_OK);
        }),
        { numRuns: RUNS },
      );
    });

    it('never drops a frame cut before the end of its TCP header', () => {
      const cut = arbTruncated(arbFrameOf(arbEthernet(), arbIpv4(), arbTcp({ dport: 80 }))).filter((f) => f.bytes.length >= 14);
      fc.assert(
        fc.property(cut, (f) => {
          const ip = ipv4Of(f)!;
          fc.pre(f.bytes.length < 14 + ip.headerLength + 20);
          expect(emu.run(f.bytes).retval).toBe(TC_ACT_OK);
        }),
        { numRuns: RUNS },
      );
    });
  });
}
