// The emulator's maps through the BTF codec, and constants set as bpfts/loader sets them: the same
// test against the kernel (root) gives the same values, the kernel being the oracle.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Collection } from '../../src/loader/index.js';
import { buildPacket } from '../../src/testing/index.js';
import { Emulator } from '../../src/vm/index.js';
import { haveRoot, repoRoot } from '../helpers/env.js';

const object = (name: string) => readFileSync(resolve(repoRoot, 'bpf', 'build', 'bpfel', name));
const globalsPath = resolve(repoRoot, 'bpf', 'build', 'bpfel', 'globals.o');
const root = haveRoot();

describe('Emulator maps as C values', () => {
  it('decodes struct keys and values by their BTF member names', () => {
    const emu = Emulator.fromObject(object('monitor.o'), { program: 'monitor_ingress' });
    const frame = buildPacket([{ kind: 'eth' }, { kind: 'ipv4', src: '10.0.0.1', dst: '10.0.0.2' }, { kind: 'udp', sport: 1000, dport: 53 }]);
    emu.run(frame);
    emu.run(frame);
    const flows = [...emu.map('flows').entries()];
    expect(flows).toEqual([[
      // saddr/daddr in network byte order, as the program stores them; ports in host order.
      { saddr: 0x0100000a, daddr: 0x0200000a, sport: 1000, dport: 53, proto: 17, direction: 0, pad: [0, 0] },
      { packets: 2n, bytes: BigInt(2 * frame.length) },
    ]]);
    const key = flows[0]![0];
    emu.map('flows').set(key, { packets: 10n, bytes: 0n });
    emu.run(frame);
    expect(emu.map('flows').get(key)).toEqual({ packets: 11n, bytes: BigInt(frame.length) });
    expect(emu.map('pkt_count').get(0)).toEqual({ packets: 3n, bytes: BigInt(3 * frame.length) });
    expect(emu.map('flows').delete(key)).toBe(true);
    expect(emu.map('flows').has(key)).toBe(false);
  });

  it('decodes records (ring buffer, perf event) by the C type the object names', () => {
    const emu = Emulator.fromObject(object('monitor.o'), { program: 'monitor_ingress' });
    // struct counters as monitor.c lays it out: two u64, packets then bytes.
    const rec = new Uint8Array(new BigUint64Array([7n, 1n << 40n]).buffer);
    expect(emu.record('counters', rec)).toEqual({ packets: 7n, bytes: 1n << 40n });
    expect(() => emu.record('nope', rec)).toThrow(/no struct, union or typedef named 'nope'/);
  });

  it('takes constants by name, and they change what the program does', () => {
    const short = Emulator.fromObject(readFileSync(globalsPath), { constants: { min_len: 100 } });
    const frame = buildPacket([{ kind: 'eth' }, { kind: 'ipv4', src: '10.0.0.1', dst: '10.0.0.2' }, { kind: 'udp', sport: 1, dport: 2 }]);
    expect(frame.length).toBeLessThan(100);
    short.run(frame);
    expect(short.map('.rodata').get(0)).toEqual({ min_len: 100 });
    expect(short.map('.bss').get(0)).toMatchObject({ packets_seen: 1n, short_packets: 1n });
    const plain = Emulator.fromObject(readFileSync(globalsPath));
    plain.run(frame);
    expect(plain.map('.bss').get(0)).toMatchObject({ packets_seen: 1n, short_packets: 0n });
    expect(() => Emulator.fromObject(readFileSync(globalsPath), { constants: { checksum_seed: 1 } })).toThrow(/no constant named 'checksum_seed' \(it has 'min_len'\)/);
  });

  describe.skipIf(!root)('the same as the kernel (root)', () => {
    it('constants, globals and counters agree with BPF_PROG_TEST_RUN', () => {
      fc.assert(fc.property(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 14, max: 150 }), (minLen, seed, len) => {
        const frame = new Uint8Array(len).map((_, i) => (i * 7 + seed) & 0xff);
        const emu = Emulator.fromObject(readFileSync(globalsPath), { constants: { min_len: minLen } });
        emu.map('.data').set(0, { checksum_seed: seed });
        emu.run(frame);
        using coll = Collection.load(globalsPath, { constants: { min_len: minLen } });
        coll.globals.set('checksum_seed', seed);
        coll.program('globals').testRun({ dataIn: frame });
        expect(emu.map('.bss').get(0)).toEqual(coll.map('.bss').get(0));
        expect(emu.map('.rodata').get(0)).toEqual({ min_len: minLen });
      }), { numRuns: 25 });
    });
  });
});
