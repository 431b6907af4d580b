// bpfts load/detach/show/map dump end to end, in two network namespaces joined by a veth pair that
// this test creates (addresses 10.199.X.1/24 and .2/24 exist only inside them). The CLI runs as a
// child process; `ip`, `ping` and `tc` are the independent oracles of what happened to traffic.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveRoot, repoRoot, tool } from '../helpers/env.js';
import { NamespacePair, sh } from './namespace-pair.js';

const root = haveRoot();
const tc = root ? tool('tc') : undefined;
const python = root ? tool('python3') : undefined;
const cli = join(repoRoot, 'dist', 'cli', 'main.js');
const obj = (f: string) => join(repoRoot, 'bpf', 'build', 'bpfel', f);

const id = randomBytes(3).toString('hex');
const pair = new NamespacePair(id, 'e2e', '10.199');
const { nsA, nsB, devA, devB, addrB } = pair;
const connects = (port: number, addr?: string) => pair.connects(port, addr);
const pinDir = `/sys/fs/bpf/bpfts-e2e-${id}`;

function bpfts(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function ok(...args: string[]): string {
  const r = bpfts(...args);
  if (r.code !== 0) throw new Error(`bpfts ${args.join(' ')} exited ${r.code}: ${r.err}`);
  return r.out;
}

/** Map-update hex of struct endpoint (proxy.c, dnat.c), or with `proto` of dnat.c's struct dnat_key: same layout. */
function endpointHex(addr: string, port: number, proto = 0): string {
  return [...addr.split('.').map(Number), port >> 8, port & 0xff, proto, 0].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Makes A send frames for `addr`, an address no interface has, to B's MAC. */
function resolveToB(addr: string): void {
  const mac = (JSON.parse(sh('ip', ['-n', nsB, '-j', 'link', 'show', devB])) as { address: string }[])[0]!.address;
  sh('ip', ['-n', nsA, 'neigh', 'replace', addr, 'lladdr', mac, 'dev', devA]);
}

// ICMP echo over a raw socket (the machine has no ping): exits 0 when every request got its reply.
const PING = `
import socket, struct, sys, time
dst, n = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(1.0)
def csum(b):
    t = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    t = (t >> 16) + (t & 0xffff); t += t >> 16
    return ~t & 0xffff
got = 0
for seq in range(n):
    body = struct.pack('!BBHHH', 8, 0, 0, 0x4242, seq) + b'bpfts'*4
    s.sendto(struct.pack('!BBHHH', 8, 0, csum(body), 0x4242, seq) + body[8:], (dst, 0))
    end = time.time() + 1.0
    while time.time() < end:
        try:
            data, _ = s.recvfrom(2048)
        except socket.timeout:
            break
        ihl = (data[0] & 15) * 4
        t, _c, _k, ident, sq = struct.unpack('!BBHHH', data[ihl:ihl + 8])
        if t == 0 and ident == 0x4242 and sq == seq:
            got += 1
            break
    time.sleep(0.05)
sys.exit(0 if got == n else 1)
`;

/** Whether \`count\` ICMP echo requests from A to B all get their reply. */
function pings(count = 1): boolean {
  return spawnSync('ip', ['netns', 'exec', nsA, python!, '-c', PING, addrB, String(count)], { stdio: 'ignore', timeout: 30_000 }).status === 0;
}

function qdiscs(ns: string, dev: string): string {
  return sh('ip', ['netns', 'exec', ns, tc!, 'qdisc', 'show', 'dev', dev]);
}

interface TcFilterJson { options?: { 'direct-action'?: boolean; prog?: { id: number; tag: string } } }

function tcFilters(ns: string, dev: string, dir: string): TcFilterJson[] {
  return JSON.parse(sh('ip', ['netns', 'exec', ns, tc!, '-j', 'filter', 'show', 'dev', dev, dir]) || '[]') as TcFilterJson[];
}

describe.skipIf(!root || !tc || !python)('bpfts end to end in network namespaces', () => {
  beforeAll(() => {
    if (!existsSync(cli)) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: repoRoot, stdio: 'ignore' });
    pair.up();
  }, 60_000);

  afterAll(() => {
    pair.down();
    spawnSync('rm', ['-rf', pinDir]);
    // Nothing of this run may remain: namespaces (and with them veths, qdiscs, filters), pins, tcx link pins.
    const left = sh('ip', ['netns', 'list']);
    expect(left).not.toContain(id);
    expect(existsSync(pinDir)).toBe(false);
    const tcxRoot = '/sys/fs/bpf/bpfts/tcx';
    if (existsSync(tcxRoot)) expect(readdirSync(tcxRoot)).not.toContain(nsB);
  });

  it('drop-ICMP on ingress: ping fails after load, works after detach, and the qdisc goes again', () => {
    expect(pings()).toBe(true);
    const out = ok('load', obj('tc_drop_icmp.o'), '--tc', 'ingress', devB, '--netns', nsB);
    expect(out).toMatch(/attached to .* ingress: tc filter pref 1 handle 0x1 bpf direct-action \(clsact qdisc added\)/);
    expect(pings()).toBe(false);
    expect(tcFilters(nsB, devB, 'ingress')[1]?.options?.['direct-action']).toBe(true);
    ok('detach', '--tc', 'ingress', devB, '--netns', nsB);
    expect(pings()).toBe(true);
    expect(qdiscs(nsB, devB)).not.toContain('clsact');
  });

  it('drop-TCP/80: port 80 is refused while 8080 connects', () => {
    expect(connects(80)).toBe(true);
    ok('load', obj('tc_drop_tcp80.o'), '--tc', 'ingress', devB, '--netns', nsB);
    try {
      expect(connects(80)).toBe(false);
      expect(connects(8080)).toBe(true);
    } finally {
      ok('detach', '--tc', 'ingress', devB, '--netns', nsB);
    }
    expect(connects(80)).toBe(true);
  });

  it('drop-ARP: neighbour resolution fails while the filter is attached', () => {
    ok('load', obj('tc_drop_arp.o'), '--tc', 'ingress', devB, '--netns', nsB);
    try {
      sh('ip', ['-n', nsA, 'neigh', 'flush', 'dev', devA]);
      expect(pings()).toBe(false);
      expect(sh('ip', ['-n', nsA, 'neigh', 'show', 'dev', devA])).not.toContain('lladdr');
    } finally {
      ok('detach', '--tc', 'ingress', devB, '--netns', nsB);
    }
    expect(pings()).toBe(true);
  });

  it('a second load on a taken priority is refused and changes nothing; --replace replaces', () => {
    ok('load', obj('tc_drop_icmp.o'), '--tc', 'ingress', devB, '--netns', nsB);
    try {
      const before = tcFilters(nsB, devB, 'ingress')[1]?.options?.prog?.id;
      const r = bpfts('load', obj('tc_drop_arp.o'), '--tc', 'ingress', devB, '--netns', nsB);
      expect(r.code).toBe(1);
      expect(r.err).toContain('--replace');
      expect(tcFilters(nsB, devB, 'ingress')[1]?.options?.prog?.id).toBe(before);
      ok('load', obj('tc_drop_tcp80.o'), '--tc', 'ingress', devB, '--netns', nsB, '--replace');
      expect(tcFilters(nsB, devB, 'ingress')[1]?.options?.prog?.id).not.toBe(before);
      expect(pings()).toBe(true);
    } finally {
      ok('detach', '--tc', 'ingress', devB, '--netns', nsB);
    }
  });

  it('provenance_egress.o (section egress) attaches on egress with the tag tc gives the same object', () => {
    const r = bpfts('load', obj('provenance_egress.o'), '--tc', 'egress', devA, '--netns', nsA, '--json');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/section 'egress'.*SEC\("tc"\)/);
    try {
      const ours = tcFilters(nsA, devA, 'egress')[1]!.options!;
      expect(ours['direct-action']).toBe(true);
      sh('ip', ['netns', 'exec', nsB, tc!, 'qdisc', 'add', 'dev', devB, 'clsact']);
      try {
        sh('ip', ['netns', 'exec', nsB, tc!, 'filter', 'add', 'dev', devB, 'egress', 'bpf', 'da', 'obj', obj('provenance_egress.o'), 'sec', 'egress']);
        const theirs = tcFilters(nsB, devB, 'egress')[1]!.options!;
        expect(ours.prog!.tag).toBe(theirs.prog!.tag);
        expect(JSON.parse(r.out).programs[0].tag).toBe(theirs.prog!.tag);
      } finally {
        sh('ip', ['netns', 'exec', nsB, tc!, 'qdisc', 'del', 'dev', devB, 'clsact']);
      }
    } finally {
      ok('detach', '--tc', 'egress', devA, '--netns', nsA);
    }
  });

  it('the packet monitor counts exactly the pings sent, read back with map dump --json', () => {
    ok('load', obj('monitor.o'), '--prog', 'monitor_ingress', '--tc', 'ingress', devB, '--netns', nsB, '--pin', pinDir);
    try {
      expect(pings(5)).toBe(true);
      const dump = JSON.parse(ok('map', 'dump', `${pinDir}/flows`, '--json')) as { formatted: { key: Record<string, number>; value: { packets: number } } }[];
      const icmp = dump.filter((e) => e.formatted.key.proto === 1 && e.formatted.key.direction === 0);
      expect(icmp).toHaveLength(1);
      expect(icmp[0]!.formatted.value.packets).toBe(5);
    } finally {
      ok('detach', '--tc', 'ingress', devB, '--netns', nsB);
    }
  });

  it('tcx: a pinned link drops ICMP until detached, and leaves no pin behind', () => {
    const out = ok('load', obj('tc_drop_icmp.o'), '--tcx', 'ingress', devB, '--netns', nsB);
    expect(out).toContain('tcx link pinned at /sys/fs/bpf/bpfts/tcx/');
    expect(pings()).toBe(false);
    // show names the link's program as bpftool sees the pinned link.
    const shown = JSON.parse(ok('show', devB, '--netns', nsB, '--json')) as { tcx: { pin: string; linkId: number; prog: { id: number; name: string } }[] }[];
    const l = shown[0]!.tcx[0]!;
    const theirs = JSON.parse(sh('bpftool', ['-j', 'link', 'show', 'pinned', l.pin])) as { id: number; prog_id: number };
    expect([l.linkId, l.prog.id]).toEqual([theirs.id, theirs.prog_id]);
    expect(l.prog.name).toBe('drop_icmp');
    ok('detach', '--tcx', 'ingress', devB, '--netns', nsB);
    expect(pings()).toBe(true);
    expect(existsSync(`/sys/fs/bpf/bpfts/tcx/${nsB}`)).toBe(false);
  });

  it('XDP (generic mode) counts ICMP per protocol; show reports it; detach removes it', () => {
    ok('load', obj('xdp_monitor.o'), '--xdp', devB, '--mode', 'skb', '--netns', nsB, '--pin', `${pinDir}/xdp`);
    try {
      const shown = JSON.parse(ok('show', devB, '--netns', nsB, '--json')) as { xdp: { mode: string; prog: { name: string } } }[];
      expect(shown[0]!.xdp.mode).toBe('skb');
      expect(shown[0]!.xdp.prog.name).toBe('xdp_monitor');
      expect(pings(3)).toBe(true);
      const dump = JSON.parse(ok('map', 'dump', `${pinDir}/xdp/proto_count`, '--json')) as { key: string; formatted: { value: number[] } }[];
      const icmp = dump.find((e) => e.key === '01 00 00 00')!;
      expect(icmp.formatted.value.reduce((a, b) => a + b, 0)).toBe(3);
    } finally {
      ok('detach', '--xdp', devB, '--netns', nsB);
    }
    expect(sh('ip', ['-n', nsB, 'link', 'show', devB])).not.toContain('xdp');
  });

  it('proxy: a client connecting to an address that does not exist reaches the proxied server and gets its replies from that address', () => {
    const virtual = pair.host(99);
    // The rewrite happens after neighbour resolution, so the virtual address needs B's MAC.
    resolveToB(virtual);
    const pins = `${pinDir}/proxy`;
    ok('load', obj('proxy.o'), '--prog', 'proxy_egress', '--tc', 'egress', devA, '--netns', nsA, '--pin', pins);
    try {
      ok('load', obj('proxy.o'), '--prog', 'proxy_ingress', '--tc', 'ingress', devA, '--netns', nsA, '--pin', pins);
      expect(connects(80, virtual)).toBe(false);
      ok('map', 'update', `${pins}/proxy_targets`, '--key', endpointHex(virtual, 80), '--value', endpointHex(addrB, 8080));
      expect(connects(80, virtual)).toBe(true);
      const reverse = JSON.parse(ok('map', 'dump', `${pins}/proxy_reverse`, '--json')) as unknown[];
      expect(reverse.length).toBeGreaterThan(0);
    } finally {
      spawnSync(process.execPath, [cli, 'detach', '--tc', 'ingress', devA, '--netns', nsA]);
      ok('detach', '--tc', 'egress', devA, '--netns', nsA);
      sh('ip', ['-n', nsA, 'neigh', 'del', virtual, 'dev', devA]);
    }
    expect(qdiscs(nsA, devA)).not.toContain('clsact');
  });

  it('DNAT: a client connecting to a translated address reaches the real server, and the replies come from the address it dialled', () => {
    const virtual = pair.host(98);
    const tcp = 6;
    // A resolves the translated address to B's MAC: the address itself exists nowhere.
    resolveToB(virtual);
    const pins = `${pinDir}/dnat`;
    ok('load', obj('dnat.o'), '--prog', 'dnat_ingress', '--tc', 'ingress', devB, '--netns', nsB, '--pin', pins);
    try {
      ok('load', obj('dnat.o'), '--prog', 'dnat_egress', '--tc', 'egress', devB, '--netns', nsB, '--pin', pins);
      expect(connects(80, virtual)).toBe(false);
      ok('map', 'update', `${pins}/dnat_rules`, '--key', endpointHex(virtual, 80, tcp), '--value', endpointHex(addrB, 8080));
      // The handshake only completes when the SYN-ACK comes from virtual:80, which egress restores.
      expect(connects(80, virtual)).toBe(true);
      const tracked = JSON.parse(ok('map', 'dump', `${pins}/conn_track`, '--json')) as { key: string; value: string }[];
      expect(tracked.length).toBeGreaterThan(0);
      expect(tracked.every((e) => e.value === endpointHex(virtual, 80))).toBe(true);
      expect(tracked.some((e) => e.key.startsWith(endpointHex(addrB, 0).slice(0, 11)))).toBe(true);
    } finally {
      spawnSync(process.execPath, [cli, 'detach', '--tc', 'egress', devB, '--netns', nsB]);
      ok('detach', '--tc', 'ingress', devB, '--netns', nsB);
      sh('ip', ['-n', nsA, 'neigh', 'del', virtual, 'dev', devA]);
    }
    expect(qdiscs(nsB, devB)).not.toContain('clsact');
    expect(connects(8080)).toBe(true);
  });

  it('a verifier failure prints the log and leaves no filter, qdisc or pin', () => {
    const r = bpfts('load', obj('xdp_monitor.o'), '--type', 'classifier', '--tc', 'ingress', devB, '--netns', nsB, '--pin', `${pinDir}/bad`);
    expect(r.code).toBe(1);
    expect(r.err).toContain('verifier');
    expect(qdiscs(nsB, devB)).not.toContain('clsact');
    expect(existsSync(`${pinDir}/bad`)).toBe(false);
  });

  it('prog list and map list agree with bpftool about a loaded object', () => {
    const pins = `${pinDir}/lists`;
    const loaded = JSON.parse(ok('load', obj('monitor.o'), '--type', 'classifier', '--pin', pins, '--json')) as { programs: { id: number; tag: string }[] };
    const progs = JSON.parse(ok('prog', 'list', '--json')) as { id: number; tag: string; name: string; type: string; mapIds: number[] }[];
    for (const p of loaded.programs) {
      const theirs = JSON.parse(sh('bpftool', ['-j', 'prog', 'show', 'id', String(p.id)])) as { tag: string; name: string; type: string; map_ids: number[] };
      const ours = progs.find((x) => x.id === p.id)!;
      expect([ours.tag, ours.name, ours.type, ours.mapIds]).toEqual([theirs.tag, theirs.name, theirs.type, theirs.map_ids]);
      const maps = JSON.parse(ok('map', 'list', '--json')) as { id: number; name: string; type: string; maxEntries: number }[];
      for (const id of theirs.map_ids) {
        const m = JSON.parse(sh('bpftool', ['-j', 'map', 'show', 'id', String(id)])) as { name: string; type: string; max_entries: number };
        expect(maps.find((x) => x.id === id)).toMatchObject({ name: m.name, type: m.type, maxEntries: m.max_entries });
      }
    }
    spawnSync('rm', ['-rf', pins]);
  });

  it('rejects bad device names and works only for root', () => {
    const r = bpfts('load', obj('tc_drop_icmp.o'), '--tc', 'ingress', 'a/b', '--netns', nsB);
    expect(r.code).toBe(1);
    expect(r.err).toContain('not a valid network device name');
  });
});
