// What a filter author writes in their own repository: bpfts and bpfts/testing imported by package
// name (resolved through package.json "exports" to dist/), fast-check driving the emulator.
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/env.js';
import { ensureBuilt } from '../cli/run-cli.js';

beforeAll(ensureBuilt);

describe('the published API', () => {
  it('property-tests the TCP/80 filter the way the README shows', async () => {
    const { Emulator } = await import('bpfts');
    const { arbEthernet, arbFrame, arbFrameOf, arbIpv4, arbTcp, findLayer } = await import('bpfts/testing');
    const emu = Emulator.fromObject(readFileSync(join(repoRoot, 'bpf/build/bpfel/tc_drop_tcp80.o')));
    const TC_ACT_OK = 0;
    const TC_ACT_SHOT = 2;
    // Random frames almost never go to port 80, so half the TCP frames are made to.
    const frames = fc.oneof(arbFrame(), arbFrameOf(arbEthernet(), arbIpv4(), arbTcp({ dport: 80 })));
    fc.assert(fc.property(frames, (frame) => {
      const tcp = findLayer(frame, 'tcp');
      const ipv4 = findLayer(frame, 'ipv4');
      const toPort80 = tcp !== undefined && ipv4 !== undefined && tcp.dport === 80;
      expect(emu.run(frame.bytes).retval).toBe(toPort80 ? TC_ACT_SHOT : TC_ACT_OK);
    }), { numRuns: 500 });
  });

  it('exposes the loader as bpfts/loader without loading it at the root', async () => {
    const root = await import('bpfts');
    expect(Object.keys(root)).not.toContain('loadObject');
    const loader = await import('bpfts/loader');
    expect(typeof loader.loadObject).toBe('function');
  });
});
