import { BTF_FUNC_EXTERN, CORE_RELO_KIND_NAMES, type Btf, type BtfExt } from '../btf/index.js';
import { BPF_INSN_SIZE } from '../isa/opcodes.js';
import type { BpfProgram, Diagnostic } from './model.js';

/**
 * Hand each program the func_info, line_info and CO-RE records of its instructions. BTF.ext keys
 * records by section name and byte offset in the section; the program model wants instruction
 * indexes relative to the program.
 */
export function attachBtfExt(programs: BpfProgram[], btf: Btf, ext: BtfExt, diagnostics: Diagnostic[]): void {
  const inProgram = (section: string, insnOff: number) =>
    programs.find((p) => p.section === section && insnOff >= p.offset && insnOff < p.offset + p.size);
  const place = <T extends { insnOff: number }>(section: string, records: T[], what: string, add: (p: BpfProgram, r: T, insn: number) => void) => {
    for (const r of records) {
      const program = inProgram(section, r.insnOff);
      if (!program) {
        diagnostics.push({ severity: 'warning', code: 'btf-ext-orphan', section, message: `${what} record at offset ${r.insnOff} of ${section} is in no program` });
        continue;
      }
      add(program, r, (r.insnOff - program.offset) / BPF_INSN_SIZE);
    }
  };
  for (const s of ext.funcInfo) place(s.section, s.records, 'func_info', (p, r, insn) => p.funcInfo.push({ ...r, insn }));
  for (const s of ext.lineInfo) place(s.section, s.records, 'line_info', (p, r, insn) => p.lineInfo.push({ ...r, insn }));
  for (const s of ext.coreRelos) {
    place(s.section, s.records, 'CO-RE relocation', (p, r, insn) => p.coreRelocations.push({
      insn, kind: CORE_RELO_KIND_NAMES[r.kind] ?? `kind ${r.kind}`, typeId: r.typeId,
      typeName: btf.typeName(r.typeId), accessStr: r.accessStr,
    }));
  }
}

/** Calls of undefined functions that BTF declares as extern FUNCs are kfunc calls (libbpf's ksyms). */
export function markKfuncCalls(programs: BpfProgram[], btf: Btf): void {
  for (const p of programs) {
    for (const r of p.relocations) {
      if (r.kind !== 'extern-call') continue;
      const func = btf.find(r.target, 'FUNC');
      if (func?.kind === 'FUNC' && func.linkage === BTF_FUNC_EXTERN) r.kind = 'kfunc';
    }
  }
}
