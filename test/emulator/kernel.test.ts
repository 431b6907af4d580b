// Differential test: every little-endian bpf/ program runs the same generated frames in the emulator
// and in the kernel (BPF_PROG_TEST_RUN after src/loader's loadObject); return codes, output packets
// and, at the end, the contents of every map must be identical.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadObject, mapKeys, mapLookupElem, mapUpdateElem, progTestRun, type LoadedObject } from '../../src/loader/raw.js';
import { arbAnyFrame, arbEthernet, arbFrame, arbFrameOf, arbIpv4, arbPayload, arbTcp, arbTruncated, arbUdp, type Frame } from '../../src/testing/index.js';
import { Emulator } from '../../src/vm/index.js';
import { haveRoot } from '../helpers/env.js';
import { ETHERTYPE, hex, object, outerEtherType } from './spec.js';

const RUNS = Number(process.env.DIFF_RUNS ?? 250);
const PERCPU = new Set([5, 6, 10]); // BPF_MAP_TYPE_PERCPU_HASH, PERCPU_ARRAY, LRU_PERCPU_HASH
const NOT_ITERABLE = new Set([3, 4, 27]); // PROG_ARRAY, PERF_EVENT_ARRAY, RINGBUF

/** Frames BPF_PROG_TEST_RUN accepts: an Ethernet header, and a whole IPv4/IPv6 header for those EtherTypes. */
function kernelAccepts(f: Frame): boolean {
  if (f.bytes.length < 14) return false;
  const type = outerEtherType(f.layers);
  if (type === ETHERTYPE.ipv4) return f.bytes.length >= 14 + 20;
  if (type === ETHERTYPE.ipv6) return f.bytes.length >= 14 + 40;
  return true;
}

const aimed = fc.oneof(
  arbFrameOf(arbEthernet(), arbIpv4({ dst: fc.constantFrom('10.1.1.1', '10.9.9.9') }), arbTcp({ dport: fc.constantFrom(80, 8080) }), fc.option(arbPayload(24), { nil: undefined })),
  arbFrameOf(arbEthernet(), arbIpv4({ dst: fc.constantFrom('10.1.1.1', '10.9.9.9') }), arbUdp({ dport: fc.constantFrom(53, 8080) }), fc.option(arbPayload(24), { nil: undefined })),
  arbFrameOf(arbEthernet(), arbIpv4({ src: '10.2.2.2', dst: '10.0.0.1' }), fc.oneof(arbTcp({ sport: 80, dport: 1234 }), arbUdp({ sport: 80, dport: 1234 }))),
  arbFrame(),
);
const frames = fc.oneof(aimed, arbTruncated(aimed), arbAnyFrame()).filter(kernelAccepts);

/** Sum of the per-CPU values of a per-CPU map value, as u64 words. */
function sumPerCpu(value: Uint8Array, valueSize: number): string {
  const stride = (valueSize + 7) & ~7;
  const out = new Uint8Array(valueSize);
  const sums = new BigUint64Array(Math.ceil(valueSize / 8));
  for (let off = 0; off + valueSize <= value.length; off += stride) {
    const v = new DataView(value.buffer, value.byteOffset + off, valueSize);
    for (let i = 0; i * 8 + 8 <= valueSize; i++) sums[i] = BigInt.asUintN(64, sums[i]! + v.getBigUint64(i * 8, true));
  }
  out.set(new Uint8Array(sums.buffer).subarray(0, valueSize));
  return hex(out);
}

function kernelMaps(loaded: LoadedObject): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of loaded.maps) {
    const { type, keySize, valueSize, objectName } = m.spec;
    if (NOT_ITERABLE.has(type)) continue;
    out[objectName] = mapKeys(m.fd, keySize).map((k) => {
      const v = mapLookupElem(m.fd, k)!;
      return `${hex(k)}=${PERCPU.has(type) ? sumPerCpu(v, valueSize) : hex(v.subarray(0, valueSize))}`;
    }).sort();
  }
  return out;
}

function emulatorMaps(emu: Emulator, names: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const name of names) {
    const m = emu.maps.get(name);
    const percpu = m.type.includes('PERCPU');
    out[name] = m.entries().map(([k, v]) => `${hex(k)}=${percpu ? sumPerCpu(v, m.valueSize) : hex(v)}`).sort();
  }
  return out;
}

