import { describe, expect, it } from 'vitest';
import { conformanceTests, haveConformance } from '../helpers/env.js';
import { conformancePlugin, parseHexBytes } from '../../src/vm/index.js';

const spaced = (hex: string) => hex.match(/../g)?.join(' ') ?? '';

describe('conformance plugin protocol', () => {
  // mov r0, r2; exit: r2 is the memory length.
  const memLen = 'bf 20 00 00 00 00 00 00 95 00 00 00 00 00 00 00';

  it('takes memory from the first argument and the program from stdin, prints r0 in hex', () => {
    expect(conformancePlugin(['00 00 00 01 00 00 00 02 03 04'], memLen)).toEqual({ exitCode: 0, stdout: 'a\n', stderr: '' });
  });

  it('takes the program from --program, with or without memory', () => {
    expect(conformancePlugin(['--program', memLen], '').stdout).toBe('0\n');
    expect(conformancePlugin(['01 02', '--program', memLen], 'ignored').stdout).toBe('2\n');
  });

  it('exits non-zero for a refused program, a fault, or bad arguments', () => {
    expect(conformancePlugin([], 'ff 00 00 00 00 00 00 00').exitCode).not.toBe(0);
    expect(conformancePlugin([], '79 10 00 00 00 00 00 00 95 00 00 00 00 00 00 00').exitCode).not.toBe(0);
    expect(conformancePlugin([], 'zz').exitCode).not.toBe(0);
    expect(conformancePlugin(['--bogus'], memLen).exitCode).not.toBe(0);
  });

  it('parses spaced and contiguous hex', () => {
    expect([...parseHexBytes(' b7 01\n0a0b ')]).toEqual([0xb7, 1, 0x0a, 0x0b]);
  });

  it.skipIf(!haveConformance())('runs suite tests with memory (subnet) and helpers (call_unwind_fail) like the runner', () => {
    const tests = conformanceTests();
    for (const name of ['subnet', 'call_unwind_fail', 'callx', 'ldxh-all2', 'lock_cmpxchg']) {
      const t = tests[name]!;
      const args = t.memory ? [spaced(t.memory)] : [];
      const r = conformancePlugin(args, spaced(t.program));
      expect(r.exitCode, name).toBe(0);
      expect(BigInt(`0x${r.stdout.trim()}`), name).toBe(BigInt(t.result));
    }
  });
});
