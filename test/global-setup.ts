// Every test that touches the system must leave it as it found it. This checks it for the whole
// run: BPF pins under /sys/fs/bpf and network namespaces that appear during the run and are still
// there at the end are reported, and fail the run when CI requires root tests (BPFTS_REQUIRE_ROOT=1).
import { existsSync, readdirSync } from 'node:fs';

function list(dir: string): Set<string> {
  return new Set(existsSync(dir) ? readdirSync(dir) : []);
}

const places = ['/sys/fs/bpf', '/var/run/netns'];

export default function setup(): () => void {
  const before = new Map(places.map((p) => [p, list(p)]));
  return () => {
    const leaked = places.flatMap((p) => [...list(p)].filter((n) => !before.get(p)!.has(n)).map((n) => `${p}/${n}`));
    if (leaked.length === 0) return;
    const message = `tests left system state behind:\n  ${leaked.join('\n  ')}`;
    if (process.env.BPFTS_REQUIRE_ROOT === '1') throw new Error(message);
    console.warn(`\n*** ${message}\n`);
  };
}
