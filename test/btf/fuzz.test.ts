import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BtfError, btfFromFile, dumpJson, dumpRaw, parseBtf, parseBtfExt } from '../../src/btf/index.js';
import { parseElf, sectionByName } from '../../src/elf/index.js';
import { corpusDir, haveCorpus } from '../helpers/env.js';

const seeds = ['cilium-examples/tcprtt_bpf_bpfel.o', 'build/twomaps_btf.o', 'cilium-examples/kprobe_bpf_bpfel.o'];

/** Parsing either succeeds and every consumer of the model works, or fails with a BtfError. */
function survives(btf: Uint8Array, ext?: Uint8Array): void {
  let parsed;
  try {
    parsed = parseBtf(btf);
  } catch (e) {
    if (!(e instanceof BtfError)) throw e;
    return;
  }
  dumpRaw(parsed);
  dumpJson(parsed);
  for (const t of parsed.types) {
    parsed.typeName(t.id);
    try {
      parsed.resolveSize(t.id);
    } catch (e) {
      if (!(e instanceof BtfError)) throw e;
    }
  }
  if (ext) {
    try {
      parseBtfExt(ext, parsed);
    } catch (e) {
      if (!(e instanceof BtfError)) throw e;
    }
  }
}

describe.skipIf(!haveCorpus())('BTF parser fuzz (mutated real BTF)', () => {
  for (const seed of seeds) {
    it(`survives mutations of ${seed}`, () => {
      const elf = parseElf(new Uint8Array(readFileSync(join(corpusDir, 'ebpf-samples', seed))));
      const btf = sectionByName(elf, '.BTF')!.data.slice();
      const ext = sectionByName(elf, '.BTF.ext')?.data.slice();
      expect(() => btfFromFile(btf)).not.toThrow();
      const mutation = fc.record({
        target: fc.constantFrom('btf', 'ext'),
        edits: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 8 }),
        cut: fc.option(fc.nat(), { nil: undefined }),
      });
      fc.assert(
        fc.property(mutation, ({ target, edits, cut }) => {
          const victim = (target === 'ext' && ext ? ext : btf).slice();
          for (const { at, value } of edits) victim[at % victim.length] = value;
          const bytes = cut === undefined ? victim : victim.subarray(0, cut % (victim.length + 1));
          if (target === 'ext' && ext) survives(btf, bytes);
          else survives(bytes, ext);
        }),
        { numRuns: 400 },
      );
    });
  }

  it('header fields set to extreme values never crash or hang', () => {
    const elf = parseElf(new Uint8Array(readFileSync(join(corpusDir, 'ebpf-samples', seeds[0]!))));
    const btf = sectionByName(elf, '.BTF')!.data.slice();
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.constantFrom(0, 1, 3, 0x7fffffff, 0xffffffff, 0xfffffff0), (field, value) => {
        const victim = btf.slice();
        new DataView(victim.buffer).setUint32(field * 4, value, true);
        survives(victim);
      }),
      { numRuns: 100 },
    );
  });
});
