// Reads section and symbol tables of an ELF object through llvm-objdump-19, an oracle
// independent of the project's own ELF reader.
import { execFileSync } from 'node:child_process';

export interface ObjdumpSymbol {
  name: string;
  section: string;
  global: boolean;
  /** 'F' function, 'O' data object, or '' for section/file symbols. */
  kind: 'F' | 'O' | '';
}

export function sectionNames(objdump: string, file: string): string[] {
  const out = execFileSync(objdump, ['-h', file], { encoding: 'utf8' });
  const names: string[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*\d+\s+(\S+)\s+[0-9a-f]{8}\s/.exec(line);
    if (m) names.push(m[1]);
  }
  return names;
}

export function symbols(objdump: string, file: string): ObjdumpSymbol[] {
  const out = execFileSync(objdump, ['-t', file], { encoding: 'utf8' });
  const syms: ObjdumpSymbol[] = [];
  for (const line of out.split('\n')) {
    // e.g. "0000000000000000 g     F tc\t0000000000000050 log_packet"
    const m = /^[0-9a-f]{16} (.{7}) (\S+)\t[0-9a-f]{16} (.*)$/.exec(line);
    if (!m) continue;
    const flags = m[1];
    const kind = flags[6] === 'F' ? 'F' : flags[6] === 'O' ? 'O' : '';
    syms.push({ name: m[3], section: m[2], global: flags[0] === 'g', kind });
  }
  return syms;
}

export function disassemble(objdump: string, file: string): string {
  return execFileSync(objdump, ['-d', '--no-show-raw-insn', file], { encoding: 'utf8' });
}
