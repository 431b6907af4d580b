// Two `bpfts load --tc` on one device at once, and `bpfts detach` while `bpfts map dump --watch`
// reads a map of the detached program. The fault hook holds one load right after it added the
// clsact qdisc, so the other runs inside that window every time; a free-running race is tried too.
// tc, bpftool and the kernel's object ids are the oracles.
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { objectPath } from '../bpf/manifest.js';
import { arpFrame, ipv4Frame, IPPROTO_ICMP } from '../bpf/packets.js';
import { haveRoot, repoRoot, tool } from '../helpers/env.js';
import { ensureBuilt } from '../cli/run-cli.js';
import { DEV, holdFile, netState, reportedCreated, runCli, stillAlive, type ChildResult } from './fault-bench.js';
import { TestNetns } from './fixtures.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

const root = haveRoot();
const tools = root && !!tool('bpftool') && !!tool('tc') && !!tool('ip');
if (root && !tools) console.warn('\n*** SKIPPING: the loader concurrency tests need bpftool, tc and ip (BPFTS_REQUIRE_TOOLS) ***\n');
if (root && !tools && process.env.BPFTS_REQUIRE_TOOLS === '1') throw new Error('bpftool, tc and ip are required (BPFTS_REQUIRE_TOOLS=1)');

const TC_ACT_OK = 0;
const TC_ACT_SHOT = 2;

interface ShownFilter { pref: number; kind: string; options?: { handle: string; bpf_name?: string; prog?: { id: number } } }

function filters(ns: TestNetns, hook = 'ingress'): ShownFilter[] {
  return (JSON.parse(execFileSync('tc', ['-j', '-n', ns.name, 'filter', 'show', 'dev', DEV, hook], { encoding: 'utf8' }) || '[]') as ShownFilter[])
    .filter((f) => f.options);
}

/** The verdict of the program with this id on a frame, by `bpftool prog run`. */
function verdict(progId: number, frame: Buffer): number {
  const dir = mkdtempSync(join(tmpdir(), 'bpfts-conc-'));
  try {
    writeFileSync(join(dir, 'in'), frame);
    const r = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'run', 'id', String(progId), 'data_in', join(dir, 'in'), 'data_out', join(dir, 'out')], { encoding: 'utf8' })) as { retval: number };
    return r.retval;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const icmp = ipv4Frame({ src: '10.0.0.1', dst: '10.0.0.2', proto: IPPROTO_ICMP });
const load = (ns: TestNetns, file: string, extra: string[] = []) => ['load', objectPath('bpfel', file), '--tc', 'ingress', DEV, '--netns', ns.name, ...extra];

