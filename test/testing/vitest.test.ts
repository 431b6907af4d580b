// The vitest matchers of bpfts/testing/vitest on the bpf/ programs: each passes where the C says it
// must, fails where it must not, and a failure says the verdict, the C line of the exit and the frame.
import { describe, expect, it, vi } from 'vitest';
import '../../src/testing/vitest.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/env.js';
import { Emulator } from '../../src/vm/index.js';
import { formatHex, packet } from '../../src/testing/index.js';
import { clang, prog } from '../emulator/progs.js';

const object = (name: string) => readFileSync(join(repoRoot, 'bpf', 'build', 'bpfel', name));
const tcp80 = packet().eth().ipv4().tcp({ sport: 40000, dport: 80 }).build();
const arp = packet().eth().arp().build();

/** The message of the assertion error `f` throws. */
function failure(f: () => void): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('the assertion passed');
}

describe('verdict matchers', () => {
  const emu = Emulator.fromObject(object('tc_drop_tcp80.o'));

  it('toDrop and toPass follow the TCP/80 filter', () => {
    expect(emu.run(tcp80)).toDrop();
    expect(emu.run(tcp80)).not.toPass();
    expect(emu.run(arp)).toPass();
    expect(emu.run(arp)).not.toDrop();
    expect(emu.run(tcp80)).toReturn('TC_ACT_SHOT');
    expect(emu.run(tcp80)).toReturn(2);
    expect(emu.run(arp)).not.toReturn('TC_ACT_SHOT');
  });

  it('fails with the verdict, the C line of the exit and the frame', () => {
    const r = emu.run(arp);
    const m = failure(() => expect(r).toDrop());
    expect(m).toContain('expected the run to drop the packet');
    expect(m).toContain('verdict: TC_ACT_OK (0)');
    // The filter's returns share the one exit clang puts on the closing brace.
    const source = readFileSync(join(repoRoot, 'bpf', 'tc_drop_tcp80.c'), 'utf8').split('\n');
    const brace = source.indexOf('}', source.findIndex((l) => l.startsWith('int drop_tcp80('))) + 1;
    expect(m).toContain(`exit:    tc_drop_tcp80.c:${brace}: }`);
    expect(m).toContain('arp request 10.0.0.1 > 10.0.0.2');
    expect(m).toContain(formatHex(arp));
    expect(failure(() => expect(emu.run(tcp80)).not.toDrop())).toContain('expected the run not to drop the packet');
    expect(failure(() => expect(emu.run(tcp80)).toReturn('XDP_TX'))).toContain("no such return code for a tc program");
  });

  it.each([false, true])('with coverage on, also names the test that chose the return (compile: %s)', (compile) => {
    const covered = Emulator.fromObject(object('tc_drop_tcp80.o'), { coverage: true, compile });
    const source = readFileSync(join(repoRoot, 'bpf', 'tc_drop_tcp80.c'), 'utf8').split('\n');
    const line = (text: string) => source.findIndex((l) => l.includes(text)) + 1;
    // ARP: the EtherType test returns; TCP/80: the port test decides the drop.
    expect(failure(() => expect(covered.run(arp)).toDrop())).toContain(
      `decided: tc_drop_tcp80.c:${line('if (eth->h_proto != bpf_htons(ETH_P_IP)')}: if (eth->h_proto`);
    expect(failure(() => expect(covered.run(tcp80)).toPass())).toContain(
      `decided: tc_drop_tcp80.c:${line('if (tcp->dest == bpf_htons(80))')}: if (tcp->dest == bpf_htons(80))`);
    expect(failure(() => expect(emu.run(arp)).toDrop())).not.toContain('decided:');
  });

  it('refuses what is not a run', () => {
    expect(failure(() => expect(42).toDrop())).toContain('toDrop() expects the RunOutput of emu.run()');
  });

  it('leaves vitest\'s toReturn() of mock functions working', () => {
    const f = vi.fn(() => 1);
    expect(f).not.toReturn();
    f();
    expect(f).toReturn();
  });
});

describe.skipIf(!clang)('XDP and redirect verdicts', () => {
  it('toReturn(XDP_TX) by name and number', () => {
    const emu = Emulator.fromObject(prog('xdp_adjust'), { program: 'adjust' });
    // Bytes 14..16 zero: no adjustment, all three helpers return 0, so the C returns XDP_TX.
    const r = emu.run(new Uint8Array(64));
    expect(r).toReturn('XDP_TX');
    expect(r).toReturn(3);
    expect(r).not.toPass();
    const m = failure(() => expect(r).toReturn('XDP_PASS'));
    expect(m).toContain('expected the run to return XDP_PASS (2)');
    expect(m).toContain('verdict: XDP_TX (3)');
    expect(m).toMatch(/exit: +xdp_adjust\.c:\d+: /);
  });

  it('toRedirectTo(ifindex)', () => {
    const emu = Emulator.fromObject(prog('helpers'), { program: 'reshape' });
    const frame = new Uint8Array(64);
    // Byte 14 = 6 selects bpf_redirect(byte 15, byte 16 & 3) in the C.
    frame.set([6, 5, 0], 14);
    const r = emu.run(frame);
    expect(r).toRedirectTo(5);
    expect(r).not.toRedirectTo(4);
    const m = failure(() => expect(r).toRedirectTo(4));
    expect(m).toContain('expected the run to redirect to ifindex 4; bpf_redirect() went to ifindex 5');
    expect(m).toContain('verdict: TC_ACT_REDIRECT (7)');
  });
});

