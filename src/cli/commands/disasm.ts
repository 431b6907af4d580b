import { parseElf } from '../../elf/index.js';
import { btfFromElf } from '../../btf/index.js';
import { disassemble, lineInfoLookup } from '../../isa/index.js';
import { flag, onePositional, str, type Command } from '../command.js';
import { readInput } from '../files.js';

export const disasm: Command = {
  path: ['disasm'],
  summary: 'Disassemble the programs of an object, as `llvm-objdump -d` prints them',
  usage: 'OBJ [--section S] [--source]',
  details: `The output is what \`llvm-objdump -d --no-show-raw-insn OBJ\` prints after its "file format" line.
--source puts the C source line (from BTF line_info) before the instructions it produced, as
\`; text\` comments like bpftool prog dump does.`,
  options: {
    section: { type: 'string', short: 'j', valueName: 'S', description: 'only this section (like llvm-objdump -j)' },
    source: { type: 'boolean', short: 'S', description: 'interleave C source lines from BTF line_info' },
  },
  run(args, io) {
    const path = onePositional(args, 'object file', disasm);
    const bytes = readInput(path);
    const elf = parseElf(bytes);
    const section = str(args, 'section');
    const lineInfo = flag(args, 'source') ? lineInfoLookup(btfFromElf(bytes).ext?.lineInfo ?? []) : undefined;
    io.out(disassemble(elf, { ...(section !== undefined ? { section } : {}), ...(lineInfo ? { lineInfo } : {}) }));
    return 0;
  },
};
