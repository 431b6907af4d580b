import { readObject, type BpfObject } from '../../object/index.js';
import { flag, onePositional, type Command } from '../command.js';
import { readInput } from '../files.js';
import { json, table } from '../format.js';

export function objectSummary(obj: BpfObject) {
  return {
    byteOrder: obj.littleEndian ? 'little' : 'big',
    license: obj.license ?? null,
    kernelVersion: obj.kernelVersion ?? null,
    programs: obj.programs.map((p) => ({
      section: p.section, name: p.name, kind: p.kind, insns: p.insnCount, global: p.global,
      relocations: p.relocations.map((r) => ({ insn: r.insn, kind: r.kind, target: r.target, ...(r.dataOffset !== undefined ? { dataOffset: r.dataOffset } : {}) })),
    })),
    maps: obj.maps.map((m) => ({
      name: m.name, definedBy: m.style, section: m.section, type: m.type, keySize: m.keySize, valueSize: m.valueSize,
      maxEntries: m.maxEntries, flags: m.flags, pinning: m.pinning,
    })),
    globals: obj.globals.map((g) => ({
      section: g.section, size: g.size, readOnly: g.readOnly,
      variables: g.variables.map((v) => ({ name: v.name, offset: v.offset, size: v.size })),
    })),
    btf: obj.btfSection ? { size: obj.btfSection.size, ext: obj.btfExtSection ? obj.btfExtSection.size : null } : null,
    diagnostics: obj.diagnostics,
  };
}

function text(path: string, s: ReturnType<typeof objectSummary>): string {
  let out = `${path}: ELF64 ${s.byteOrder}-endian BPF object, license ${s.license === null ? '(none)' : JSON.stringify(s.license)}`;
  out += s.btf ? `, BTF ${s.btf.size} bytes${s.btf.ext !== null ? `, BTF.ext ${s.btf.ext} bytes` : ''}\n` : ', no BTF\n';
  out += `\nPrograms (${s.programs.length}):\n`;
  out += table(['SECTION', 'NAME', 'KIND', 'INSNS', 'RELOCS'], s.programs.map((p) => [p.section, p.name, p.kind, p.insns, p.relocations.length]));
  out += `\nMaps (${s.maps.length}):\n`;
  if (s.maps.length) {
    out += table(['NAME', 'TYPE', 'KEY', 'VALUE', 'MAX_ENTRIES', 'FLAGS', 'PINNING', 'DEFINED'],
      s.maps.map((m) => [m.name, m.type, m.keySize, m.valueSize, m.maxEntries, `0x${m.flags.toString(16)}`, m.pinning, `${m.definedBy} (${m.section})`]));
  }
  out += `\nGlobal data (${s.globals.length}):\n`;
  for (const g of s.globals) {
    out += `  ${g.section}: ${g.size} bytes${g.readOnly ? ', read-only' : ''}${g.variables.length ? ': ' + g.variables.map((v) => `${v.name}@${v.offset}(${v.size})`).join(', ') : ''}\n`;
  }
  const relocs = s.programs.flatMap((p) => p.relocations.map((r) => [p.name, r.insn, r.kind, r.target + (r.dataOffset ? `+${r.dataOffset}` : '')]));
  out += `\nRelocations (${relocs.length}):\n`;
  if (relocs.length) out += table(['PROGRAM', 'INSN', 'KIND', 'TARGET'], relocs);
  out += `\nDiagnostics (${s.diagnostics.length}):\n`;
  for (const d of s.diagnostics) out += `  ${d.severity}: ${d.section ? `${d.section}: ` : ''}${d.message} [${d.code}]\n`;
  return out;
}

export const inspect: Command = {
  path: ['inspect'],
  summary: 'Show the programs, maps, global data, relocations, BTF and problems of a BPF object',
  usage: 'OBJ [--json]',
  options: { json: { type: 'boolean', description: 'print a JSON document instead of text' } },
  run(args, io) {
    const path = onePositional(args, 'object file', inspect);
    const summary = objectSummary(readObject(readInput(path)));
    io.out(flag(args, 'json') ? json({ file: path, ...summary }) : text(path, summary));
    return 0;
  },
};
