// Every object of the shared corpus and of bpf/build, disassembled by us and by llvm-objdump-19:
// the listings after the `file format` line must be byte-identical.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ElfError, parseElf } from '../../src/elf/index.js';
import { disassemble } from '../../src/isa/index.js';
import { haveCorpus, tool } from '../helpers/env.js';
import { corpusObjects, projectObjects } from '../helpers/objects.js';

const run = promisify(execFile);
const objdump = tool('llvm-objdump-19');

/** llvm-objdump's stdout after the `file format` line, or undefined when it fails. */
async function llvmListing(path: string, args: string[] = []): Promise<string | undefined> {
  try {
    const { stdout } = await run(objdump!, ['-d', '--no-show-raw-insn', ...args, path], { maxBuffer: 256 << 20, encoding: 'latin1' });
    const at = stdout.indexOf('file format');
    return stdout.slice(stdout.indexOf('\n', at) + 1);
  } catch {
    return undefined;
  }
}

function firstDifference(a: string, b: string): string {
  const la = a.split('\n');
  const lb = b.split('\n');
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) return `line ${i + 1}: ours ${JSON.stringify(la[i])} llvm ${JSON.stringify(lb[i])}`;
  }
  return 'identical';
}

const files = [
  ...(haveCorpus() ? corpusObjects() : []),
  ...projectObjects(),
];

describe.skipIf(!objdump || files.length === 0)('disassembly equals llvm-objdump-19 -d', () => {
  it('over the corpus and bpf/build objects', async () => {
    let compared = 0;
    let identical = 0;
    let llvmFailed = 0;
    let parseRejected = 0;
    const mismatches: string[] = [];
    // Two llvm-objdump processes at a time: the machine has two cores.
    const queue = [...files];
    const worker = async (): Promise<void> => {
      for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
        const expected = await llvmListing(path);
        if (expected === undefined) {
          llvmFailed++;
          continue;
        }
        let ours: string;
        try {
          ours = disassemble(parseElf(readFileSync(path)));
        } catch (e) {
          // invalid/ is malformed on purpose; llvm-objdump reads on past what our reader refuses.
          if (!(e instanceof ElfError && path.includes('/invalid/'))) mismatches.push(`${path}: ${(e as Error).message}`);
          parseRejected++;
          continue;
        }
        compared++;
        if (ours === expected) identical++;
        else mismatches.push(`${path}: ${firstDifference(ours, expected)}`);
      }
    };
    await Promise.all([worker(), worker()]);
    console.log(`isa corpus: ${files.length} objects, ${compared} compared, ${identical} identical, ${llvmFailed} llvm failed, ${parseRejected} rejected by parseElf`);
    expect(mismatches).toEqual([]);
    expect(identical).toBeGreaterThan(0);
  });
});
