import {
  type ElfFile, type ElfSection, type ElfSymbol,
  SHN_ABS, SHN_COMMON, SHN_LORESERVE, SHN_UNDEF, STT_SECTION,
} from '../elf/index.js';
import { BPF_CALL, BPF_DW, BPF_IMM, BPF_INSN_SIZE, BPF_JMP, BPF_LD, BPF_PSEUDO_CALL } from '../isa/opcodes.js';
import { isProgramSection } from './programs.js';
import type { BpfProgram, Diagnostic, ProgramRelocation, RelocationKind } from './model.js';

const LD_IMM64 = BPF_LD | BPF_IMM | BPF_DW;
const CALL = BPF_JMP | BPF_CALL;

export function isMapSection(name: string): boolean {
  return name === 'maps' || name.startsWith('maps/') || name === '.maps';
}

export function isGlobalDataSection(name: string): boolean {
  return name === '.data' || name === '.bss' || name === '.rodata' || name === '.kconfig' ||
    name.startsWith('.data.') || name.startsWith('.rodata.') || name.startsWith('.bss.');
}

function srcReg(bytes: Uint8Array, offset: number, littleEndian: boolean): number {
  const regs = bytes[offset + 1]!;
  return littleEndian ? regs >> 4 : regs & 0xf;
}

/**
 * Classify each relocation of an executable section by the instruction it patches and the
 * symbol it names, as libbpf's bpf_program__record_reloc does, and attach it to its program.
 */
export function attachRelocations(elf: ElfFile, programs: BpfProgram[], diagnostics: Diagnostic[]): void {
  for (const relSection of elf.relocationSections) {
    const target = relSection.target;
    if (!isProgramSection(target)) continue;
    const inSection = programs.filter((p) => p.sectionIndex === target.index);
    for (const rel of relSection.relocations) {
      const symbol = elf.symbols[rel.symbol]!;
      const program = inSection.find((p) => rel.offset >= p.offset && rel.offset < p.offset + p.size);
      const where = { section: target.name, insn: Math.floor(rel.offset / BPF_INSN_SIZE) };
      if (!program) {
        diagnostics.push({ severity: 'warning', code: 'relocation-outside-program', ...where, message: `relocation at offset ${rel.offset} is in no program` });
        continue;
      }
      if (rel.offset % BPF_INSN_SIZE !== 0) {
        diagnostics.push({ severity: 'error', code: 'relocation-misaligned', ...where, program: program.name, message: `relocation at offset ${rel.offset} is not on an instruction boundary` });
        continue;
      }
      const reloc = classify(elf, target, rel.offset, rel.type, symbol, program, diagnostics);
      program.relocations.push(reloc);
    }
  }
}

function symbolSection(elf: ElfFile, symbol: ElfSymbol): ElfSection | undefined {
  if (symbol.shndx === SHN_UNDEF || symbol.shndx >= SHN_LORESERVE) return undefined;
  return elf.sections[symbol.shndx];
}

/**
 * The function a bpf-to-bpf call lands in. Against a section symbol the callee's instruction is
 * symbol + imm + 1 (libbpf's bpf_program__record_reloc), so name the function found there.
 */
function calleeName(elf: ElfFile, section: ElfSection, offset: number, symbol: ElfSymbol, target: ElfSection | undefined): string {
  if (symbol.type !== STT_SECTION || !target) return symbol.name;
  const imm = new DataView(section.data.buffer, section.data.byteOffset + offset, 8).getInt32(4, elf.littleEndian);
  const at = symbol.value + (imm + 1) * BPF_INSN_SIZE;
  const callee = elf.symbols.find((s) => s.shndx === target.index && s.type !== STT_SECTION && s.name !== '' && s.value === at);
  return callee?.name ?? `${target.name}+0x${at.toString(16)}`;
}

function classify(
  elf: ElfFile, section: ElfSection, offset: number, type: number, symbol: ElfSymbol,
  program: BpfProgram, diagnostics: Diagnostic[],
): ProgramRelocation {
  const opcode = section.data[offset]!;
  const targetSection = symbolSection(elf, symbol);
  const name = symbol.type === STT_SECTION && targetSection ? targetSection.name : symbol.name;
  const base = {
    insn: (offset - program.offset) / BPF_INSN_SIZE, sectionOffset: offset, type, symbol,
    target: name, ...(targetSection ? { targetSection: targetSection.name } : {}),
  };
  const kind = (k: RelocationKind, extra: Partial<ProgramRelocation> = {}): ProgramRelocation => ({ kind: k, ...base, ...extra });

  if (opcode === CALL) {
    if (symbol.shndx === SHN_UNDEF) return kind('extern-call');
    if (srcReg(section.data, offset, elf.littleEndian) !== BPF_PSEUDO_CALL) {
      diagnostics.push({ severity: 'error', code: 'call-relocation-not-pseudo', section: section.name, program: program.name, insn: base.insn, message: `relocation against ${name} patches a helper call, not a bpf-to-bpf call` });
      return kind('unknown');
    }
    return kind('call', { target: calleeName(elf, section, offset, symbol, targetSection) });
  }
  if (opcode !== LD_IMM64) {
    diagnostics.push({ severity: 'error', code: 'relocation-bad-insn', section: section.name, program: program.name, insn: base.insn, message: `relocation against ${name} patches opcode 0x${opcode.toString(16)}, which is neither ld_imm64 nor call` });
    return kind('unknown');
  }
  // An ld_imm64 is two slots; the relocation patches both, so both must be in the program.
  if (offset + 2 * BPF_INSN_SIZE > program.offset + program.size) {
    diagnostics.push({ severity: 'error', code: 'relocation-bad-insn', section: section.name, program: program.name, insn: base.insn, message: `relocation against ${name} patches an ld_imm64 whose second half is past the end of ${program.name}` });
    return kind('unknown');
  }
  if (symbol.shndx === SHN_UNDEF) return kind('extern');
  if (symbol.shndx === SHN_ABS || symbol.shndx === SHN_COMMON || !targetSection) {
    diagnostics.push({ severity: 'error', code: 'relocation-bad-symbol', section: section.name, program: program.name, insn: base.insn, message: `relocation against ${name}, which is not in a section bpfts understands` });
    return kind('unknown');
  }
  if (isProgramSection(targetSection)) return kind('subprog-address');
  if (isMapSection(targetSection.name)) return kind('map');
  if (isGlobalDataSection(targetSection.name)) {
    // Section-symbol relocations carry the variable's offset in the instruction's imm field.
    const view = new DataView(section.data.buffer, section.data.byteOffset + offset, 8);
    const imm = view.getInt32(4, elf.littleEndian);
    const dataOffset = symbol.type === STT_SECTION ? imm : symbol.value + imm;
    const variable = elf.symbols.find((s) => s.shndx === targetSection.index && s.type !== STT_SECTION &&
      s.name !== '' && dataOffset >= s.value && dataOffset < s.value + Math.max(s.size, 1));
    return kind('global-data', { dataOffset, target: variable?.name ?? targetSection.name });
  }
  diagnostics.push({ severity: 'error', code: 'relocation-unknown-section', section: section.name, program: program.name, insn: base.insn, message: `relocation against ${name} in section ${targetSection.name}, which is neither a map nor a global data section` });
  return kind('unknown');
}
