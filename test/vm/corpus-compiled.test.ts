// Every runnable entry program of the corpus, compiled (split into regions when it is long) and on the
// interpreter alone, the reference: on the same TCP frame both give the same return code, instruction
// count and output packet, or fail with the same message.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readObject } from '../../src/object/index.js';
import { translate } from '../../src/vm/compile.js';
import { Emulator, EmulatorError, MapRegistry, Memory } from '../../src/vm/index.js';
import { createObjectMaps, linkProgram } from '../../src/vm/object.js';
import { corpusDir, haveCorpus } from '../helpers/env.js';

function objectsUnder(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    if (name === 'invalid') return [];
    return statSync(path).isDirectory() ? objectsUnder(path) : name.endsWith('.o') ? [path] : [];
  });
}

/** Ethernet, IPv4 and TCP from 10.0.0.1:40000 to 10.0.0.2:80, padded to 80 bytes. */
const FRAME = new Uint8Array(80);
FRAME.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 8, 0, 0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x9c, 0x40, 0, 80]);
FRAME[46] = 0x50;

function outcome(obj: ReturnType<typeof readObject>, program: string, section: string, compile: boolean): string {
  const options = { program, compile };
  let emu: Emulator;
  try {
    emu = Emulator.fromObject(obj, options);
  } catch (e) {
    // Sections libbpf has no type for: run them as what their name says.
    if (!(e instanceof EmulatorError) || !e.message.includes('cannot tell the program type')) throw e;
    emu = Emulator.fromObject(obj, { ...options, type: section.includes('xdp') ? 'xdp' : 'sched_cls' });
  }
  try {
    const r = emu.run(FRAME);
    return `${r.retval} ${r.executed} ${Buffer.from(r.packet).toString('hex')}`;
  } catch (e) {
    return `fault: ${(e as Error).message}`;
  }
}

describe.skipIf(!haveCorpus())('corpus programs compiled', () => {
  it('run as the interpreter runs them, split or not', () => {
    let ran = 0;
    let split = 0;
    for (const path of objectsUnder(join(corpusDir, 'ebpf-samples'))) {
      let obj;
      try {
        obj = readObject(readFileSync(path));
      } catch {
        continue;
      }
      if (!obj.littleEndian) continue;
      for (const p of obj.programs.filter((x) => x.kind === 'entry')) {
        let interpreted: string;
        try {
          interpreted = outcome(obj, p.name, p.section, false);
        } catch (e) {
          // Not runnable on packets (program type, maps the emulator cannot create): nothing to compare.
          if (e instanceof EmulatorError) continue;
          throw e;
        }
        expect(`${p.name}: ${outcome(obj, p.name, p.section, true)}`).toBe(`${p.name}: ${interpreted}`);
        ran++;
        const registry = new MapRegistry(new Memory(), 1);
        if (translate(linkProgram(obj, p, createObjectMaps(obj, registry), registry).program).sources.length > 1) split++;
      }
    }
    expect(ran).toBeGreaterThan(300);
    expect(split).toBeGreaterThan(0);
  });
});
