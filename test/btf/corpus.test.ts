import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { btfFromFile, dumpJson, dumpRaw } from '../../src/btf/index.js';
import { haveCorpus, haveKernelBtf, tool, VMLINUX } from '../helpers/env.js';
import { wellFormedCorpusObjects } from '../helpers/objects.js';

function bpftool(args: string[]): string | undefined {
  const r = spawnSync('bpftool', args, { maxBuffer: 1 << 28, encoding: 'utf8' });
  return r.status === 0 ? r.stdout : undefined;
}

/**
 * bpftool v7.1 prints an unsigned 32-bit ENUM value through a sign-extending cast in -j mode
 * (0xffffffff comes out as 18446744073709551615); we print the value itself. Undo that one quirk.
 */
function fixBpftoolEnumJson(json: string): string {
  return json.split('{"id":').map((rec) => (rec.includes('"kind":"ENUM",') && rec.includes('"encoding":"UNSIGNED"')
    ? rec.replace(/"val":(\d{20})/g, (_, n: string) => `"val":${BigInt(n) - (1n << 64n) + (1n << 32n)}`)
    : rec)).join('{"id":');
}

describe.skipIf(!haveCorpus() || !tool('bpftool'))('raw and JSON dumps match bpftool on the corpus', () => {
  it('every corpus object with BTF', () => {
    let compared = 0;
    let rejected = 0;
    let noBtf = 0;
    const mismatched: string[] = [];
    for (const file of wellFormedCorpusObjects()) {
      const bytes = new Uint8Array(readFileSync(file));
      const expected = bpftool(['btf', 'dump', 'file', file]);
      if (expected === undefined) {
        rejected++;
        continue;
      }
      let btf;
      try {
        btf = btfFromFile(bytes);
      } catch (e) {
        if ((e as Error).message.includes('no .BTF section')) {
          noBtf++;
          continue;
        }
        throw e;
      }
      compared++;
      if (dumpRaw(btf) !== expected) mismatched.push(file);
      const json = bpftool(['-j', 'btf', 'dump', 'file', file]);
      if (json !== undefined && dumpJson(btf) !== fixBpftoolEnumJson(json)) mismatched.push(`${file} (json)`);
    }
    console.log(`btf corpus: ${compared} compared, ${compared - mismatched.length} identical, ${rejected} rejected by bpftool (no .BTF), ${noBtf} we rejected`);
    expect(mismatched).toEqual([]);
    expect(compared).toBeGreaterThan(50);
  });
});

describe.skipIf(!haveKernelBtf() || !tool('bpftool'))('vmlinux BTF', () => {
  it('raw dump is byte-identical to bpftool', () => {
    const expected = execFileSync('bpftool', ['btf', 'dump', 'file', VMLINUX], { maxBuffer: 1 << 28 });
    const ours = Buffer.from(dumpRaw(btfFromFile(new Uint8Array(readFileSync(VMLINUX)))), 'utf8');
    expect(ours.length).toBe(expected.length);
    expect(ours.equals(expected)).toBe(true);
  });

  it('JSON dump matches bpftool -j', () => {
    const expected = execFileSync('bpftool', ['-j', 'btf', 'dump', 'file', VMLINUX], { maxBuffer: 1 << 28, encoding: 'utf8' });
    expect(dumpJson(btfFromFile(new Uint8Array(readFileSync(VMLINUX)))) === fixBpftoolEnumJson(expected)).toBe(true);
  });
});