describe.skipIf(!root || !tools)('bpfts commands running at the same time', () => {
  let ns: TestNetns;
  beforeAll(() => ensureBuilt());
  beforeEach(() => { ns = new TestNetns(); });
  afterEach(() => ns?.destroy());

  it('a load that finds a filter put there while it was held fails cleanly and keeps the other\'s qdisc and filter', async () => {
    const net0 = netState(ns);
    let other: ChildResult | undefined;
    // A holds just after adding the clsact qdisc; B attaches at the same priority meanwhile.
    const gate = holdFile();
    const a = await runCli(load(ns, 'tc_drop_arp.o'), `report,kind=RTM_GETTFILTER,at=1,pause=60000,release=${gate}`, undefined, async () => {
      other = await runCli(load(ns, 'tc_drop_icmp.o'), '');
      rmSync(gate);
    });
    expect(other?.code, other?.stderr).toBe(0);
    expect(other?.stdout).not.toContain('clsact qdisc added');
    expect(a.code, a.stderr).toBe(1);
    expect(a.stderr).toMatch(/bpfts load: error: veth0 already has a ingress filter with priority 1 and handle 1 \(tc_drop_icmp\.o:\[tc\]\)/);
    expect(a.stderr).not.toMatch(/could not undo/);
    expect(await stillAlive(reportedCreated(a.stderr))).toEqual([]);
    // B's filter is still there, on the qdisc A added, and drops ICMP.
    const left = filters(ns);
    expect(left.map((f) => [f.pref, f.options!.handle, f.options!.bpf_name])).toEqual([[1, '0x1', 'tc_drop_icmp.o:[tc]']]);
    expect(verdict(left[0]!.options!.prog!.id, icmp)).toBe(TC_ACT_SHOT);
    expect(verdict(left[0]!.options!.prog!.id, arpFrame())).toBe(TC_ACT_OK);
    const d = await runCli(['detach', '--tc', 'ingress', DEV, '--netns', ns.name], '');
    expect(d.code, d.stderr).toBe(0);
    expect(netState(ns)).toEqual(net0);
  });

  it('two loads at different priorities both attach although one was held inside the other\'s qdisc window', async () => {
    const net0 = netState(ns);
    let other: ChildResult | undefined;
    const gate = holdFile();
    const a = await runCli(load(ns, 'tc_drop_arp.o', ['--prio', '1']), `kind=RTM_GETTFILTER,at=1,pause=60000,release=${gate}`, undefined, async () => {
      other = await runCli(load(ns, 'tc_drop_icmp.o', ['--prio', '2']), '');
      rmSync(gate);
    });
    expect(other?.code, other?.stderr).toBe(0);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toContain('(clsact qdisc added)');
    const shown = filters(ns);
    expect(shown.map((f) => [f.pref, f.options!.bpf_name]).sort()).toEqual([[1, 'tc_drop_arp.o:[classifier]'], [2, 'tc_drop_icmp.o:[tc]']]);
    // Detaching the one that added the qdisc leaves the qdisc to the other.
    const d1 = await runCli(['detach', '--tc', 'ingress', DEV, '--prio', '1', '--handle', '1', '--netns', ns.name], '');
    expect(d1.code, d1.stderr).toBe(0);
    expect(d1.stdout).not.toContain('removed the clsact qdisc');
    expect(filters(ns).map((f) => f.pref)).toEqual([2]);
    const d2 = await runCli(['detach', '--tc', 'ingress', DEV, '--netns', ns.name], '');
    expect(d2.code, d2.stderr).toBe(0);
    expect(netState(ns)).toEqual(net0);
  });

  it('two loads racing freely for the same priority: one filter works, the other command succeeds or fails cleanly', async () => {
    const net0 = netState(ns);
    for (let round = 0; round < 3; round++) {
      const [a, b] = await Promise.all([runCli(load(ns, 'tc_drop_arp.o'), 'report'), runCli(load(ns, 'tc_drop_icmp.o'), 'report')]);
      const results = [{ r: a, name: 'tc_drop_arp.o:[classifier]' }, { r: b, name: 'tc_drop_icmp.o:[tc]' }];
      for (const { r } of results) {
        expect([0, 1], r.stderr).toContain(r.code);
        if (r.code === 1) {
          expect(r.stderr).toMatch(/bpfts load: error: (veth0 already has a ingress filter|tc filter: add tc ingress filter pref 1 handle 1 on veth0 failed with EEXIST)/);
          expect(r.stderr).not.toMatch(/could not undo|internal error/);
          expect(await stillAlive(reportedCreated(r.stderr))).toEqual([]);
        }
      }
      const shown = filters(ns);
      expect(shown).toHaveLength(1);
      const winner = results.find((x) => x.name === shown[0]!.options!.bpf_name)!;
      expect(winner.r.code, winner.r.stderr).toBe(0);
      expect(verdict(shown[0]!.options!.prog!.id, icmp)).toBe(winner.name.startsWith('tc_drop_icmp') ? TC_ACT_SHOT : TC_ACT_OK);
      const d = await runCli(['detach', '--tc', 'ingress', DEV, '--netns', ns.name], '');
      expect(d.code, d.stderr).toBe(0);
      expect(netState(ns)).toEqual(net0);
    }
  });

  it('detach while map dump --watch reads the detached program\'s map: both end cleanly, then the map is gone', async () => {
    const net0 = netState(ns);
    const l = await runCli(load(ns, 'monitor.o', ['--prog', 'monitor_ingress', '--json']), '');
    expect(l.code, l.stderr).toBe(0);
    const progId = (JSON.parse(l.stdout) as { programs: { id: number }[] }).programs[0]!.id;
    const mapIds = (JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show', 'id', String(progId)], { encoding: 'utf8' })) as { map_ids: number[] }).map_ids;
    const mapId = mapIds.find((id) => (JSON.parse(execFileSync('bpftool', ['-j', 'map', 'show', 'id', String(id)], { encoding: 'utf8' })) as { name: string }).name === 'pkt_count')!;
    expect(mapId).toBeDefined();

    const watch = spawn(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), 'map', 'dump', String(mapId), '--watch', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const dumps = () => out.split('\n').filter((line) => /^Found \d+ elements?$/.test(line)).length;
    const waitFor = async (n: number) => {
      const deadline = Date.now() + 20_000;
      while (dumps() < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(dumps(), err).toBeGreaterThanOrEqual(n);
    };
    watch.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    watch.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => watch.on('close', (code, signal) => resolve({ code, signal })));
    try {
      await waitFor(1);
      const d = await runCli(['detach', '--tc', 'ingress', DEV, '--netns', ns.name], '');
      expect(d.code, d.stderr).toBe(0);
      expect(netState(ns)).toEqual(net0);
      // The watch keeps the map open, so it goes on dumping after the program is gone.
      expect(await stillAlive([{ kind: 'prog', id: progId, call: 'load' }])).toEqual([]);
      const seen = dumps();
      await waitFor(seen + 1);
      watch.kill('SIGINT');
      const end = await exited;
      expect(end, err).toEqual({ code: 0, signal: null });
      expect(err).toBe('');
    } finally {
      watch.kill('SIGKILL');
    }
    expect(await stillAlive([{ kind: 'map', id: mapId, call: 'load' }])).toEqual([]);
  });
});