describe('frame matchers on the DNAT program', () => {
  function dnat(): Emulator {
    const emu = Emulator.fromObject(object('dnat.o'), { program: 'dnat_ingress' });
    expect(emu).not.toHaveMapEntry('dnat_rules', { addr: '0a000002', port: '0050', proto: 6 });
    // 10.0.0.2:80/TCP to 10.0.0.9:8080, the bytes in network order as struct dnat_key/endpoint lay them out.
    emu.maps.get('dnat_rules').update(new Uint8Array([10, 0, 0, 2, 0, 80, 6, 0]), new Uint8Array([10, 0, 0, 9, 0x1f, 0x90, 0, 0]));
    // The same entry by BTF member names, as `bpfts run --map` takes them.
    expect(emu).toHaveMapEntry('dnat_rules', { addr: '0a000002', port: '0050', proto: 6 }, { addr: '0a000009', port: '1f90' });
    return emu;
  }

  it('toHaveRewritten and toHaveValidChecksums', () => {
    const r = dnat().run(tcp80);
    expect(r).toPass();
    expect(r).toHaveRewritten({ ipv4: { dst: '10.0.0.9', src: '10.0.0.1' }, tcp: { dport: 8080, sport: 40000 } });
    expect(r).toHaveValidChecksums();
    const m = failure(() => expect(r).toHaveRewritten({ ipv4: { dst: '10.0.0.2' }, tcp: { dport: 80 } }));
    expect(m).toContain("ipv4.dst: expected \"10.0.0.2\", got \"10.0.0.9\"");
    expect(m).toContain('tcp.dport: expected 80, got 8080');
    expect(m).toContain('ipv4 10.0.0.1 > 10.0.0.9 proto 6');
    expect(m).toMatch(new RegExp(`exit: +dnat\\.c:\\d+: `));
    expect(failure(() => expect(r).toHaveRewritten({ udp: { dport: 53 } }))).toContain('udp: no such layer in the frame');
  });

  it('toHaveValidChecksums fails on a frame the program passes with a wrong TCP checksum', () => {
    const bad = packet().eth().ipv4().tcp({ dport: 22, checksum: 0x1234 }).build();
    const r = Emulator.fromObject(object('tc_drop_tcp80.o')).run(bad);
    expect(r).not.toHaveValidChecksums();
    expect(failure(() => expect(r).toHaveValidChecksums())).toContain('tcp checksum 0x1234 is wrong');
  });

  it('toHaveMapEntry reads the connection the C records, by BTF member names', () => {
    const emu = dnat();
    emu.run(tcp80);
    // conn_track key: the reply's 4-tuple, backend 10.0.0.9:8080 to the client 10.0.0.1:40000.
    const conn = { saddr: '0a000009', daddr: '0a000001', sport: '1f90', dport: '9c40' };
    expect(emu).toHaveMapEntry('conn_track', conn, { addr: '0a000002', port: '0050' });
    expect(emu).toHaveMapEntry('conn_track', conn);
    const m = failure(() => expect(emu).toHaveMapEntry('conn_track', conn, { addr: '0a000003', port: '0050' }));
    expect(m).toContain('expected map conn_track to hold 0a0000090a0000011f909c40 = 0a0000030050');
    expect(m).toContain('it holds 0a00000200500000');
    expect(m).toContain('Entries (1):');
    expect(failure(() => expect(emu).toHaveMapEntry('conn_track', { ...conn, sport: '0001' }))).toContain('the key is absent');
  });
});

describe.skipIf(!clang)('perf records', () => {
  it('toHaveEmitted compares perf event array records', () => {
    const emu = Emulator.fromObject(prog('helpers'), { program: 'perf_out', perfEventsOpen: true });
    const frame = Uint8Array.from({ length: 20 }, (_, i) => i + 1);
    const r = emu.run(frame);
    // The C: the first 4 bytes, then skb->len (20) bytes of the packet appended as the kernel does.
    expect(r).toHaveEmitted('events', [Uint8Array.from([...frame.subarray(0, 4), ...frame])]);
    expect(failure(() => expect(r).toHaveEmitted('events', ['01020304']))).toContain('expected events to receive records [01020304]');
    expect(Emulator.fromObject(prog('helpers'), { program: 'perf_out' }).run(frame)).not.toHaveEmitted('events');
  });
});

describe('records', () => {
  it('toHaveEmitted counts and compares ring buffer records', () => {
    const emu = Emulator.fromObject(object('provenance.o'));
    const r = emu.run(tcp80);
    // One struct provenance_record per packet, whatever the packet (bpf/provenance.c).
    expect(r).toHaveEmitted('events');
    expect(r).toHaveEmitted('events', 1);
    expect(r).not.toHaveEmitted('events', 2);
    const rec = r.ringbuf.events![0]!;
    expect(r).toHaveEmitted('events', [formatHex(rec)]);
    expect(failure(() => expect(r).toHaveEmitted('events', 2))).toContain('expected events to receive 2 record(s); it received [');
    expect(failure(() => expect(r).toHaveEmitted('nothing'))).toContain("no ring buffer or perf event array 'nothing' (there are: events)");
  });
});
