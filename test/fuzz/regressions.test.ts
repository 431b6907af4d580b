// Inputs the fuzzer (fuzz/run.mjs) found crashing or hanging a layer, minimised to the one field
// that matters and rebuilt here by a builder, each now failing with a typed error. Where the kernel
// can judge the input, it is asked too, so that the refusal is of input the kernel also refuses.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BtfError, dumpC, dumpJson, dumpRaw, parseBtf } from '../../src/btf/index.js';
import { parseElf, sectionByName } from '../../src/elf/index.js';
import { BpfError } from '../../src/errors.js';
import { fixObject, FixError } from '../../src/fix/index.js';
import { readObject } from '../../src/object/index.js';
import { Emulator, EmulatorError, parseContextJson } from '../../src/vm/index.js';
import { BtfBuilder, KIND } from '../btf/builder.js';
import { corpusDir, haveCorpus, haveRoot, repoRoot } from '../helpers/env.js';
import { kernelBtfVerdict } from '../helpers/kernel-btf.js';

const project = (name: string) => Uint8Array.from(readFileSync(join(repoRoot, 'bpf/build/bpfel', name)));

/** int, and a struct of `size` bytes whose one int member sits at `bitOffset`. */
function structWithMemberAt(bitOffset: number, size = 28): Uint8Array {
  const b = new BtfBuilder();
  const int = b.type('int', KIND.INT, 0, false, 4, (1 << 24) | 32);
  b.type('event', KIND.STRUCT, 1, false, size, b.str('dport'), int, bitOffset);
  return b.build();
}

describe('BTF the C dump used to write without end', () => {
  it('a member at bit offset 2^31 (fentry_bpf_bpfel.o, one btf_member.offset changed): a BtfError naming the struct, at once', () => {
    const bytes = structWithMemberAt(2 ** 31);
    if (haveRoot()) expect(kernelBtfVerdict(bytes)).toMatch(/Member bits_offset exceeds its struct size/);
    const btf = parseBtf(bytes);
    const started = Date.now();
    expect(() => dumpC(btf)).toThrow(BtfError);
    expect(() => dumpC(btf)).toThrow(/type \[2\].*padding|padding.*type \[2\]/);
    expect(Date.now() - started).toBeLessThan(1000);
    // The raw and JSON dumps print the field as it is: their output is as long as the input.
    expect(dumpRaw(btf)).toContain('bits_offset=2147483648');
    expect(JSON.parse(dumpJson(btf))).toBeTruthy();
  });

  it('a struct of 4 GiB (sockex3_kern.o, btf_type.size changed): a BtfError, not a string longer than V8 allows', () => {
    const btf = parseBtf(structWithMemberAt(0, 0xffffffff));
    expect(() => dumpC(btf)).toThrow(BtfError);
  });

  it('a hole the dump pads with a few lines still dumps (the limit is far from real structs)', () => {
    const c = dumpC(parseBtf(structWithMemberAt(64 * 1024, 8 * 1024 + 4)));
    expect(c.match(/long: 64;/g)).toHaveLength(1024);
    expect(c).toContain('int dport;');
  });

  it('a loop of pointers (proxy.o, a PTR pointed at itself through another): a BtfError, not a stack overflow', () => {
    const b = new BtfBuilder();
    b.type('', KIND.PTR, 0, false, 2);
    b.type('', KIND.PTR, 0, false, 1);
    b.type('v', KIND.TYPEDEF, 0, false, 1);
    const bytes = b.build();
    if (haveRoot()) expect(kernelBtfVerdict(bytes)).toMatch(/Loop detected/);
    expect(() => dumpC(parseBtf(bytes))).toThrow(/or a loop/);
  });

  it('loops of modifiers and of arrays: BtfErrors', () => {
    const mods = new BtfBuilder();
    mods.type('', KIND.CONST, 0, false, 2);
    mods.type('', KIND.VOLATILE, 0, false, 1);
    expect(() => dumpC(parseBtf(mods.build()))).toThrow(BtfError);
    const arrays = new BtfBuilder();
    const int = arrays.type('int', KIND.INT, 0, false, 4, (1 << 24) | 32);
    arrays.type('', KIND.ARRAY, 0, false, 0, 2, int, 4);
    expect(() => dumpC(parseBtf(arrays.build()))).toThrow(BtfError);
  });

  it('a chain of 5000 const modifiers: a BtfError on the chain depth, not a stack overflow', () => {
    const b = new BtfBuilder();
    b.type('int', KIND.INT, 0, false, 4, (1 << 24) | 32);
    for (let i = 2; i <= 5001; i++) b.type('', KIND.CONST, 0, false, i - 1);
    b.type('deep', KIND.TYPEDEF, 0, false, 5001);
    expect(() => dumpC(parseBtf(b.build()))).toThrow(/deeper than/);
  });
});

