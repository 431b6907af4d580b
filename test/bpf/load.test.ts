// Loads the little-endian objects into the running kernel with bpftool (libbpf 1.1) and
// checks what the kernel reports against bpf/programs.json; then runs the programs on
// crafted frames with BPF_PROG_TEST_RUN (`bpftool prog run`) and checks their verdicts
// and rewrites.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bpftoolLoadall, withBpftoolLoadall } from '../helpers/bpftool.js';
import { haveRoot, tool } from '../helpers/env.js';
import { loadManifest, objectPath, type ManifestObject } from './manifest.js';
import {
  arpFrame,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  ipv4,
  ipv4Frame,
  parseIpv4Frame,
} from './packets.js';

const manifest = loadManifest();
const root = haveRoot();
const bpftool = tool('bpftool');

// include/uapi/linux/pkt_cls.h and include/uapi/linux/bpf.h (enum xdp_action)
const TC_ACT_OK = 0;
const TC_ACT_SHOT = 2;
const XDP_DROP = 1;
const XDP_PASS = 2;
// Kernel object names are cut to BPF_OBJ_NAME_LEN - 1 characters (include/uapi/linux/bpf.h).
const BPF_OBJ_NAME_LEN = 16;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[]): Run {
  const r = spawnSync(bpftool!, args, { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function runJson<T>(args: string[]): T {
  const r = run(['-j', ...args]);
  if (r.status !== 0) throw new Error(`bpftool ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

function hex(bytes: Buffer): string[] {
  return ['hex', ...[...bytes].map((b) => b.toString(16).padStart(2, '0'))];
}

function hostU32(value: number): Buffer {
  const b = Buffer.alloc(4);
  if (endianness() === 'LE') b.writeUInt32LE(value);
  else b.writeUInt32BE(value);
  return b;
}

/** An object loaded with `bpftool prog loadall`, programs and maps pinned in a fresh bpffs dir. */
class Loaded {
  readonly dir = mkdtempSync('/sys/fs/bpf/bpfts-test-');
  readonly progs = join(this.dir, 'progs');
  readonly maps = join(this.dir, 'maps');

  prog(fn: string): string {
    return join(this.progs, fn);
  }

  map(name: string): string {
    return join(this.maps, name);
  }

  /** Runs a program once on frame; returns its verdict and the frame as it left. */
  testRun(fn: string, frame: Buffer): { retval: number; out: Buffer } {
    const work = mkdtempSync(join(tmpdir(), 'bpfts-run-'));
    try {
      const input = join(work, 'in');
      const output = join(work, 'out');
      writeFileSync(input, frame);
      const r = runJson<{ retval: number }>(['prog', 'run', 'pinned', this.prog(fn), 'data_in', input, 'data_out', output]);
      return { retval: r.retval, out: readFileSync(output) };
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function withLoaded(file: string, body: (l: Loaded) => void): void {
  const l = new Loaded();
  try {
    withBpftoolLoadall(bpftool!, objectPath('bpfel', file), l.progs, (r) => {
      expect(r.status, r.stderr).toBe(0);
      body(l);
    }, ['pinmaps', l.maps]);
  } finally {
    l.cleanup();
  }
}

const loadable = manifest.objects.filter((o) => o.expectLoad === 'ok');
const refused = manifest.objects.filter((o) => o.expectLoad !== 'ok');

describe.skipIf(!root || !bpftool)('bpftool prog loadall', () => {
  it.each(loadable.map((o) => [o.file, o] as const))('%s loads and matches the manifest', (_file, obj: ManifestObject) => {
    withLoaded(obj.file, (l) => {
      for (const p of obj.programs) {
        const info = runJson<{ type: string; name: string }>(['prog', 'show', 'pinned', l.prog(p.function)]);
        expect(info.type).toBe(p.progType);
        expect(info.name).toBe(p.function.slice(0, BPF_OBJ_NAME_LEN - 1));
      }
      for (const m of obj.maps) {
        const info = runJson<{ type: string; name: string; bytes_key: number; bytes_value: number; max_entries: number }>(
          ['map', 'show', 'pinned', l.map(m.name)],
        );
        expect(info).toMatchObject({
          type: m.type,
          name: m.name.slice(0, BPF_OBJ_NAME_LEN - 1),
          bytes_key: m.keySize,
          bytes_value: m.valueSize,
          max_entries: m.maxEntries,
        });
      }
    });
  });

  it.each(refused.map((o) => [o.file, o] as const))('%s is refused the documented way', (_file, obj: ManifestObject) => {
    const l = new Loaded();
    try {
      const r = bpftoolLoadall(bpftool!, objectPath('bpfel', obj.file), l.progs, ['pinmaps', l.maps]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(obj.expectLoad);
      expect(r.pinned).toEqual([]);
    } finally {
      l.cleanup();
    }
  });

  it('provenance_egress.o loads with an explicit program type although its section is unknown', () => {
    const l = new Loaded();
    try {
      withBpftoolLoadall(bpftool!, objectPath('bpfel', 'provenance_egress.o'), l.progs, (r) => {
        expect(r.status, r.stderr).toBe(0);
        expect(runJson<{ type: string }>(['prog', 'show', 'pinned', l.prog('provenance')]).type).toBe('sched_cls');
      }, ['type', 'classifier']);
    } finally {
      l.cleanup();
    }
  });
});

describe.skipIf(!root || !bpftool)('programs on crafted frames (BPF_PROG_TEST_RUN)', () => {
  const tcp = (dport: number, sport = 40000): Buffer =>
    ipv4Frame({ src: '10.0.0.1', dst: '10.0.0.2', proto: IPPROTO_TCP, sport, dport });
  const udp = (dport: number): Buffer =>
    ipv4Frame({ src: '10.0.0.1', dst: '10.0.0.2', proto: IPPROTO_UDP, sport: 40000, dport });
  const icmp = ipv4Frame({ src: '10.0.0.1', dst: '10.0.0.2', proto: IPPROTO_ICMP });
  const ETH_IP = 14 + 20;
  // The kernel's test run refuses IPv4 frames too short for an IP header, so malformed
  // headers stand in for frames truncated there.
  const withIpLength = (frame: Buffer, totLen: number): Buffer => {
    const f = Buffer.from(frame);
    f.writeUInt16BE(totLen, 14 + 2);
    return f;
  };
  const withIhl = (frame: Buffer, ihl: number): Buffer => {
    const f = Buffer.from(frame);
    f[14] = 0x40 | ihl;
    return f;
  };

  const verdicts: [file: string, fn: string, what: string, frame: Buffer, verdict: number][] = [
    ['tc_drop_arp.o', 'drop_arp', 'ARP', arpFrame(), TC_ACT_SHOT],
    ['tc_drop_arp.o', 'drop_arp', 'TCP', tcp(80), TC_ACT_OK],
    ['tc_drop_icmp.o', 'drop_icmp', 'ICMP', icmp, TC_ACT_SHOT],
    ['tc_drop_icmp.o', 'drop_icmp', 'UDP', udp(53), TC_ACT_OK],
    ['tc_drop_icmp.o', 'drop_icmp', 'ARP', arpFrame(), TC_ACT_OK],
    ['tc_drop_icmp_nobtf.o', 'drop_icmp', 'ICMP', icmp, TC_ACT_SHOT],
    ['tc_drop_icmp_nobtf.o', 'drop_icmp', 'UDP', udp(53), TC_ACT_OK],
    ...(['tc_drop_tcp80.o', 'tc_drop_tcp80_v4.o'] as const).flatMap(
      (file): [string, string, string, Buffer, number][] => [
        [file, 'drop_tcp80', 'TCP to port 80', tcp(80), TC_ACT_SHOT],
        [file, 'drop_tcp80', 'TCP to port 8080', tcp(8080), TC_ACT_OK],
        [file, 'drop_tcp80', 'TCP from port 80', tcp(40000, 80), TC_ACT_OK],
        [file, 'drop_tcp80', 'UDP to port 80', udp(80), TC_ACT_OK],
        [file, 'drop_tcp80', 'TCP to port 80 cut inside the TCP header', tcp(80).subarray(0, ETH_IP + 10), TC_ACT_OK],
        [file, 'drop_tcp80', 'TCP to port 80 whose IP length ends inside the TCP header', withIpLength(tcp(80), 20 + 10), TC_ACT_OK],
        [file, 'drop_tcp80', 'TCP to port 80 with IHL below 5', withIhl(tcp(80), 4), TC_ACT_OK],
      ],
    ),
  ];

  it.each(verdicts)('%s %s: %s', (file, fn, _what, frame, verdict) => {
    withLoaded(file, (l) => {
      expect(l.testRun(fn, frame).retval).toBe(verdict);
    });
  });

  it('xdp_monitor drops UDP to the configured port and counts per protocol', () => {
    withLoaded('xdp_monitor.o', (l) => {
      expect(l.testRun('xdp_monitor', udp(5353)).retval).toBe(XDP_PASS);
      run(['map', 'update', 'pinned', l.map('xdp_config'), 'key', ...hex(hostU32(0)), 'value', ...hex(hostU32(5353))]);
      expect(l.testRun('xdp_monitor', udp(5353)).retval).toBe(XDP_DROP);
      expect(l.testRun('xdp_monitor', udp(53)).retval).toBe(XDP_PASS);
      expect(l.testRun('xdp_monitor', tcp(5353)).retval).toBe(XDP_PASS);
      const counted = (proto: number): number =>
        runJson<{ formatted: { values: { value: number }[] } }>([
          'map', 'lookup', 'pinned', l.map('proto_count'), 'key', ...hex(hostU32(proto)),
        ]).formatted.values.reduce((sum, v) => sum + v.value, 0);
      expect(counted(IPPROTO_UDP)).toBe(3);
      expect(counted(IPPROTO_TCP)).toBe(1);
      expect(counted(IPPROTO_ICMP)).toBe(0);
    });
  });

  // Key and value layout of struct endpoint in proxy.c / dnat.c: addr, port (network order), pad;
  // dnat.c's struct dnat_key is the same with the protocol in the first pad byte.
  const endpoint = (addr: string, port: number, proto = 0): Buffer => {
    const b = Buffer.alloc(8);
    ipv4(addr).copy(b, 0);
    b.writeUInt16BE(port, 4);
    b[6] = proto;
    return b;
  };

  /** Runs `fn` on `input`: it must let the frame pass with addresses and ports rewritten to `want` and valid checksums. */
  const expectRewrite = (l: Loaded, fn: string, input: Buffer, want: { src: string; sport: number; dst: string; dport: number }): void => {
    const out = l.testRun(fn, input);
    expect(out.retval).toBe(TC_ACT_OK);
    expect(parseIpv4Frame(out.out)).toEqual({ ...want, ipChecksumOk: true, l4ChecksumOk: true });
  };

  for (const proto of [IPPROTO_TCP, IPPROTO_UDP]) {
    const name = proto === IPPROTO_TCP ? 'TCP' : 'UDP';
    const frame = (src: string, sport: number, dst: string, dport: number): Buffer =>
      ipv4Frame({ src, dst, proto, sport, dport });

    it(`proxy redirects ${name} on egress and restores replies on ingress, checksums valid`, () => {
      withLoaded('proxy.o', (l) => {
        const upd = run([
          'map', 'update', 'pinned', l.map('proxy_targets'),
          'key', ...hex(endpoint('10.0.0.2', 80)), 'value', ...hex(endpoint('10.0.0.9', 8080)),
        ]);
        expect(upd.status, upd.stderr).toBe(0);

        expectRewrite(l, 'proxy_egress', frame('10.0.0.1', 40000, '10.0.0.2', 80), { src: '10.0.0.1', sport: 40000, dst: '10.0.0.9', dport: 8080 });
        expectRewrite(l, 'proxy_ingress', frame('10.0.0.9', 8080, '10.0.0.1', 40000), { src: '10.0.0.2', sport: 80, dst: '10.0.0.1', dport: 40000 });

        const other = frame('10.0.0.1', 40000, '10.0.0.3', 80);
        expect(l.testRun('proxy_egress', other).out.equals(other)).toBe(true);
      });
    });

    it(`dnat rewrites ${name} on ingress and restores replies on egress, checksums valid`, () => {
      withLoaded('dnat.o', (l) => {
        const upd = run([
          'map', 'update', 'pinned', l.map('dnat_rules'),
          'key', ...hex(endpoint('10.0.0.2', 80, proto)), 'value', ...hex(endpoint('10.0.0.9', 8080)),
        ]);
        expect(upd.status, upd.stderr).toBe(0);

        expectRewrite(l, 'dnat_ingress', frame('192.0.2.7', 50000, '10.0.0.2', 80), { src: '192.0.2.7', sport: 50000, dst: '10.0.0.9', dport: 8080 });
        expectRewrite(l, 'dnat_egress', frame('10.0.0.9', 8080, '192.0.2.7', 50000), { src: '10.0.0.2', sport: 80, dst: '192.0.2.7', dport: 50000 });

        const unrelated = frame('10.0.0.9', 8080, '192.0.2.8', 50000);
        expect(l.testRun('dnat_egress', unrelated).out.equals(unrelated)).toBe(true);
      });
    });
  }
});
