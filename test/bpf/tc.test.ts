// Attaches the classifiers with iproute2's tc (libbpf 1.1 inside) to a veth in a network
// namespace created here. tc picks programs by section name and sets the program type
// itself, so it also takes provenance_egress.o, which bpftool refuses.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withBpftoolLoadall } from '../helpers/bpftool.js';
import { haveRoot, tool } from '../helpers/env.js';
import { loadManifest, objectPath } from './manifest.js';

const manifest = loadManifest();
const root = haveRoot();
const tc = tool('tc');
const ip = tool('ip');
const bpftool = tool('bpftool');
const nsenter = tool('nsenter');

const ns = `bpfts-bpf-${process.pid}`;
const dev = 'bpfts0';

type Result = { status: number | null; stdout: string; stderr: string };

/**
 * Runs tc inside the namespace. `ip netns exec` gives it a private /sys, so the bpffs
 * directories tc creates for `obj` loads vanish with it; `pinned` needs the host's
 * bpffs, reached through nsenter, which leaves /sys alone.
 */
function tcInNs(args: string[], hostBpffs = false): Result {
  const r = hostBpffs
    ? spawnSync(nsenter!, [`--net=/run/netns/${ns}`, tc!, ...args], { encoding: 'utf8' })
    : spawnSync(ip!, ['netns', 'exec', ns, tc!, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function attach(direction: 'ingress' | 'egress', source: string[]): string {
  const args = ['filter', 'replace', 'dev', dev, direction, 'prio', '1', 'handle', '1', 'bpf', 'da', ...source];
  const r = tcInNs(args, source[0] === 'pinned');
  expect(r.status, r.stderr).toBe(0);
  return tcInNs(['filter', 'show', 'dev', dev, direction]).stdout;
}

// A program is attachable through `tc ... obj FILE sec SECTION` only when it is alone in its section.
const bySection = manifest.objects.flatMap((obj) =>
  obj.programs
    .filter((p) => p.attach.startsWith('tc') && obj.programs.filter((q) => q.section === p.section).length === 1)
    .map((p) => ({ file: obj.file, section: p.section, fn: p.function })),
);
const sharedSection = manifest.objects.filter(
  (obj) => obj.expectLoad === 'ok' && new Set(obj.programs.map((p) => p.section)).size < obj.programs.length,
);

describe.skipIf(!root || !tc || !ip || !bpftool || !nsenter)('tc attach in a network namespace', () => {
  beforeAll(() => {
    execFileSync(ip!, ['netns', 'add', ns]);
    execFileSync(ip!, ['-n', ns, 'link', 'add', dev, 'type', 'veth', 'peer', 'name', `${dev}p`]);
    execFileSync(ip!, ['-n', ns, 'link', 'set', dev, 'up']);
    execFileSync(tc!, ['-n', ns, 'qdisc', 'add', 'dev', dev, 'clsact']);
  });

  afterAll(() => {
    spawnSync(ip!, ['netns', 'del', ns]);
  });

  it.each(bySection)('$file: obj ... sec $section attaches $fn', ({ file, section, fn }) => {
    const shown = attach('egress', ['obj', objectPath('bpfel', file), 'sec', section]);
    expect(shown).toContain(`name ${fn.slice(0, 15)} `);
  });

  it('provenance_egress.o is among them, with its unknown section "egress"', () => {
    expect(bySection.map((b) => `${b.file}:${b.section}`)).toContain('provenance_egress.o:egress');
  });

  it.each(sharedSection.map((o) => o.file))('%s: programs sharing a section attach from bpftool pins', (file) => {
    const obj = manifest.objects.find((o) => o.file === file)!;
    const pins = `/sys/fs/bpf/bpfts-tc-${process.pid}`;
    try {
      withBpftoolLoadall(bpftool!, objectPath('bpfel', file), pins, (r) => {
        expect(r.status, r.stderr).toBe(0);
        for (const p of obj.programs) {
          const direction = p.attach === 'tc-ingress' ? 'ingress' : 'egress';
          const shown = attach(direction, ['pinned', join(pins, p.function)]);
          expect(shown).toContain(`name ${p.function.slice(0, 15)} `);
        }
      });
    } finally {
      tcInNs(['filter', 'del', 'dev', dev, 'ingress']);
      tcInNs(['filter', 'del', 'dev', dev, 'egress']);
    }
  });
});