interface Target {
  file: string;
  program?: string;
  type?: string;
  /** Map entries stored in both before the runs. */
  seed?: Record<string, (readonly [string, string])[]>;
}

const endpoint = (a: number[], port: number) => hex(Uint8Array.from([...a, port >> 8, port & 0xff, 0, 0]));
const TARGETS: Target[] = [
  { file: 'tc_drop_arp.o' },
  { file: 'tc_drop_icmp.o' },
  { file: 'tc_drop_icmp_nobtf.o' },
  { file: 'tc_drop_tcp80.o' },
  { file: 'tc_drop_tcp80_v4.o' },
  { file: 'provenance.o' },
  { file: 'provenance_egress.o', type: 'sched_cls' },
  { file: 'printk.o' },
  { file: 'globals.o' },
  { file: 'legacy_maps.o' },
  { file: 'monitor.o', program: 'monitor_ingress' },
  { file: 'monitor.o', program: 'monitor_egress' },
  { file: 'xdp_monitor.o', seed: { xdp_config: [['00000000', '35000000']] } },
  { file: 'proxy.o', program: 'proxy_egress', seed: { proxy_targets: [[endpoint([10, 1, 1, 1], 8080), endpoint([10, 2, 2, 2], 80)]] } },
  {
    file: 'proxy.o', program: 'proxy_ingress',
    seed: { proxy_reverse: [6, 17].map((proto) => [hex(Uint8Array.from([10, 2, 2, 2, 10, 0, 0, 1, 0, 80, 0x04, 0xd2, proto, 0, 0, 0])), endpoint([10, 1, 1, 1], 8080)]) },
  },
  { file: 'dnat.o', program: 'dnat_ingress', seed: { dnat_rules: [[hex(Uint8Array.from([10, 1, 1, 1, 0x1f, 0x90, 6, 0])), endpoint([10, 2, 2, 2], 80)], [hex(Uint8Array.from([10, 1, 1, 1, 0, 53, 17, 0])), endpoint([10, 2, 2, 2], 5353)]] } },
  { file: 'dnat.o', program: 'dnat_egress', seed: { conn_track: [[hex(Uint8Array.from([10, 2, 2, 2, 10, 0, 0, 1, 0, 80, 0x04, 0xd2])), endpoint([10, 1, 1, 1], 8080)]] } },
];

const bytes = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));

describe.skipIf(!haveRoot())('emulator and kernel agree (BPF_PROG_TEST_RUN)', () => {
  for (const t of TARGETS) {
    it(`${t.file}${t.program ? ` ${t.program}` : ''}: return code, output packet and maps`, () => {
      const file = object(t.file);
      const loaded = loadObject(file, { ...(t.program ? { programs: [t.program] } : {}), ...(t.type ? { type: t.type } : {}), objectName: 'difftest' });
      try {
        // Compiled from the first packet, and the interpreter alone (the reference): both against the kernel.
        const emus = [true, false].map((compile) =>
          Emulator.fromObject(file, { ...(t.program ? { program: t.program } : {}), ...(t.type ? { type: t.type } : {}), compile }));
        for (const [name, entries] of Object.entries(t.seed ?? {})) {
          const km = loaded.maps.find((m) => m.spec.objectName === name)!;
          for (const [k, v] of entries) {
            mapUpdateElem(km.fd, bytes(k), bytes(v));
            for (const emu of emus) emu.maps.get(name).update(bytes(k), bytes(v));
          }
        }
        const prog = loaded.programs[0]!;
        fc.assert(
          fc.property(frames, (f) => {
            const k = progTestRun(prog.fd, { dataIn: f.bytes });
            for (const emu of emus) {
              const e = emu.run(f.bytes);
              expect({ retval: e.retval, packet: hex(e.packet) }).toEqual({ retval: k.retval, packet: hex(k.dataOut ?? new Uint8Array()) });
            }
          }),
          { numRuns: RUNS },
        );
        const inKernel = kernelMaps(loaded);
        for (const emu of emus) expect(emulatorMaps(emu, Object.keys(inKernel))).toEqual(inKernel);
      } finally {
        loaded.close();
      }
    });
  }
});
