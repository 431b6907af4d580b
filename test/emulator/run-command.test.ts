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
import { clang, prog } from './progs.js';

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

  describe.skipIf(!clang)('on programs compiled from progs/*.c', () => {
    const progFile = (name: string) => {
      const file = join(dir, `${name}.o`);
      writeFileSync(file, prog(name));
      return file;
    };
    /** Bytes 14.. of a 60-byte frame: map_in_map.c's tail_caller jumps to slot byte 19 & 3. */
    const knobs = (slot: number) => {
      const f = new Uint8Array(60);
      f.set([0x88, 0xb5], 12);
      f[19] = slot;
      f[20] = 5;
      return hex(f);
    };
    const tailArgs = () => [progFile('map_in_map'), '--prog', 'tail_caller', ...[0, 1, 2, 3].flatMap((s) => ['--packet', knobs(s)]), '--json'];
    const retvals = (out: string) => out.trim().split('\n').map((l) => JSON.parse(l).retval);

    it('--tail-call fills prog array slots beside the ones the object initialises', async () => {
      // The source fills slot 1 (tail_one: 100 + byte 20) and 3 (tail_three: 300); empty slots fall through to 7.
      expect(retvals((await bpfts(tailArgs())).out)).toEqual([7, 105, 7, 300]);
      const filled = await bpfts([...tailArgs(), '--tail-call', 'jumps=0:tail_three', '--tail-call', 'jumps=2:tail_one']);
      expect(retvals(filled.out)).toEqual([300, 105, 105, 300]);
    });

    it.skipIf(!haveRoot())('--tail-call in the kernel gives the same results', async () => {
      const args = [...tailArgs(), '--tail-call', 'jumps=0:tail_three', '--tail-call', 'jumps=2:tail_one', '--kernel'];
      expect(retvals((await bpfts(args)).out)).toEqual([300, 105, 105, 300]);
    });

    it('--tail-call usage errors name the prog arrays and programs', async () => {
      await expect(bpfts([...tailArgs(), '--tail-call', 'jumps:1'])).rejects.toThrow(/MAP=INDEX:PROGRAM/);
      await expect(bpfts([...tailArgs(), '--tail-call', 'outer_arr=1:tail_one'])).rejects.toThrow(/no prog array 'outer_arr'/);
      await expect(bpfts([...tailArgs(), '--tail-call', 'jumps=4:tail_one'])).rejects.toThrow(/4 entries/);
      await expect(bpfts([...tailArgs(), '--tail-call', 'jumps=1:nope'])).rejects.toThrow(UsageError);
    });

    it('--perf-open captures bpf_perf_event_output(); without it the helper returns -ENOENT like the test run', async () => {
      const frame = new Uint8Array(20).fill(0x11);
      frame.set([0x88, 0xb5], 12);
      const args = [progFile('helpers'), '--prog', 'perf_out', '--packet', hex(frame)];
      const closed = JSON.parse((await bpfts([...args, '--json'])).out);
      expect([closed.retval | 0, closed.perf]).toEqual([-2, undefined]);
      const open = JSON.parse((await bpfts([...args, '--json', '--perf-open'])).out);
      // perf_out sends the first 4 bytes, then skb->len bytes of the packet from the flags.
      expect([open.retval, open.perf]).toEqual([0, { events: [{ cpu: 0, data: hex(frame.subarray(0, 4)) + hex(frame) }] }]);
      expect((await bpfts([...args, '--perf-open'])).out).toContain(`  perf events (cpu 0): ${hex(frame.subarray(0, 4))}${hex(frame)}\n`);
      await expect(bpfts([...args, '--perf-open', '--kernel'])).rejects.toThrow(/emulator only/);
    });
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
