// bpf-to-bpf calls, callx, helpers, budget and the refusals of malformed programs.
import { describe, expect, it } from 'vitest';
import { decodeProgram, Vm, VmFault, type HelperFn } from '../../src/vm/index.js';
import { encode, exit, lddw, mov64, movImm, type Insn } from './asm.js';

const call = (rel: number): Insn => ({ code: 0x85, src: 1, imm: rel });
const helper = (id: number): Insn => ({ code: 0x85, imm: id });
const add = (dst: number, src: number): Insn => ({ code: 0x0f, dst, src });

function faultOf(f: () => unknown): VmFault {
  try {
    f();
  } catch (e) {
    if (e instanceof VmFault) return e;
    throw e;
  }
  throw new Error('expected a VmFault');
}

describe('bpf-to-bpf calls', () => {
  it('pass r1-r5, return r0, preserve r6-r9 and give the callee its own zeroed 512-byte frame', () => {
    const prog = [
      movImm(6, 6), movImm(7, 7), movImm(8, 8), movImm(9, 9),
      { code: 0x7a, dst: 10, off: -8, imm: 100 }, // caller's slot
      movImm(1, 1), movImm(2, 2),
      call(9), // -> 17
      // r0 = callee result + caller slot + r6..r9
      { code: 0x79, dst: 1, src: 10, off: -8 },
      add(0, 1), add(0, 6), add(0, 7), add(0, 8), add(0, 9),
      exit,
      movImm(0, -1), exit, // padding, never run
      // 17: callee: clobbers r6-r9 and its own slot; r0 = r1 + r2 + (initial slot value, must be 0)
      movImm(6, 0), movImm(7, 0), movImm(8, 0), movImm(9, 0),
      { code: 0x79, dst: 0, src: 10, off: -8 },
      { code: 0x7a, dst: 10, off: -8, imm: 5000 },
      add(0, 1), add(0, 2),
      exit,
    ];
    expect(new Vm(encode(prog)).run().r0).toBe(3n + 100n + 6n + 7n + 8n + 9n);
  });

  it('lets a callee write into its caller frame through a pointer', () => {
    const prog = [
      mov64(1, 10), { code: 0x07, dst: 1, imm: -8 },
      call(2),
      { code: 0x79, dst: 0, src: 10, off: -8 }, exit,
      { code: 0x7a, dst: 1, imm: 42 }, exit,
    ];
    expect(new Vm(encode(prog)).run().r0).toBe(42n);
  });

  it('allows 8 frames and refuses a 9th, as the kernel does', () => {
    // f(n): if n == 0 return 0; return f(n - 1) + 1
    const recurse = (n: number) => [
      movImm(1, n), call(1), exit,
      { code: 0x55, dst: 1, off: 2, imm: 0 }, movImm(0, 0), exit,
      { code: 0x07, dst: 1, imm: -1 }, call(-5), { code: 0x07, dst: 0, imm: 1 }, exit,
    ];
    expect(new Vm(encode(recurse(6))).run().r0).toBe(6n); // frames 0..7
    const f = faultOf(() => new Vm(encode(recurse(7))).run());
    expect(f.kind).toBe('call-depth');
  });

  it('callx calls a function whose address ld_imm64 (BPF_PSEUDO_FUNC) took', () => {
    const prog = [
      ...lddw(2, 4n, 4), // target = pc 0 + 4 + 1 = 5
      { code: 0x8d, dst: 2 },
      exit,
      movImm(0, -1),
      movImm(0, 77), exit,
    ];
    expect(new Vm(encode(prog)).run().r0).toBe(77n);
  });

  it('callx with a helper id calls the helper (the conformance suite encoding)', () => {
    const helpers = new Map<number, HelperFn>([[9, (vm) => vm.arg(1) * 2n]]);
    const prog = [movImm(1, 21), movImm(2, 9), { code: 0x8d, dst: 2 }, exit];
    expect(new Vm(encode(prog), { helpers }).run().r0).toBe(42n);
    const bad = [...lddw(2, 0x500000000n), { code: 0x8d, dst: 2 }, exit];
    expect(faultOf(() => new Vm(encode(bad), { helpers }).run()).kind).toBe('helper');
  });
});

