import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { BpfError } from '../../src/errors.js';
import { readObject } from '../../src/object/index.js';
import { haveCorpus } from '../helpers/env.js';
import { corpusObjects, label, projectObjects } from '../helpers/objects.js';

/** Reading any bytes either succeeds or fails with a BpfError: never a TypeError/RangeError. */
function readsOrFailsTyped(bytes: Uint8Array): void {
  try {
    readObject(bytes);
  } catch (e) {
    if (!(e instanceof BpfError)) throw e;
  }
}

const paths = [...(haveCorpus() ? corpusObjects() : []), ...projectObjects()];

describe('malformed objects give typed errors', () => {
  // Small objects keep the mutation runs quick; the large ones are covered by the corpus tests.
  let seeds: { path: string; bytes: Buffer }[] = [];
  beforeAll(() => {
    seeds = paths.map((path) => ({ path, bytes: readFileSync(path) })).filter(({ bytes }) => bytes.length < 64 * 1024);
  });

  it('has seed objects', () => expect(seeds.length).toBeGreaterThan(10));

  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => readsOrFailsTyped(bytes)), { numRuns: 2000 });
  });

  it('random bytes behind a valid ELF64 BPF header', () => {
    const header = seeds[0]!.bytes.subarray(0, 64);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 4096 }), (tail) => {
      const bytes = new Uint8Array(64 + tail.length);
      bytes.set(header);
      bytes.set(tail, 64);
      readsOrFailsTyped(bytes);
    }), { numRuns: 1000 });
  });

  it('byte mutations and truncations of real objects', () => {
    const seed = fc.constantFrom(...seeds);
    const mutation = fc.record({
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 16 }),
      truncate: fc.option(fc.nat(), { nil: undefined }),
    });
    fc.assert(fc.property(seed, mutation, ({ bytes }, { edits, truncate }) => {
      const copy = Uint8Array.from(bytes);
      for (const [at, value] of edits) copy[at % copy.length] = value;
      readsOrFailsTyped(truncate === undefined ? copy : copy.subarray(0, truncate % copy.length));
    }), { numRuns: 3000 });
  });

  it('mutations of the section header table specifically', () => {
    fc.assert(fc.property(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), ({ bytes }, edits) => {
      const copy = Uint8Array.from(bytes);
      const view = new DataView(copy.buffer);
      const le = copy[5] === 1;
      const shoff = Number(view.getBigUint64(40, le));
      const shsize = view.getUint16(60, le) * 64;
      for (const [at, value] of edits) copy[shoff + (at % shsize)] = value;
      readsOrFailsTyped(copy);
    }), { numRuns: 3000 });
  });

  it.each(paths.filter((p) => label(p).startsWith('invalid')).map((p) => [label(p), p]))('%s', (_n, path) => {
    readsOrFailsTyped(readFileSync(path));
  });
});
