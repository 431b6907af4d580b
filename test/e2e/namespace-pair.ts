// The end-to-end tests' network: two namespaces of their own joined by a veth pair, A at .1 and B
// at .2 of a /24 drawn at random inside `net` (so that runs beside each other do not collide), B
// serving TCP on ports 80 and 8080. Traffic never leaves the two namespaces.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export class NamespacePair {
  readonly nsA: string;
  readonly nsB: string;
  readonly devA: string;
  readonly devB: string;
  readonly addrA: string;
  readonly addrB: string;
  /** The /24 both ends are in, e.g. "10.199.37". */
  private readonly subnet: string;
  private server: ChildProcess | undefined;

  /** `tag` names the namespaces (bpfts-TAG-a-ID) and devices (TAGa…, at most IFNAMSIZ); `net` is "10.N". */
  constructor(readonly id: string, tag: string, net: string) {
    const short = randomBytes(3).toString('hex');
    this.nsA = `bpfts-${tag}-a-${id}`;
    this.nsB = `bpfts-${tag}-b-${id}`;
    this.devA = `${tag}a${short}`;
    this.devB = `${tag}b${short}`;
    this.subnet = `${net}.${1 + (parseInt(short.slice(0, 2), 16) % 250)}`;
    this.addrA = this.host(1);
    this.addrB = this.host(2);
  }

  /** Address `n` of the pair's /24, e.g. a virtual address no device has. */
  host(n: number): string {
    return `${this.subnet}.${n}`;
  }

  /** Makes the namespaces and the veth pair, up with their addresses, and starts B's TCP server. */
  up(): void {
    sh('ip', ['netns', 'add', this.nsA]);
    sh('ip', ['netns', 'add', this.nsB]);
    sh('ip', ['-n', this.nsA, 'link', 'add', this.devA, 'type', 'veth', 'peer', 'name', this.devB, 'netns', this.nsB]);
    sh('ip', ['-n', this.nsA, 'addr', 'add', `${this.addrA}/24`, 'dev', this.devA]);
    sh('ip', ['-n', this.nsB, 'addr', 'add', `${this.addrB}/24`, 'dev', this.devB]);
    for (const [ns, dev] of [[this.nsA, this.devA], [this.nsB, this.devB]] as const) {
      sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    const serve = `const net=require('net');for(const p of [80,8080])net.createServer((s)=>s.end()).listen(p,'${this.addrB}');`;
    this.server = spawn('ip', ['netns', 'exec', this.nsB, process.execPath, '-e', serve], { stdio: 'ignore' });
    for (let i = 0; i < 50 && !this.connects(8080); i++) spawnSync('sleep', ['0.1']);
  }

  /** Whether a TCP connection from A to addr:port is accepted within a second. */
  connects(port: number, addr = this.addrB): boolean {
    const script = `const s=require('net').connect(${port},'${addr}');s.setTimeout(1000);s.on('connect',()=>process.exit(0));s.on('timeout',()=>process.exit(1));s.on('error',()=>process.exit(1));`;
    return spawnSync('ip', ['netns', 'exec', this.nsA, process.execPath, '-e', script], { stdio: 'ignore', timeout: 10_000 }).status === 0;
  }

  /** Stops the server and deletes both namespaces, and with them the veths, qdiscs and filters. */
  down(): void {
    this.server?.kill();
    for (const ns of [this.nsA, this.nsB]) spawnSync('ip', ['netns', 'del', ns]);
  }
}