describe('fix of an object whose .BTF.ext header points outside it', () => {
  // kprobe_bpf_bpfel.o and printk.o with func_info_len grown past the section: fix with a rename
  // walked the blocks before anything had checked them (RangeError from a DataView).
  it('a FixError naming .BTF.ext and the field, no output', () => {
    const bytes = project('tc_drop_icmp.o');
    const elf = parseElf(bytes);
    const ext = sectionByName(elf, '.BTF.ext')!;
    const v = new DataView(bytes.buffer);
    // struct btf_ext_header: func_info_len is the u32 at offset 12.
    v.setUint32(ext.offset + 12, ext.size + 4096, true);
    const program = readObject(project('tc_drop_icmp.o')).programs.find((p) => p.kind === 'entry')!;
    const fix = () => fixObject(bytes, { renames: [{ from: program.section, to: 'classifier' }] });
    expect(fix).toThrow(FixError);
    expect(fix).toThrow(/\.BTF\.ext.*func_info.*runs past the end/);
    // Without a rename nothing reads .BTF.ext, and the object is left as it is.
    expect(fixObject(bytes, { fixupDatasecs: false }).changed).toBe(false);
  });
});

describe('a map relocation on an ld_imm64 cut in half by the end of its program', () => {
  // The linux/trace_output_kern.o, and xdp_monitor_kern.o, with a function symbol's st_size
  // shortened: the emulator's linker wrote the second slot of the ld_imm64 past the program
  // (RangeError: Offset is outside the bounds of the DataView).
  function cutAfterFirstRelocation(bytes: Uint8Array, program: string): { insn: number } {
    const elf = parseElf(bytes);
    const sym = elf.symbols.find((s) => s.name === program)!;
    const first = readObject(bytes).programs.find((p) => p.name === program)!.relocations[0]!;
    expect(first.kind).toBe('map');
    // Elf64_Sym.st_size, the u64 at offset 16 of the symbol's entry, ends the program after the first slot.
    const symtab = elf.sections.find((s) => s.type === 2)!;
    new DataView(bytes.buffer).setBigUint64(symtab.offset + sym.index * 24 + 16, BigInt((first.insn + 1) * 8), true);
    return first;
  }

  it.each([
    ['bpf/build/bpfel/dnat.o', 'dnat_egress', true],
    ['linux/trace_output_kern.o', 'bpf_prog1', false],
  ])('%s: an error diagnostic of the program model, and the emulator refuses the program', (file, program, own) => {
    if (!own && !haveCorpus()) return;
    const bytes = Uint8Array.from(readFileSync(own ? join(repoRoot, file) : join(corpusDir, 'ebpf-samples', file)));
    const { insn } = cutAfterFirstRelocation(bytes, program);
    const obj = readObject(bytes);
    expect(obj.diagnostics).toContainEqual(expect.objectContaining({ severity: 'error', code: 'relocation-bad-insn', program, insn }));
    expect(() => Emulator.fromObject(obj, { program, type: 'sched_cls' })).toThrow(EmulatorError);
  });
});

describe('--ctx JSON', () => {
  // ovs datapath.o, dnat.o and xdp_redirect_map_kern.o runs with random --ctx values: the skb
  // context called .slice() on a number and Number() on an object.
  it.each([
    ['{"cb": 5}', /cb is an array/],
    ['{"cb": null}', /cb is an array/],
    ['{"cb": [1, 2, 3, 4, 5, 6]}', /at most 5/],
    ['{"cb": ["a"]}', /cb is an array/],
    ['{"mark": {}}', /'mark' is \{\}, not an integer/],
    ['{"mark": 1.5}', /not an integer/],
    ['[1]', /not an object/],
    ['{"mark": ', /not JSON/],
  ])('%s is refused with an EmulatorError', (text, message) => {
    expect(() => parseContextJson(text)).toThrow(EmulatorError);
    expect(() => parseContextJson(text)).toThrow(message);
  });

  it('well-formed values reach the run; an unknown name, __proto__ included, is refused by the context', () => {
    const emu = Emulator.fromObject(project('tc_drop_icmp.o'));
    const frame = new Uint8Array(64);
    expect(emu.run(frame, parseContextJson('{"mark": 7, "cb": [1, 2]}')).skb).toMatchObject({ mark: 7, cb: [1, 2, 0, 0, 0] });
    for (const text of ['{"__proto__": 1}', '{"nonsense": 1}']) {
      expect(() => emu.run(frame, parseContextJson(text))).toThrow(BpfError);
      expect(() => emu.run(frame, parseContextJson(text))).toThrow(/no field/);
    }
  });
});
