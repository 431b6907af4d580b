// A listing in the layout of `llvm-objdump-19 -d --no-show-raw-insn` (everything after its
// `file format` line), reproducing llvm-objdump's walk: which sections, which symbol heads each
// chunk, zero-run elision, byte-by-byte resynchronisation after undecodable tails, and branch
// target annotations.
import type { ElfFile, ElfSection, ElfSymbol } from '../elf/index.js';
import { SHF_EXECINSTR, SHN_LORESERVE, SHT_NOBITS, STT_FILE, STT_FUNC, STT_OBJECT, STT_SECTION } from '../elf/index.js';
import { BPF_LD_IMM64, readSlot } from './decode.js';
import { branchDistance, llvmText } from './format.js';
import { BPF_INSN_SIZE } from './opcodes.js';

/** One line of C source attached to an instruction (from BTF line_info). */
export interface SourceLine {
  file: string;
  line: number;
  column: number;
  /** The source text of the line. */
  text: string;
}

/**
 * Source lines for `--source`: called with a section name and the byte offset of an instruction
 * in it, returns the line_info record that starts at that instruction, if any.
 */
export type LineInfoLookup = (section: string, insnOffset: number) => SourceLine | undefined;

/** The shape of BTF.ext line_info as the btf layer parses it (structural, so isa needs no btf import). */
export interface LineInfoSections {
  section: string;
  records: { insnOff: number; fileName: string; line: string; lineNum: number; column: number }[];
}

/** A LineInfoLookup over parsed .BTF.ext line_info (record offsets are in bytes, as stored). */
export function lineInfoLookup(lineInfo: LineInfoSections[]): LineInfoLookup {
  const bySection = new Map<string, Map<number, SourceLine>>();
  for (const { section, records } of lineInfo) {
    const lines = bySection.get(section) ?? new Map<number, SourceLine>();
    for (const r of records) {
      if (!lines.has(r.insnOff)) lines.set(r.insnOff, { file: r.fileName, line: r.lineNum, column: r.column, text: r.line });
    }
    bySection.set(section, lines);
  }
  return (section, insnOffset) => bySection.get(section)?.get(insnOffset);
}

export interface DisassembleOptions {
  /** Only this section (by name), disassembled even when it is not executable, like `-j`. */
  section?: string;
  /** Interleave `; source` lines before the instructions that start a source line. */
  lineInfo?: LineInfoLookup;
}

interface ListedSymbol {
  addr: number;
  name: string;
  type: number;
}

