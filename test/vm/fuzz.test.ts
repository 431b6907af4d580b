// Malformed or hostile programs must end in a VmFault (or a result), never another exception or a hang.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conformanceHelpers, Vm, VmFault } from '../../src/vm/index.js';

describe('arbitrary programs', () => {
  it.each([false, true])('decode and run to a result or a VmFault (compiled: %s)', (compile) => {
    // Bias towards valid opcodes so that execution gets somewhere.
    const opcodes = [0x07, 0x0f, 0x17, 0x1f, 0x27, 0x37, 0x3f, 0x61, 0x63, 0x7b, 0x79, 0x85, 0x8d, 0x95, 0x05, 0x15, 0x55,
      0xb7, 0xbf, 0xc3, 0xdb, 0x18, 0x00, 0xd4, 0xdc, 0xd7, 0x06, 0x16, 0x81, 0x20, 0x30];
    const insn = fc.tuple(fc.oneof(fc.constantFrom(...opcodes), fc.integer({ min: 0, max: 255 })), fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: -8, max: 8 }), fc.oneof(fc.integer({ min: -16, max: 16 }), fc.integer()));
    fc.assert(
      fc.property(fc.array(insn, { minLength: 1, maxLength: 24 }), (insns) => {
        const bytes = new Uint8Array(insns.length * 8);
        const v = new DataView(bytes.buffer);
        insns.forEach(([code, regs, off, imm], i) => {
          bytes[i * 8] = code;
          bytes[i * 8 + 1] = regs;
          v.setInt16(i * 8 + 2, off, true);
          v.setInt32(i * 8 + 4, imm, true);
        });
        try {
          const vm = new Vm(bytes, { helpers: conformanceHelpers(), budget: 10_000, compile });
          const mem = vm.memory.map(new Uint8Array(16), 'mem');
          const r = vm.run([mem, 16n]);
          expect(r.executed).toBeLessThanOrEqual(10_000);
        } catch (e) {
          expect(e).toBeInstanceOf(VmFault);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
