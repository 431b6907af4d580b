// The examples/ programs, compiled as a user compiles them and run as child processes against two
// network namespaces this test creates, with real traffic: their output is checked against the
// traffic sent, then SIGINT must end them and leave nothing behind (qdisc, filters, links, XDP,
// programs). `ip`, `tc` and bpftool are the oracles.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { haveRoot, repoRoot, tool } from '../helpers/env.js';
import { NamespacePair, sh } from './namespace-pair.js';

const root = haveRoot();
const bpftool = root ? tool('bpftool') : undefined;

const id = `${process.pid}-${randomBytes(3).toString('hex')}`;
const pair = new NamespacePair(id, 'ex', '10.198');
const { nsA, nsB, devA, devB, addrA, addrB } = pair;
const connects = (port: number, addr?: string) => pair.connects(port, addr);

/** `count` UDP datagrams of one byte from A (port 40000) to B:9999. */
function udp(count: number): void {
  const script = `const s=require('dgram').createSocket('udp4');s.bind(40000,()=>{let n=0;const f=()=>s.send('x',9999,'${addrB}',()=>{if(++n<${count})f();else s.close();});f();});`;
  execFileSync('ip', ['netns', 'exec', nsA, process.execPath, '-e', script], { stdio: 'ignore', timeout: 10_000 });
}

function resolveToB(addr: string): void {
  const mac = (JSON.parse(sh('ip', ['-n', nsB, '-j', 'link', 'show', devB])) as { address: string }[])[0]!.address;
  sh('ip', ['-n', nsA, 'neigh', 'replace', addr, 'lladdr', mac, 'dev', devA]);
}

/** What is attached to a device: clsact, bpf filters on either hook, an XDP program, and the programs' ids. */
function attached(ns: string, dev: string): { clsact: boolean; filters: number; xdp: boolean; progs: number[] } {
  const qdiscs = JSON.parse(sh('tc', ['-n', ns, '-j', 'qdisc', 'show', 'dev', dev])) as { kind: string }[];
  // tc lists each filter twice: its chain entry, then the entry with its options.
  const filters = ['ingress', 'egress'].flatMap((d) => JSON.parse(sh('tc', ['-n', ns, '-j', 'filter', 'show', 'dev', dev, d]) || '[]') as { options?: { prog?: { id: number } } }[])
    .filter((f) => f.options !== undefined);
  const link = (JSON.parse(sh('ip', ['-n', ns, '-j', '-d', 'link', 'show', dev])) as { xdp?: { prog?: { id: number } } }[])[0]!;
  const progs = [...filters.map((f) => f.options?.prog?.id), link.xdp?.prog?.id].filter((id): id is number => id !== undefined);
  return { clsact: qdiscs.some((q) => q.kind === 'clsact'), filters: filters.length, xdp: link.xdp !== undefined, progs };
}

function programIds(): number[] {
  return (JSON.parse(sh(bpftool!, ['prog', 'show', '-j'])) as { id: number }[]).map((p) => p.id);
}

/** The programs of the bpf links in the kernel (other tests on the machine may have some too). */
function linkedPrograms(): number[] {
  return (JSON.parse(sh(bpftool!, ['link', 'show', '-j'])) as { prog_id: number }[]).map((l) => l.prog_id);
}

/** An example run as a child process; `until` waits for its output to match. */
class Example {
  readonly child: ChildProcess;
  out = '';

  constructor(name: string, args: string[]) {
    this.child = spawn(process.execPath, [join(repoRoot, 'examples', 'build', `${name}.js`), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => { this.out += d.toString(); });
    this.child.stderr!.on('data', (d: Buffer) => { this.out += d.toString(); });
  }

  async until(re: RegExp, ms = 15_000): Promise<RegExpMatchArray> {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) {
      const m = re.exec(this.out);
      if (m) return m;
      if (this.child.exitCode !== null) break;
    }
    throw new Error(`no ${re} in the output of the example:\n${this.out}`);
  }

  /** After a failed test: an example still running is interrupted, so that it detaches what it attached. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) await this.interrupt();
  }

  /** SIGINT, and the signal the process ended with. */
  async interrupt(): Promise<NodeJS.Signals | null> {
    const ended = new Promise<NodeJS.Signals | null>((resolve) => this.child.once('exit', (_, s) => resolve(s)));
    this.child.kill('SIGINT');
    return ended;
  }
}

it("the README's library example is examples/monitor.ts as it stands", () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The library: `bpfts/loader`'));
  expect(/```ts\n([\s\S]*?)```/.exec(section)![1]).toBe(readFileSync(join(repoRoot, 'examples', 'monitor.ts'), 'utf8'));
});