/** llvm-objdump's symbol order: address, then type, then name (its SymbolInfoTy operator<). */
function compareSymbols(a: ListedSymbol, b: ListedSymbol): number {
  if (a.addr !== b.addr) return a.addr - b.addr;
  if (a.type !== b.type) return a.type - b.type;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** The symbols llvm-objdump shows in a section: named, not STT_SECTION/STT_FILE, sorted. */
function sectionSymbols(elf: ElfFile, section: ElfSection): ListedSymbol[] {
  const listed = elf.symbols
    .filter((s: ElfSymbol) => s.index !== 0 && s.name !== '' && s.type !== STT_SECTION && s.type !== STT_FILE)
    .filter((s) => s.shndx === section.index && s.shndx < SHN_LORESERVE)
    .map((s) => ({ addr: s.value, name: s.name, type: s.type }));
  listed.sort(compareSymbols);
  const text = (section.flags & SHF_EXECINSTR) !== 0;
  if (!listed.some((s) => s.addr === 0)) listed.unshift({ addr: 0, name: section.name, type: text ? STT_FUNC : STT_OBJECT });
  return listed;
}

/** The last symbol at or before `target` (llvm-objdump's partition_point lookup), unsigned. */
function symbolAtOrBefore(symbols: ListedSymbol[], target: bigint): ListedSymbol | undefined {
  let lo = 0;
  let hi = symbols.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (BigInt(symbols[mid]!.addr) <= target) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? undefined : symbols[lo - 1];
}

/** Leading zero bytes llvm-objdump elides as `...`: none below 8, else a multiple of 4. */
function skippableZeros(bytes: Uint8Array, start: number, end: number): number {
  let n = 0;
  while (start + n < end && bytes[start + n] === 0) n++;
  return n < 8 ? 0 : n & ~3;
}

function address(value: number): string {
  return value.toString(16).padStart(16, '0');
}

function disassembleSection(elf: ElfFile, section: ElfSection, options: DisassembleOptions): string {
  const bytes = section.data;
  const size = section.size;
  const symbols = sectionSymbols(elf, section);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = (section.flags & SHF_EXECINSTR) !== 0;
  const out: string[] = [];
  let printedHeader = false;

  for (let si = 0; si < symbols.length; ) {
    const start = symbols[si]!.addr;
    const first = si;
    while (si < symbols.length && symbols[si]!.addr === start) si++;
    const here = symbols.slice(first, si);
    // In a code section a chunk whose symbols are all data is dumped as bytes; otherwise the last
    // code symbol names it.
    let display = here.length - 1;
    let asData = text;
    here.forEach((s, i) => {
      if (s.type !== STT_OBJECT && s.type !== ELF_STT_COMMON) {
        asData = false;
        display = i;
      }
    });
    const end = Math.min(size, si < symbols.length ? symbols[si]!.addr : size);
    if (start >= end) continue;
    if (!printedHeader) {
      out.push(`\nDisassembly of section ${section.name}:\n`);
      printedHeader = true;
    }
    out.push(`\n${address(start)} <${here[display]!.name}>:\n`);
    if (section.type === SHT_NOBITS) {
      out.push('...\n');
      continue;
    }
    if (asData) {
      out.push(dumpData(bytes, start, end));
      continue;
    }
    let index = start;
    while (index < end) {
      const zeros = skippableZeros(bytes, index, end);
      if (zeros > 0) {
        out.push('\t\t...\n');
        index += zeros;
        continue;
      }
      const source = options.lineInfo?.(section.name, index);
      if (source) out.push(`; ${source.text.trimStart()}\n`);
      const remaining = size - index;
      let length = 1;
      let line: string | undefined;
      if (remaining >= BPF_INSN_SIZE) {
        const slot = readSlot(view, index, elf.littleEndian);
        const wide = slot.opcode === BPF_LD_IMM64;
        const hi = wide && remaining >= 2 * BPF_INSN_SIZE ? view.getInt32(index + 12, elf.littleEndian) : undefined;
        line = llvmText(slot, hi);
        // LLVM decodes the first slot before it looks for the second: an ld_imm64 that decodes but
        // has no second slot skips one byte; any other failure skips the slot.
        const truncated = wide && hi === undefined && llvmText(slot, 0) !== undefined;
        length = truncated ? 1 : wide && line !== undefined ? 2 * BPF_INSN_SIZE : BPF_INSN_SIZE;
        const distance = line === undefined ? undefined : branchDistance(slot);
        if (distance !== undefined) {
          const target = BigInt.asUintN(64, BigInt(index) + 8n + BigInt(distance) * 8n);
          const sym = symbolAtOrBefore(symbols, target);
          if (sym) {
            const disp = target - BigInt(sym.addr);
            line += disp === 0n ? ` <${sym.name}>` : ` <${sym.name}+0x${disp.toString(16)}>`;
          }
        }
      }
      out.push(`${String(Math.floor(index / BPF_INSN_SIZE)).padStart(8)}:\t${line ?? '<unknown>'}\n`);
      index += length;
    }
  }
  return out.join('');
}

/** STT_COMMON (elf.h); llvm-objdump treats it as data like STT_OBJECT. */
const ELF_STT_COMMON = 5;

/** llvm-objdump's dumpELFData: data symbols in a code section, 8 bytes a line with ASCII. */
function dumpData(bytes: Uint8Array, start: number, end: number): string {
  let out = '';
  let ascii = '';
  let count = 0;
  for (let index = start; index < end; index++) {
    if (count === 0) out += `${index.toString(16).padStart(8)}:`;
    const byte = bytes[index]!;
    out += ` ${byte.toString(16).padStart(2, '0')}`;
    ascii += byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '.';
    count++;
    let indent = 0;
    if (index === end - 1 || count > 8) {
      indent = 3 * (8 - count);
      count = 8;
    }
    if (count === 8) {
      out += `${' '.repeat(indent)}         ${ascii}\n`;
      ascii = '';
      count = 0;
    }
  }
  return out;
}

/**
 * Disassemble an object as `llvm-objdump-19 -d --no-show-raw-insn` does, returning what it prints
 * after its `file format` line. Without `section`, every non-empty SHF_EXECINSTR section; with it,
 * the sections of that name whatever their flags (like `-j`).
 */
export function disassemble(elf: ElfFile, options: DisassembleOptions = {}): string {
  const chosen = elf.sections.filter((s) => {
    if (s.index === 0 || s.size === 0) return false;
    if (options.section !== undefined) return s.name === options.section;
    return (s.flags & SHF_EXECINSTR) !== 0 && s.type !== SHT_NOBITS;
  });
  return chosen.map((s) => disassembleSection(elf, s, options)).join('');
}
