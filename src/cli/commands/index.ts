import type { Command } from '../command.js';

/**
 * Every command, by the words that select it. A command's module (and the layers it imports, such
 * as the koffi-backed loader) is only loaded when that command runs, so `bpfts btf dump` does not
 * pay for the loader's start-up.
 */
export interface CommandEntry {
  path: string[];
  summary: string;
  load(): Promise<Command>;
}

export const commands: CommandEntry[] = [
  { path: ['inspect'], summary: 'Show the programs, maps, global data, relocations, BTF and problems of a BPF object', load: async () => (await import('./inspect.js')).inspect },
  { path: ['disasm'], summary: 'Disassemble the programs of an object, as `llvm-objdump -d` prints them', load: async () => (await import('./disasm.js')).disasm },
  { path: ['btf', 'dump'], summary: 'Print the BTF of an object or raw BTF file, as `bpftool btf dump file` does', load: async () => (await import('./btf.js')).btfDump },
  { path: ['conformance-plugin'], summary: "Run one program for the BPF conformance suite's runner (its plugin protocol)", load: async () => (await import('./conformance-plugin.js')).conformancePlugin },
];