describe.skipIf(!root || !bpftool)('examples/ against real traffic in network namespaces', () => {
  const running: Example[] = [];

  beforeAll(() => {
    sh(join(repoRoot, 'node_modules', '.bin', 'tsc'), ['-p', join(repoRoot, 'examples')]);
    pair.up();
  }, 60_000);

  afterEach(async () => {
    for (const e of running.splice(0)) await e.stop();
  });

  afterAll(() => {
    pair.down();
    expect(sh('ip', ['netns', 'list'])).not.toContain(id);
  });

  const start = (name: string, args: string[]) => {
    const e = new Example(name, args);
    running.push(e);
    return e;
  };

  /**
   * Stops `e` with SIGINT and checks that it took down everything it attached and loaded: nothing
   * on its devices, and neither links nor programs left of the programs it had attached.
   */
  async function stopAndCheck(e: Example, devices: [string, string][]): Promise<void> {
    const ours = devices.flatMap(([ns, dev]) => attached(ns, dev).progs);
    expect(ours.length).toBeGreaterThan(0);
    expect(await e.interrupt()).toBe('SIGINT');
    for (const [ns, dev] of devices) expect(attached(ns, dev)).toEqual({ clsact: false, filters: 0, xdp: false, progs: [] });
    // The kernel frees links and programs once their last descriptor has gone, after an RCU grace period.
    const left = () => [...programIds(), ...linkedPrograms()].filter((p) => ours.includes(p));
    for (let i = 0; i < 50 && left().length > 0; i++) await sleep(100);
    expect(left()).toEqual([]);
  }

  it('monitor: counts the datagrams sent, per direction and flow; Ctrl-C leaves nothing', async () => {
    const e = start('monitor', [devB, '--netns', nsB]);
    await e.until(/monitoring/);
    expect(attached(nsB, devB)).toMatchObject({ clsact: true, filters: 2 });
    udp(5);
    // B answers each datagram to a closed port with an ICMP port unreachable.
    await e.until(new RegExp(`flow ${addrA.replace(/\./g, '\\.')}:40000 > ${addrB.replace(/\./g, '\\.')}:9999 proto 17 ingress: 5 packets, 215 bytes`));
    await e.until(new RegExp(`flow ${addrB.replace(/\./g, '\\.')}:0 > ${addrA.replace(/\./g, '\\.')}:0 proto 1 egress: 5 packets`));
    await stopAndCheck(e, [[nsB, devB]]);
  });

  it('proxy: the client reaches the backend through the target address; both maps are printed', async () => {
    const virtual = pair.host(99);
    resolveToB(virtual);
    expect(connects(80, virtual)).toBe(false);
    const e = start('proxy', [devA, '--netns', nsA, '--target', `${virtual}:80`, '--to', `${addrB}:8080`]);
    await e.until(/proxying/);
    expect(connects(80, virtual)).toBe(true);
    await e.until(new RegExp(`target ${virtual.replace(/\./g, '\\.')}:80 -> ${addrB.replace(/\./g, '\\.')}:8080`));
    const [, local] = await e.until(new RegExp(`reverse ${addrB.replace(/\./g, '\\.')}:8080 > ${addrA.replace(/\./g, '\\.')}:(\\d+) proto 6 as ${virtual.replace(/\./g, '\\.')}:80`));
    expect(Number(local)).toBeGreaterThan(1023);
    await stopAndCheck(e, [[nsA, devA]]);
    expect(connects(80, virtual)).toBe(false);
    sh('ip', ['-n', nsA, 'neigh', 'del', virtual, 'dev', devA]);
  });

  it('DNAT + XDP monitor: the translated address answers, conn_track and the protocol counts are printed', async () => {
    const virtual = pair.host(98);
    resolveToB(virtual);
    const e = start('dnat', [devB, '--netns', nsB, '--rule', `${virtual}:80`, '--backend', `${addrB}:8080`]);
    await e.until(/translating/);
    expect(attached(nsB, devB)).toMatchObject({ clsact: true, filters: 2, xdp: true });
    expect(connects(80, virtual)).toBe(true);
    await e.until(new RegExp(`conn ${addrB.replace(/\./g, '\\.')}:8080 > ${addrA.replace(/\./g, '\\.')}:\\d+ from ${virtual.replace(/\./g, '\\.')}:80`));
    const [, tcp] = await e.until(/proto 6: (\d+) packets/);
    expect(Number(tcp)).toBeGreaterThanOrEqual(3);
    await stopAndCheck(e, [[nsB, devB]]);
    expect(connects(80, virtual)).toBe(false);
    sh('ip', ['-n', nsA, 'neigh', 'del', virtual, 'dev', devA]);
  });
});
