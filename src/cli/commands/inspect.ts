import { readObject, summarizeObject, type ObjectSummary } from '../../object/index.js';
import { flag, onePositional, type Command } from '../command.js';
import { readInput } from '../files.js';
import { json, table } from '../format.js';

function text(path: string, s: ObjectSummary): string {
  let out = `${path}: ELF64 ${s.byteOrder}-endian BPF object, license ${s.license === null ? '(none)' : JSON.stringify(s.license)}`;
  out += s.btf ? `, BTF ${s.btf.size} bytes (${s.btf.types ?? 'invalid'} types)` : ', no BTF';
  out += s.btf?.ext ? `, BTF.ext ${s.btf.ext.size} bytes (${s.btf.ext.funcInfo} func_info, ${s.btf.ext.lineInfo} line_info, ${s.btf.ext.coreRelos} CO-RE relocations)\n` : '\n';
  out += `\nPrograms (${s.programs.length}):\n`;
  out += table(['SECTION', 'NAME', 'TYPE (libbpf)', 'ATTACH', 'INSNS', 'RELOCS'],
    s.programs.map((p) => [p.section, p.name, p.kind === 'subprog' ? '(sub-program)' : p.type ?? 'unknown', p.attachType ?? '-', p.insns, p.relocations.length]));
  out += `\nMaps (${s.maps.length}):\n`;
  if (s.maps.length) {
    out += table(['NAME', 'TYPE', 'KEY', 'VALUE', 'MAX_ENTRIES', 'FLAGS', 'PINNING', 'DEFINED'],
      s.maps.map((m) => [m.name, m.type, m.keyType ? `${m.keySize} (${m.keyType})` : m.keySize, m.valueType ? `${m.valueSize} (${m.valueType})` : m.valueSize,
        m.maxEntries, `0x${m.flags.toString(16)}`, m.pinning, `${m.definedBy} (${m.section})`]));
  }
  out += `\nGlobal data (${s.globals.length}):\n`;
  for (const g of s.globals) {
    out += `  ${g.section}: ${g.size} bytes${g.readOnly ? ', read-only' : ''}${g.variables.length ? ': ' + g.variables.map((v) => `${v.name}@${v.offset}(${v.size})`).join(', ') : ''}\n`;
  }
  const relocs = s.programs.flatMap((p) => p.relocations.map((r) => [p.name, r.insn, r.kind, r.kind === 'global-data' ? `${r.section}+${r.dataOffset} (${r.target})` : r.target]));
  out += `\nRelocations (${relocs.length}):\n`;
  if (relocs.length) out += table(['PROGRAM', 'INSN', 'KIND', 'TARGET'], relocs);
  const core = s.programs.flatMap((p) => p.coreRelocations.map((r) => [p.name, r.insn, r.kind, `${r.type} ${r.access}`]));
  if (core.length) out += `\nCO-RE relocations (${core.length}):\n` + table(['PROGRAM', 'INSN', 'KIND', 'TYPE AND ACCESS'], core);
  out += `\nDiagnostics (${s.diagnostics.length}):\n`;
  for (const d of s.diagnostics) out += `  ${d.severity}: ${d.section ? `${d.section}: ` : ''}${d.message} [${d.code}]\n`;
  return out;
}

export const inspect: Command = {
  path: ['inspect'],
  summary: 'Show the programs, maps, global data, relocations, BTF and problems of a BPF object',
  details: `TYPE is the program type libbpf (current upstream) gives the section name, or "unknown"
when libbpf has no such section; \`bpfts doctor\` explains what each loader makes of it.`,
  usage: 'OBJ [--json]',
  options: { json: { type: 'boolean', description: 'print a JSON document instead of text' } },
  run(args, io) {
    const path = onePositional(args, 'object file', inspect);
    const summary = summarizeObject(readObject(readInput(path)));
    io.out(flag(args, 'json') ? json({ file: path, ...summary }) : text(path, summary));
    return 0;
  },
};
