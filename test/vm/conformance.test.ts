import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { conformanceDir, haveConformance } from '../helpers/env.js';
import { conformanceHelpers, parseHexBytes, Vm } from '../../src/vm/index.js';

interface ConformanceTest {
  program: string;
  memory: string;
  result: string;
  no_register_offset: boolean;
}

function hexToBytes(hex: string): Uint8Array {
  return parseHexBytes(hex);
}

describe.skipIf(!haveConformance())('BPF conformance suite (assembled.json)', () => {
  const tests = haveConformance()
    ? (JSON.parse(readFileSync(resolve(conformanceDir, 'assembled.json'), 'utf8')) as Record<string, ConformanceTest>)
    : {};
  const names = Object.keys(tests).sort();
  let passed = 0;

  afterAll(() => {
    console.log(`conformance: ${passed} of ${2 * names.length} runs (interpreted and compiled) passed`);
  });

  it('has all 313 tests', () => {
    expect(names.length).toBe(313);
  });

  // Interpreted (the reference) and compiled (compile.ts).
  it.each(names.flatMap((n) => [[n, false], [n, true]] as const))('%s (compiled: %s)', (name, compile) => {
    const t = tests[name]!;
    const memory = hexToBytes(t.memory);
    const vm = new Vm(hexToBytes(t.program), { helpers: conformanceHelpers(), compile });
    const pointer = memory.length > 0 ? vm.memory.map(memory, 'mem') : 0n;
    const { r0 } = vm.run([pointer, BigInt(memory.length)]);
    expect(`0x${r0.toString(16)}`).toBe(`0x${BigInt(t.result).toString(16)}`);
    passed++;
  });
});
