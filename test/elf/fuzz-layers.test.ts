// Every layer a command runs on an object (inspect, doctor, verify, disasm, fix, run) gets mutated
// real objects and may only fail with a typed BpfError: never a RangeError, TypeError or a hang.
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { BpfError } from '../../src/errors.js';
import { readObject, summarizeObject } from '../../src/object/index.js';
import { doctor, verify } from '../../src/doctor/index.js';
import { disassemble } from '../../src/isa/index.js';
import { fixObject } from '../../src/fix/index.js';
import { Emulator } from '../../src/vm/index.js';
import { haveCorpus } from '../helpers/env.js';
import { corpusObjects, projectObjects } from '../helpers/objects.js';

const layers: [string, (bytes: Uint8Array) => unknown][] = [
  ['inspect', (b) => summarizeObject(readObject(b))],
  ['doctor', (b) => doctor(readObject(b))],
  ['verify', (b) => verify(readObject(b))],
  ['disasm', (b) => disassemble(readObject(b).elf)],
  ['fix', (b) => fixObject(b, { renames: [], fixupDatasecs: true })],
  ['run', (b) => {
    const obj = readObject(b);
    const entry = obj.programs.find((p) => p.kind === 'entry');
    if (entry) Emulator.fromObject(obj, { program: entry.name, type: 'sched_cls' }).run(new Uint8Array(64));
  }],
];

const paths = [...(haveCorpus() ? corpusObjects() : []), ...projectObjects()];

describe('commands on malformed objects fail with typed errors only', () => {
  let seeds: Buffer[] = [];
  beforeAll(() => {
    seeds = paths.map((path) => readFileSync(path)).filter((bytes) => bytes.length < 32 * 1024);
  });

  it('byte mutations of real objects through every layer', () => {
    expect(seeds.length).toBeGreaterThan(10);
    const edits = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 });
    fc.assert(fc.property(fc.constantFrom(...seeds), edits, (bytes, changes) => {
      const copy = Uint8Array.from(bytes);
      for (const [at, value] of changes) copy[at % copy.length] = value;
      for (const [name, run] of layers) {
        try {
          run(copy);
        } catch (e) {
          if (!(e instanceof BpfError)) throw new Error(`${name}: ${(e as Error).stack}`);
        }
      }
    }), { numRuns: 1500 });
  });
});
