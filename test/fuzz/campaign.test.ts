// A short fuzzing campaign (fuzz/campaign.mjs, the one `npm run fuzz` runs long) with fixed seeds
// over the corpus: every layer may fail only with a BpfError, and at least half the mutated objects
// must get as far as the program model, or the mutators have stopped reaching the deep layers.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { emptyStats, findObjects, formatStats, prepareSeeds, runIteration } from '../../fuzz/campaign.mjs';
import { corpusDir, haveCorpus, repoRoot } from '../helpers/env.js';

const SEEDS = [1, 2, 3];
const ITERATIONS = 1000;
/** Objects up to this size: the large ones make each iteration slow, and the long campaign has them. */
const MAX_SEED_SIZE = 32 * 1024;
/** A hang, not a slow input: the 1 s target is the long campaign's, on an idle machine. */
const HANG_MS = 10_000;

describe('fuzzing campaign', () => {
  it(`${SEEDS.length} x ${ITERATIONS} mutated inputs through every layer give only typed errors`, () => {
    const dirs = [join(repoRoot, 'bpf', 'build')];
    if (haveCorpus()) dirs.unshift(join(corpusDir, 'ebpf-samples'));
    else console.warn('\n*** fuzzing campaign: no corpus, so only the bpf/build objects are mutated ***\n');
    const seeds = prepareSeeds(findObjects(dirs, MAX_SEED_SIZE));
    expect(seeds.objects.length).toBeGreaterThan(haveCorpus() ? 50 : 10);
    const stats = emptyStats();
    const started = performance.now();
    for (const seed of SEEDS) for (let i = 0; i < ITERATIONS; i++) runIteration(stats, seeds, seed, i, { timeLimitMs: HANG_MS });
    console.log(formatStats(stats, (performance.now() - started) / 1000).join('\n'));
    expect(stats.failures.map((f) => `${f.layer}: seed ${f.seed} iteration ${f.iteration} (${f.input}): ${f.error.split('\n')[0]}`)).toEqual([]);
    expect(stats.reached.object / stats.objectInputs).toBeGreaterThanOrEqual(0.5);
    for (const layer of ['btf', 'btf-ext', 'doctor', 'verify', 'disasm', 'btf-dump', 'fix', 'emulator', 'capture', 'hex', 'json']) {
      expect(stats.reached[layer], layer).toBeGreaterThan(0);
    }
  });
});
