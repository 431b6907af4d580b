// SIGINT and SIGTERM arriving while `bpfts load` (the CLI, a child process) changes the kernel's
// state: the fault hook holds the child just before a chosen kernel call (BPFTS_TEST_FAULTS
// pause), the signal is sent there, and the child must unwind everything it made and exit with
// 130 or 143, leaving tc state (tc), XDP state (ip), bpffs and the kernel's objects (bpftool) as
// they were.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectPath } from '../bpf/manifest.js';
import { haveRoot, repoRoot, tool } from '../helpers/env.js';
import { ensureBuilt } from '../cli/run-cli.js';
import { DEV, bpffsState, holdFile, netState, reportedCreated, runCli, stillAlive } from './fault-bench.js';
import { TestNetns } from './fixtures.js';

const root = haveRoot();
const tools = root && !!tool('bpftool') && !!tool('tc') && !!tool('ip') && !!tool('nsenter');
if (root && !tools) console.warn('\n*** SKIPPING: the loader signal tests need bpftool, tc, ip and nsenter (BPFTS_REQUIRE_TOOLS) ***\n');
if (root && !tools && process.env.BPFTS_REQUIRE_TOOLS === '1') throw new Error('bpftool, tc, ip and nsenter are required (BPFTS_REQUIRE_TOOLS=1)');

interface Point {
  label: string;
  file: string;
  args: (ns: TestNetns, pinDir: string) => string[];
  /** Where the child stops: the first (or at-th) kernel call of this kind. */
  kind: string;
  at?: number;
  signal: 'SIGINT' | 'SIGTERM';
}

const cli = join(repoRoot, 'dist', 'cli', 'main.js');
const tc = (ns: TestNetns, pinDir: string) => ['--prog', 'monitor_ingress', '--tc', 'ingress', DEV, '--netns', ns.name, '--pin', pinDir];
const points: Point[] = [
  { label: 'before the first map is created', file: 'monitor.o', args: tc, kind: 'BPF_MAP_CREATE', signal: 'SIGINT' },
  { label: 'before the first map is pinned', file: 'monitor.o', args: tc, kind: 'BPF_OBJ_PIN', signal: 'SIGTERM' },
  { label: 'before the program is loaded', file: 'monitor.o', args: tc, kind: 'BPF_PROG_LOAD', signal: 'SIGINT' },
  { label: 'before the program is pinned', file: 'monitor.o', args: tc, kind: 'BPF_OBJ_PIN', at: 3, signal: 'SIGTERM' },
  { label: 'before the clsact qdisc is added', file: 'monitor.o', args: tc, kind: 'RTM_NEWQDISC', signal: 'SIGINT' },
  { label: 'before the tc filter is added', file: 'monitor.o', args: tc, kind: 'RTM_NEWTFILTER', signal: 'SIGTERM' },
  { label: 'before the XDP program is attached', file: 'xdp_monitor.o', args: (ns, pinDir) => ['--xdp', DEV, '--mode', 'skb', '--netns', ns.name, '--pin', pinDir], kind: 'RTM_SETLINK', signal: 'SIGINT' },
  { label: 'before the tcx link is created', file: 'tc_drop_icmp.o', args: (ns) => ['--tcx', 'ingress', DEV, '--netns', ns.name], kind: 'BPF_LINK_CREATE', signal: 'SIGTERM' },
  { label: 'before the tcx link is pinned', file: 'tc_drop_icmp.o', args: (ns) => ['--tcx', 'egress', DEV, '--netns', ns.name], kind: 'BPF_OBJ_PIN', signal: 'SIGINT' },
];

