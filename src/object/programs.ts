import {
  type ElfFile, type ElfSection, type ElfSymbol,
  SHF_EXECINSTR, SHT_PROGBITS, STB_GLOBAL, STB_WEAK, STT_FUNC, STT_NOTYPE,
} from '../elf/index.js';
import { BPF_INSN_SIZE } from '../isa/opcodes.js';
import type { BpfProgram, Diagnostic } from './model.js';

/** Code lives in SHT_PROGBITS sections marked executable (a corrupt SHT_NOBITS one has no bytes). */
export function isProgramSection(section: ElfSection): boolean {
  return section.type === SHT_PROGBITS && (section.flags & SHF_EXECINSTR) !== 0 && section.size > 0;
}

/** Symbols that start a function in `section`: STT_FUNC, or global STT_NOTYPE as old clang emitted. */
function functionSymbols(elf: ElfFile, section: ElfSection): ElfSymbol[] {
  return elf.symbols
    .filter((s) => s.shndx === section.index && s.name !== '' &&
      (s.type === STT_FUNC || (s.type === STT_NOTYPE && (s.bind === STB_GLOBAL || s.bind === STB_WEAK))))
    .sort((a, b) => a.value - b.value);
}

/**
 * Split executable sections into programs the way libbpf does: one program per function symbol,
 * `.text` functions being sub-programs. A section with no function symbols (iproute2-era objects)
 * becomes one program named after the section, as tc loads it.
 */
export function findPrograms(elf: ElfFile, diagnostics: Diagnostic[]): BpfProgram[] {
  const programs: BpfProgram[] = [];
  const executable = elf.sections.filter(isProgramSection);
  for (const section of executable) {
    if (section.size % BPF_INSN_SIZE !== 0) {
      diagnostics.push({
        severity: 'error', code: 'section-size', section: section.name,
        message: `section size ${section.size} is not a multiple of ${BPF_INSN_SIZE}, the instruction size`,
      });
    }
    const symbols = functionSymbols(elf, section);
    // libbpf's legacy rule (prog_is_subprog): a lone function in .text, in an object with no
    // other program, is an entry point written without SEC(); otherwise .text holds sub-programs.
    const isText = section.name === '.text' && !(executable.length === 1 && symbols.length === 1);
    if (symbols.length === 0) {
      programs.push(makeProgram(section, section.name, 0, section.size, isText ? 'subprog' : 'entry', true, true));
      continue;
    }
    if (symbols[0]!.value !== 0) {
      diagnostics.push({
        severity: 'warning', code: 'code-before-first-symbol', section: section.name,
        message: `the first ${symbols[0]!.value} bytes of ${section.name} belong to no function symbol`,
      });
    }
    symbols.forEach((sym, i) => {
      const next = symbols[i + 1];
      const end = sym.size > 0 ? sym.value + sym.size : next ? next.value : section.size;
      if (sym.value % BPF_INSN_SIZE !== 0 || end > section.size || end <= sym.value) {
        diagnostics.push({
          severity: 'error', code: 'bad-function-symbol', section: section.name, program: sym.name,
          message: `function symbol ${sym.name} (offset ${sym.value}, size ${sym.size}) does not fit instruction boundaries of ${section.name} (size ${section.size})`,
        });
        return;
      }
      const global = sym.bind === STB_GLOBAL || sym.bind === STB_WEAK;
      programs.push(makeProgram(section, sym.name, sym.value, end - sym.value, isText ? 'subprog' : 'entry', global, sym.type === STT_NOTYPE));
    });
  }
  return programs;
}

function makeProgram(
  section: ElfSection, name: string, offset: number, size: number,
  kind: BpfProgram['kind'], global: boolean, notypeSymbol: boolean,
): BpfProgram {
  const whole = size - (size % BPF_INSN_SIZE);
  return {
    name, section: section.name, sectionIndex: section.index, offset, size: whole,
    insnCount: whole / BPF_INSN_SIZE,
    bytes: section.data.subarray(offset, offset + whole),
    kind, global, notypeSymbol, relocations: [], funcInfo: [], lineInfo: [], coreRelocations: [],
  };
}
