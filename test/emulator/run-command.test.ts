// `bpfts run`, driven in-process through its Command object (the lead registers it in the CLI).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/commands/run.js';
import { parseCommandArgs, type Io } from '../../src/cli/command.js';
import { UsageError } from '../../src/errors.js';
import { buildPacket, writePcap } from '../../src/testing/index.js';
import { haveRoot, repoRoot } from '../helpers/env.js';

const obj = (f: string) => resolve(repoRoot, 'bpf', 'build', 'bpfel', f);

async function bpfts(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => (out += typeof t === 'string' ? t : Buffer.from(t).toString()), err: (t) => (err += t) };
  const code = await run.run(parseCommandArgs(run, argv), io);
  return { code, out, err };
}

const tcp80 = buildPacket([{ kind: 'eth' }, { kind: 'ipv4', src: '10.0.0.1', dst: '10.0.0.2' }, { kind: 'tcp', sport: 1234, dport: 80 }]);
const tcp22 = buildPacket([{ kind: 'eth' }, { kind: 'ipv4', src: '10.0.0.1', dst: '10.0.0.2' }, { kind: 'tcp', sport: 1234, dport: 22 }]);
const arp = buildPacket([{ kind: 'eth' }, { kind: 'arp' }]);
const udp = (dst: string, dport: number) => buildPacket([{ kind: 'eth' }, { kind: 'ipv4', src: '10.0.0.1', dst }, { kind: 'udp', sport: 5000, dport }]);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bpfts-run-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bpfts run', () => {
  it('--packets FILE --json prints one object per packet, in order', async () => {
    const file = join(dir, 'frames.txt');
    writeFileSync(file, [tcp80, tcp22, arp].map(hex).join('\n') + '\n');
    const { code, out } = await bpfts([obj('tc_drop_tcp80.o'), '--packets', file, '--json']);
    expect(code).toBe(0);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.index, l.retval, l.verdict, l.packet, l.changed])).toEqual([
      [0, 2, 'TC_ACT_SHOT', hex(tcp80), false],
      [1, 0, 'TC_ACT_OK', hex(tcp22), false],
      [2, 0, 'TC_ACT_OK', hex(arp), false],
    ]);
  });

  it('--pcap reads a capture; text mode prints a line per packet', async () => {
    const file = join(dir, 'frames.pcap');
    writeFileSync(file, writePcap([{ data: arp }, { data: tcp80 }]));
    const { out } = await bpfts([obj('tc_drop_arp.o'), '--pcap', file]);
    expect(out).toMatch(/^packet 0: TC_ACT_SHOT \(2\), 42 bytes, unchanged\npacket 1: TC_ACT_OK \(0\), 54 bytes, unchanged\n$/);
  });

  it('--map presets maps by BTF member names; map changes and rewritten packets are reported', async () => {
    const target = '[[{"addr":"0a000002","port":"0035"},{"addr":"0a090909","port":"1435"}]]';
    const { out } = await bpfts([obj('proxy.o'), '--prog', 'proxy_egress', '--packet', hex(udp('10.0.0.2', 53)), '--map', `proxy_targets=${target}`, '--json']);
    const r = JSON.parse(out);
    expect(r.changed).toBe(true);
    expect(r.packet.slice(60, 68)).toBe('0a090909');
    expect(Object.keys(r.maps)).toEqual(['proxy_reverse']);
    expect(r.maps.proxy_reverse.set).toEqual({ '0a0909090a0000011435138811000000': '0a00000200350000' });
  });

  it('XDP: --map with a plain integer configures the drop port', async () => {
    const { out } = await bpfts([obj('xdp_monitor.o'), '--packet', hex(udp('10.0.0.2', 4789)), '--map', 'xdp_config={"0": 4789}', '--json']);
    const r = JSON.parse(out);
    expect([r.retval, r.verdict]).toEqual([1, 'XDP_DROP']);
    expect(r.maps.proto_count.set).toEqual({ '11000000': '0100000000000000' });
  });

  it('printk output, ring buffer records and --type for an "egress" section', async () => {
    const p = await bpfts([obj('printk.o'), '--packet', hex(tcp80), '--json']);
    expect(JSON.parse(p.out).printk).toEqual(['pkt len=54 proto=0x0800 ifindex=1']);
    const e = await bpfts([obj('provenance_egress.o'), '--type', 'sched_cls', '--packet', hex(tcp80), '--json']);
    expect(JSON.parse(e.out).ringbuf.events).toHaveLength(1);
    await expect(bpfts([obj('provenance_egress.o'), '--packet', hex(tcp80)])).rejects.toThrow(/cannot tell the program type/);
  });

  it('--trace writes each executed instruction with its registers to stderr', async () => {
    const { out, err } = await bpfts([obj('tc_drop_arp.o'), '--packet', hex(arp), '--json', '--trace']);
    const lines = err.trimEnd().split('\n');
    expect(lines).toHaveLength(JSON.parse(out).executed);
    // r1 holds the context and r10 the frame pointer on entry; nothing else is set yet.
    expect(lines[0]).toMatch(/^ {4}0: .* r1=0x[0-9a-f]+ r10=0x[0-9a-f]+$/);
    expect(lines.at(-1)).toMatch(/^ +\d+: exit +r0=0x2 /);
  });

  it('usage errors: no packets, two packet sources, a bad --map', async () => {
    await expect(bpfts([obj('tc_drop_arp.o')])).rejects.toThrow(UsageError);
    await expect(bpfts([obj('tc_drop_arp.o'), '--packet', 'zz'])).rejects.toThrow(UsageError);
    await expect(bpfts([obj('monitor.o'), '--prog', 'monitor_ingress', '--packet', hex(arp), '--map', 'nope={}'])).rejects.toThrow(/no map 'nope'/);
    await expect(bpfts([obj('monitor.o'), '--prog', 'monitor_ingress', '--packet', hex(arp), '--map', 'pkt_count={"0": "00"}'])).rejects.toThrow(/1 bytes given, 16 expected/);
  });

  it.skipIf(!haveRoot())('--kernel gives the same lines as the emulator for the same packets and maps', async () => {
    const file = join(dir, 'mixed.txt');
    writeFileSync(file, [udp('10.0.0.2', 53), tcp80, arp, udp('10.0.0.3', 53)].map(hex).join('\n'));
    const target = '[[{"addr":"0a000002","port":"0035"},{"addr":"0a090909","port":"1435"}]]';
    const args = [obj('proxy.o'), '--prog', 'proxy_egress', '--packets', file, '--map', `proxy_targets=${target}`, '--json'];
    const strip = (t: string) => t.trim().split('\n').map((l) => {
      const { executed: _e, duration: _d, ...rest } = JSON.parse(l);
      return rest;
    });
    const emulated = strip((await bpfts(args)).out);
    const kernel = strip((await bpfts([...args, '--kernel'])).out);
    expect(emulated).toEqual(kernel);
    expect(emulated[0].changed).toBe(true);
  });
});
