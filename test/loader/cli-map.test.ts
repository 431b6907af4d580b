// `bpfts map update` on per-CPU maps, with bpftool as the oracle: without --cpu the value is stored
// for every possible CPU exactly as `bpftool map update` stores it; with --cpu N only CPU N changes.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveRoot, repoRoot, tool } from '../helpers/env.js';

const root = haveRoot();
const bpftool = root ? tool('bpftool') : undefined;
const cli = join(repoRoot, 'dist', 'cli', 'main.js');

interface Dumped { key: string[]; values: { cpu: number; value: string[] }[] }

describe.skipIf(!root || !bpftool)('bpfts map update on per-CPU maps', () => {
  const ours = `/sys/fs/bpf/bpfts-climap-${process.pid}-a`;
  const theirs = `/sys/fs/bpf/bpfts-climap-${process.pid}-b`;
  const dump = (pin: string) => JSON.parse(execFileSync(bpftool!, ['-j', 'map', 'dump', 'pinned', pin], { encoding: 'utf8' })) as Dumped[];
  const bpfts = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

  beforeAll(() => {
    if (!existsSync(cli)) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: repoRoot, stdio: 'ignore' });
    for (const pin of [ours, theirs]) execFileSync(bpftool!, ['map', 'create', pin, 'type', 'percpu_hash', 'key', '4', 'value', '4', 'entries', '4', 'name', 'percpu_test']);
  }, 60_000);
  afterAll(() => {
    rmSync(ours, { force: true });
    rmSync(theirs, { force: true });
  });

  it('replicates the value for every possible CPU, as bpftool does', () => {
    expect(bpfts('map', 'update', ours, '--key', '01 00 00 00', '--value', '2a 00 00 00').status).toBe(0);
    execFileSync(bpftool!, ['map', 'update', 'pinned', theirs, 'key', '1', '0', '0', '0', 'value', '0x2a', '0', '0', '0']);
    expect(dump(ours)).toEqual(dump(theirs));
  });

  it('--cpu N changes only that CPU', () => {
    expect(bpfts('map', 'update', ours, '--key', '01 00 00 00', '--value', '07 00 00 00', '--cpu', '1').status).toBe(0);
    const values = dump(ours)[0]!.values.map((v) => [v.cpu, v.value[0]]);
    expect(values).toEqual(values.map(([cpu]) => [cpu, cpu === 1 ? '0x07' : '0x2a']));
  });

  it('refuses --cpu past the last possible CPU', () => {
    const r = bpfts('map', 'update', ours, '--key', '01 00 00 00', '--value', '07 00 00 00', '--cpu', '4096');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--cpu 4096: this machine has CPUs 0-/);
  });
});