describe('helpers', () => {
  it('receive the VM, read and write emulator memory, and set r0', () => {
    const seen: number[] = [];
    const helpers = new Map<number, HelperFn>([
      [1, (vm) => {
        const v = vm.view(vm.arg(1), Number(vm.arg(2)), true);
        seen.push(...v);
        v.fill(9);
        return -1;
      }],
    ]);
    const prog = [
      { code: 0x7a, dst: 10, off: -8, imm: 0x04030201 },
      mov64(1, 10), { code: 0x07, dst: 1, imm: -8 }, movImm(2, 4),
      helper(1),
      mov64(6, 0),
      { code: 0x79, dst: 0, src: 10, off: -8 },
      add(0, 6),
      exit,
    ];
    expect(new Vm(encode(prog), { helpers }).run().r0).toBe(0x09090909n - 1n);
    expect(seen).toEqual([1, 2, 3, 4]);
  });

  it('fault on unknown ids, bad pointers and their own errors', () => {
    expect(faultOf(() => new Vm(encode([helper(1), exit])).run()).message).toMatch(/bpf_map_lookup_elem \(#1\), which the emulator does not provide/);
    expect(faultOf(() => new Vm(encode([helper(5000), exit])).run()).message).toMatch(/unknown helper #5000/);
    const helpers = new Map<number, HelperFn>([
      [1, (vm) => {
        vm.read(vm.arg(1), 16);
      }],
      [2, () => {
        throw new Error('boom');
      }],
    ]);
    const oob = faultOf(() => new Vm(encode([mov64(1, 10), { code: 0x07, dst: 1, imm: -8 }, helper(1), exit]), { helpers }).run());
    expect(oob.kind).toBe('memory');
    expect(oob.pc).toBe(2);
    const boom = faultOf(() => new Vm(encode([helper(2), exit]), { helpers }).run());
    expect(boom.kind).toBe('helper');
    expect(boom.message).toMatch(/boom/);
  });

  it('can end the program early', () => {
    const helpers = new Map<number, HelperFn>([[1, (vm) => vm.exit(5)]]);
    expect(new Vm(encode([helper(1), movImm(0, 1), exit]), { helpers }).run().r0).toBe(5n);
  });
});

describe('budget and falling off the end', () => {
  it('stops an endless loop with a budget fault', () => {
    const f = faultOf(() => new Vm(encode([{ code: 0x05, off: -1 }, exit])).run());
    expect(f.kind).toBe('budget');
    const small = faultOf(() => new Vm(encode([movImm(0, 0), movImm(0, 1), exit]), { budget: 2 }).run());
    expect(small.kind).toBe('budget');
    expect(new Vm(encode([movImm(0, 0), movImm(0, 1), exit]), { budget: 3 }).run()).toEqual({ r0: 1n, executed: 3 });
  });

  it('faults when execution runs past the last instruction', () => {
    expect(faultOf(() => new Vm(encode([movImm(0, 0)])).run()).kind).toBe('fall-through');
  });
});

describe('refused encodings', () => {
  const refused = (insns: Insn[]) => faultOf(() => decodeProgram(encode(insns)));
  it.each([
    ['unknown opcode', [{ code: 0xff }, exit]],
    ['jump past the end', [{ code: 0x05, off: 5 }, exit]],
    ['jump into a 64-bit immediate load', [{ code: 0x05, off: 1 }, ...lddw(0, 1n), exit]],
    ['truncated 64-bit immediate load', [exit, lddw(0, 1n)[0]!]],
    ['write to r10', [movImm(10, 0), exit]],
    ['register 11', [movImm(11, 0), exit]],
    ['bad byte swap width', [{ code: 0xdc, dst: 0, imm: 8 }, exit]],
    ['div with offset 2', [{ code: 0x37, dst: 0, off: 2, imm: 1 }, exit]],
    ['movsx with offset 7', [{ code: 0xbf, dst: 0, src: 1, off: 7 }, exit]],
    ['unknown atomic op', [{ code: 0xdb, dst: 1, src: 2, imm: 0x10 }, exit]],
    ['pseudo ld_imm64 without resolver', [...lddw(1, 3n, 1), exit]],
    ['local call outside the program', [call(10), exit]],
  ] as [string, Insn[]][])('%s', (_name, insns) => {
    expect(refused(insns).kind).toBe('invalid-insn');
  });

  it('resolves pseudo ld_imm64 through the caller', () => {
    const vm = new Vm(encode([...lddw(0, 3n, 1), exit]), {
      resolveLdImm64: ({ src, imm }) => (BigInt(src) << 40n) | BigInt(imm),
    });
    expect(vm.run().r0).toBe((1n << 40n) | 3n);
  });

  it('refuses a program whose length is not a multiple of 8', () => {
    expect(faultOf(() => decodeProgram(new Uint8Array(12))).kind).toBe('invalid-insn');
  });
});

describe('legacy packet loads', () => {
  it('load big-endian from the packet and exit with 0 when out of range', () => {
    const pkt = new Uint8Array([0x11, 0x22, 0x33, 0x44, 0x55]);
    const run = (insns: Insn[]) => {
      const vm = new Vm(encode(insns));
      vm.setLegacyPacket(vm.memory.map(pkt, 'pkt', false), pkt.length);
      return vm.run().r0;
    };
    expect(run([{ code: 0x20, imm: 1 }, exit])).toBe(0x22334455n);
    expect(run([{ code: 0x28, imm: 0 }, exit])).toBe(0x1122n);
    expect(run([movImm(3, 2), { code: 0x50, src: 3, imm: 2 }, exit])).toBe(0x55n);
    expect(run([{ code: 0x20, imm: 2 }, movImm(0, 9), exit])).toBe(0n);
  });
});
