// The public Emulator API and the --map JSON format, on bpf/ objects whose C sources give the layouts.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readObject } from '../../src/object/index.js';
import { buildPacket } from '../../src/testing/index.js';
import { Emulator, EmulatorError, parseMapJson } from '../../src/vm/index.js';
import { repoRoot } from '../helpers/env.js';
import { hex, object } from './spec.js';

const bytes = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const u64le = (n: number) => hex(new Uint8Array(new BigUint64Array([BigInt(n)]).buffer));

describe('parseMapJson', () => {
  const plain = { name: 'm', keySize: 4, valueSize: 8 };

  it('reads numbers as little-endian integers, strings as hex bytes, and both key forms', () => {
    expect(parseMapJson('{"1": 258, "0x02000000": "0102030405060708"}', plain).map(([k, v]) => [hex(k), hex(v)])).toEqual([
      ['01000000', '0201000000000000'],
      ['02000000', '0102030405060708'],
    ]);
    expect(parseMapJson('[[7, [1,2,3,4,5,6,7,8]], ["0a:00:00:01", -1]]', plain).map(([k, v]) => [hex(k), hex(v)])).toEqual([
      ['07000000', '0102030405060708'],
      ['0a000001', 'ffffffffffffffff'],
    ]);
  });

  it('encodes structs by BTF member name (proxy.c struct endpoint: __u32 addr, __u16 port, __u16 pad)', () => {
    const obj = readObject(object('proxy.o'));
    const def = obj.maps.find((m) => m.name === 'proxy_targets')!;
    const spec = { name: def.name, keySize: def.keySize, valueSize: def.valueSize, btf: obj.btf, keyTypeId: def.keyTypeId, valueTypeId: def.valueTypeId };
    const [[k, v]] = parseMapJson('[[{"addr": "0a000002", "port": "0050"}, {"addr": "0a090909", "port": 8080, "pad": 1}]]', spec) as [[Uint8Array, Uint8Array]];
    expect(hex(k)).toBe('0a00000200500000');
    expect(hex(v)).toBe('0a090909901f0100');
  });

  it('names the map and the problem in errors', () => {
    expect(() => parseMapJson('{"1": "00"}', plain)).toThrow(/--map m: value 1: 1 bytes given, 8 expected/);
    expect(() => parseMapJson('{"1": 1e300}', plain)).toThrow(EmulatorError);
    expect(() => parseMapJson('{"1": {"x": 1}}', plain)).toThrow(/member names need BTF/);
    expect(() => parseMapJson('nope', plain)).toThrow(/not JSON/);
    expect(() => parseMapJson('{"4294967296": 1}', plain)).toThrow(/does not fit in 4 bytes/);
  });
});

describe('Emulator', () => {
  it('takes a BpfObject as well as bytes, and names the programs it can run', () => {
    const emu = Emulator.fromObject(readObject(object('monitor.o')), { program: 'monitor_egress' });
    expect(emu.program.name).toBe('monitor_egress');
    expect(() => Emulator.fromObject(object('monitor.o'))).toThrow(expect.objectContaining({ hint: 'programs: monitor_ingress, monitor_egress' }));
    expect(() => Emulator.fromObject(object('monitor.o'), { program: 'monitor_egress', type: 'lwt_in' })).toThrow(/cannot be run on packets/);
    const traced = Emulator.fromObject(object('monitor.o'), { program: 'monitor_egress', type: 'kprobe' });
    expect(() => traced.run(new Uint8Array(64))).toThrow(/is a tracing program; run it with runTracing\(\)/);
  });

  it('refuses big-endian objects with a clear error', () => {
    const be = readFileSync(resolve(repoRoot, 'bpf', 'build', 'bpfeb', 'tc_drop_arp.o'));
    expect(() => Emulator.fromObject(be)).toThrow(/little-endian \(bpfel\) objects only/);
  });

  it('maps can be read, preset, listed and emptied between runs', () => {
    const emu = Emulator.fromObject(object('monitor.o'), { program: 'monitor_ingress' });
    const frame = buildPacket([{ kind: 'eth' }, { kind: 'ipv4', src: '10.0.0.1', dst: '10.0.0.2' }, { kind: 'udp', sport: 1000, dport: 53 }]);
    emu.run(frame);
    const flows = emu.maps.get('flows');
    expect([flows.keySize, flows.valueSize, flows.type]).toEqual([16, 16, 'BPF_MAP_TYPE_HASH']);
    // struct flow_key: saddr, daddr (network order), sport, dport (host order), proto, direction, pad
    const key = bytes('0a0000010a000002e803350011000000');
    expect(flows.entries().map(([k, v]) => [hex(k), hex(v)])).toEqual([[hex(key), u64le(1) + u64le(frame.length)]]);
    flows.update(key, bytes('0a000000000000000000000000000000'));
    emu.run(frame);
    expect(hex(flows.lookup(key)!)).toBe(u64le(11) + u64le(frame.length));
    expect(flows.delete(key)).toBe(true);
    expect(flows.entries()).toEqual([]);
    expect(() => emu.maps.get('nope')).toThrow(/no map named 'nope'/);
  });

  it('context overrides reach the program and the __sk_buff fields come back', () => {
    const emu = Emulator.fromObject(object('printk.o'));
    const frame = buildPacket([{ kind: 'eth' }, { kind: 'arp' }]);
    const r = emu.run(frame, { ifindex: 7, mark: 9 });
    expect(r.printk).toEqual([`pkt len=${frame.length} proto=0x0806 ifindex=7`]);
    expect(r.skb).toMatchObject({ mark: 9, ifindex: 7, len: frame.length, protocol: 0x0608, pkt_type: 3 });
    expect(() => emu.run(frame, { nonsense: 1 } as never)).toThrow(/no field 'nonsense'/);
  });
});
