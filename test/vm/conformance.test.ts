import { afterAll, describe, expect, it } from 'vitest';
import { conformanceNames, conformanceTests, haveConformance } from '../helpers/env.js';
import { conformanceHelpers, parseHexBytes, Vm } from '../../src/vm/index.js';

describe.skipIf(!haveConformance())('BPF conformance suite (assembled.json)', () => {
  const names = conformanceNames();
  let passed = 0;

  afterAll(() => {
    console.log(`conformance: ${passed} of ${2 * names.length} runs (interpreted and compiled) passed`);
  });

  it('has all 313 tests, each assembled', () => {
    expect(names.length).toBe(313);
    expect(Object.keys(conformanceTests()).sort()).toEqual(names);
  });

  // Interpreted (the reference) and compiled (compile.ts).
  it.each(names.flatMap((n) => [[n, false], [n, true]] as const))('%s (compiled: %s)', (name, compile) => {
    const t = conformanceTests()[name]!;
    const memory = parseHexBytes(t.memory);
    const vm = new Vm(parseHexBytes(t.program), { helpers: conformanceHelpers(), compile });
    const pointer = memory.length > 0 ? vm.memory.map(memory, 'mem') : 0n;
    const { r0 } = vm.run([pointer, BigInt(memory.length)]);
    expect(`0x${r0.toString(16)}`).toBe(`0x${BigInt(t.result).toString(16)}`);
    passed++;
  });
});