describe.skipIf(!root || !tools)('a signal during bpfts load leaves nothing behind', () => {
  const pinRoot = `/sys/fs/bpf/bpfts-signals-${process.pid}-${randomBytes(3).toString('hex')}`;
  let ns: TestNetns;
  beforeAll(() => {
    ensureBuilt();
    mkdirSync(pinRoot);
    ns = new TestNetns();
  });
  afterAll(() => {
    ns?.destroy();
    rmSync(pinRoot, { recursive: true, force: true });
  });

  it.each(points.map((p) => [`${p.file}: ${p.signal} ${p.label}`, p] as const))('%s', async (_label, p) => {
    const pinDir = `${pinRoot}/${randomBytes(3).toString('hex')}`;
    const tcxDir = `/sys/fs/bpf/bpfts/tcx/${ns.name}`;
    const watched = [pinRoot, tcxDir];
    const net0 = netState(ns);
    const fs0 = bpffsState(watched);
    try {
      const gate = holdFile();
      const r = await runCli(['load', objectPath('bpfel', p.file), ...p.args(ns, pinDir)], `report,kind=${p.kind},at=${p.at ?? 1},pause=60000,release=${gate}`, p.signal, undefined, gate);
      expect(r.stderr).toMatch(new RegExp(`paused at call \\d+ \\(${p.kind}\\)`));
      expect(r.signal, r.stderr).toBeNull();
      expect(r.code, r.stderr).toBe(p.signal === 'SIGINT' ? 130 : 143);
      expect(r.stderr).toContain(`bpfts load: interrupted by ${p.signal}; what this command created was removed`);
      expect(r.stdout).toBe('');
      expect(netState(ns)).toEqual(net0);
      expect(bpffsState(watched)).toEqual(fs0);
      const created = reportedCreated(r.stderr);
      expect(created.some((c) => c.kind === 'prog') || p.kind === 'BPF_MAP_CREATE' || p.kind === 'BPF_PROG_LOAD').toBe(true);
      expect(await stillAlive(created)).toEqual([]);
    } finally {
      rmSync(pinDir, { recursive: true, force: true });
      if (existsSync(tcxDir)) rmSync(tcxDir, { recursive: true, force: true });
    }
  });

  it.each([
    ['tc', 'RTM_NEWTFILTER', 'SIGINT'],
    ['xdp', 'RTM_SETLINK', 'SIGTERM'],
  ] as const)('%s: %s just made by --replace, then %s: the replaced program is put back', async (kind, call, signal) => {
    const other = new TestNetns();
    const foreign = `${pinRoot}/foreign_${randomBytes(3).toString('hex')}`;
    // nsenter changes only the network namespace, so tc and ip find the pin on the host's bpffs.
    const inNs = (cmd: string, args: string[]) => execFileSync('nsenter', [`--net=/run/netns/${other.name}`, cmd, ...args], { stdio: 'pipe' });
    try {
      execFileSync('bpftool', ['prog', 'load', objectPath('bpfel', kind === 'xdp' ? 'xdp_monitor.o' : 'tc_drop_arp.o'), foreign]);
      if (kind === 'xdp') inNs('ip', ['link', 'set', 'dev', DEV, 'xdpgeneric', 'pinned', foreign]);
      else {
        inNs('tc', ['qdisc', 'add', 'dev', DEV, 'clsact']);
        inNs('tc', ['filter', 'add', 'dev', DEV, 'ingress', 'prio', '1', 'handle', '1', 'bpf', 'da', 'pinned', foreign]);
      }
      const net0 = netState(other);
      const fs0 = bpffsState([pinRoot]);
      const gate = holdFile();
      const where = kind === 'xdp' ? ['--xdp', DEV, '--mode', 'skb'] : ['--tc', 'ingress', DEV];
      const r = await runCli(['load', objectPath('bpfel', kind === 'xdp' ? 'xdp_monitor.o' : 'tc_drop_icmp.o'), ...where, '--netns', other.name, '--replace'],
        `report,kind=${call},at=1,pause=60000,release=${gate}`, signal, undefined, gate);
      expect(r.stderr).toMatch(new RegExp(`paused at call \\d+ \\(${call}\\)`));
      expect(r.code, r.stderr).toBe(signal === 'SIGINT' ? 130 : 143);
      expect(r.stderr).toContain(`interrupted by ${signal}; what this command created was removed`);
      // The replace was made, and then a second request of the same kind put the old program back.
      const calls = /test fault hook: \d+ calls: (.*)$/m.exec(r.stderr)![1]!.split(' ');
      expect(calls.filter((k) => k === call)).toHaveLength(2);
      expect(netState(other)).toEqual(net0);
      expect(bpffsState([pinRoot])).toEqual(fs0);
      expect(await stillAlive(reportedCreated(r.stderr))).toEqual([]);
    } finally {
      other.destroy();
      rmSync(foreign, { force: true });
    }
  });

  it('SIGINT at moments spread over an unheld load: nothing is left, or the load is complete', async () => {
    const pinDir = `${pinRoot}/${randomBytes(3).toString('hex')}`;
    const args = ['load', objectPath('bpfel', 'monitor.o'), ...tc(ns, pinDir)];
    const net0 = netState(ns);
    const fs0 = bpffsState([pinRoot]);
    const t0 = Date.now();
    const full = await runCli(args, '');
    const took = Date.now() - t0;
    expect(full.code, full.stderr).toBe(0);
    const loadedNet = JSON.stringify(netState(ns));
    const loadedFs = bpffsState([pinRoot]);
    const detachAll = async () => {
      if (JSON.stringify(netState(ns)) !== JSON.stringify(net0)) expect((await runCli(['detach', '--tc', 'ingress', DEV, '--netns', ns.name], '')).code).toBe(0);
      rmSync(pinDir, { recursive: true, force: true });
    };
    await detachAll();
    const outcomes: string[] = [];
    // Most of a load's time is Node starting up; the later half is where the kernel calls are.
    for (let i = 0; i < 10; i++) {
      const delay = Math.round(took * (0.5 + i * 0.06));
      const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      const timer = setTimeout(() => child.kill('SIGINT'), delay);
      const end = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
      clearTimeout(timer);
      const net = JSON.stringify(netState(ns));
      const files = bpffsState([pinRoot]);
      if (end.code === 130) {
        expect(stderr).toContain('interrupted by SIGINT; what this command created was removed');
        expect(net).toBe(JSON.stringify(net0));
        expect(files).toEqual(fs0);
      } else {
        // Killed before the handlers were installed, or after the load was complete.
        expect([0, null], stderr).toContain(end.code);
        const untouched = net === JSON.stringify(net0) && JSON.stringify(files) === JSON.stringify(fs0);
        const complete = net.replace(/"id":\d+/g, '') === loadedNet.replace(/"id":\d+/g, '') && JSON.stringify(files) === JSON.stringify(loadedFs);
        expect(untouched || complete, `after SIGINT at ${delay} ms (exit ${end.code}, ${end.signal}): ${net}\n${files.join('\n')}\n${stderr}`).toBe(true);
      }
      outcomes.push(`${delay}ms:${end.code ?? end.signal}`);
      await detachAll();
    }
    console.log(`SIGINT during a ${took} ms load: ${outcomes.join(' ')}`);
  });

  it('without a signal the same paused load completes (the pause alone changes nothing)', async () => {
    const pinDir = `${pinRoot}/${randomBytes(3).toString('hex')}`;
    const net0 = netState(ns);
    try {
      const r = await runCli(['load', objectPath('bpfel', 'monitor.o'), ...tc(ns, pinDir)], 'report,kind=RTM_NEWTFILTER,at=1,pause=200');
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.stringify(netState(ns))).not.toBe(JSON.stringify(net0));
      const d = await runCli(['detach', '--tc', 'ingress', DEV, '--netns', ns.name], '');
      expect(d.code, d.stderr).toBe(0);
      expect(netState(ns)).toEqual(net0);
    } finally {
      rmSync(pinDir, { recursive: true, force: true });
    }
  });
});
