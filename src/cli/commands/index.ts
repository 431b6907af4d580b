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
  { path: ['gen', 'types'], summary: "Write TypeScript types for an object's maps, globals and programs, from its BTF", load: async () => (await import('./gen.js')).genTypes },
  { path: ['run'], summary: 'Run a program of an object on packets, in the emulator or (--kernel) with BPF_PROG_TEST_RUN, or a tracing program on --memory', load: async () => (await import('./run.js')).run },
  { path: ['conformance-plugin'], summary: "Run one program for the BPF conformance suite's runner (its plugin protocol)", load: async () => (await import('./conformance-plugin.js')).conformancePlugin },
  { path: ['doctor'], summary: 'Explain why a BPF object would not load (section names, BTF, maps, license) and how to fix it', load: async () => (await import('./doctor.js')).doctor },
  { path: ['fix'], summary: 'Write a repaired copy of a BPF object: renamed sections, BTF DATASEC sizes/offsets, BTF for older kernels', load: async () => (await import('./fix.js')).fix },
  { path: ['verify'], summary: 'doctor plus an offline run of the kernel verifier\'s checks: the verdict, instruction and message the kernel would give', load: async () => (await import('./verify.js')).verify },
  { path: ['load'], summary: 'Load a BPF object into the kernel and attach a program to tc, tcx or XDP', load: async () => (await import('./load.js')).load },
  { path: ['detach'], summary: 'Detach BPF programs from tc, tcx or XDP', load: async () => (await import('./detach.js')).detach },
  { path: ['trace'], summary: 'Load a tracing object, attach its programs and print the records they send through a perf event array or ring buffer', load: async () => (await import('./trace.js')).trace },
  { path: ['trace-log'], summary: 'Print bpf_printk output as it arrives (tracefs trace_pipe), like bpftool prog tracelog', load: async () => (await import('./trace-log.js')).traceLog },
  { path: ['show'], summary: 'Show the tc filters, tcx links and XDP programs of network devices', load: async () => (await import('./show.js')).show },
  { path: ['prog', 'list'], summary: 'List the BPF programs loaded in the kernel (like bpftool prog list)', load: async () => (await import('./prog.js')).progList },
  { path: ['map', 'list'], summary: 'List the BPF maps in the kernel (like bpftool map list)', load: async () => (await import('./map.js')).mapList },
  { path: ['map', 'dump'], summary: "Print a map's entries, decoded through its BTF when it has one", load: async () => (await import('./map.js')).mapDump },
  { path: ['map', 'update'], summary: 'Store one element in a map', load: async () => (await import('./map.js')).mapUpdate },
  { path: ['map', 'delete'], summary: 'Delete one element of a map', load: async () => (await import('./map.js')).mapDelete },
];
