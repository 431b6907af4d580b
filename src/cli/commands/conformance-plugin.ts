import { readFileSync } from 'node:fs';
import { conformancePlugin as plugin } from '../../vm/index.js';
import type { Command } from '../command.js';

export const conformancePlugin: Command = {
  path: ['conformance-plugin'],
  summary: "Run one program for the BPF conformance suite's runner (its plugin protocol)",
  usage: '[MEMORY_HEX] [--program HEX]',
  details: `The bpf_conformance runner calls this the way it calls uBPF's plugin: the memory as
space-separated hex bytes in the first argument, the program as hex bytes on standard input (or
--program HEX). Prints r0 in hex; exits non-zero for a program the emulator refuses.
  bpf_conformance_runner --test_file_directory tests --plugin_path "$(which bpfts)" --plugin_options conformance-plugin`,
  options: { program: { type: 'string', valueName: 'HEX', description: 'the program instead of standard input' } },
  run(args, io) {
    const argv = [...args.positionals, ...(typeof args.values.program === 'string' ? ['--program', args.values.program] : [])];
    const stdin = typeof args.values.program === 'string' ? '' : readFileSync(0, 'utf8');
    const result = plugin(argv, stdin);
    io.out(result.stdout);
    if (result.stderr) io.err(result.stderr);
    return result.exitCode;
  },
};
