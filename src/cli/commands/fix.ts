import { resolve } from 'node:path';
import { fixObject, type SectionRename } from '../../fix/index.js';
import { parseKernelVersion } from '../../btf/index.js';
import { UsageError } from '../../errors.js';
import { flag, onePositional, str, strs, type Command } from '../command.js';
import { readInput, writeOutputAtomically } from '../files.js';
import { json } from '../format.js';

function parseRename(spec: string): SectionRename {
  const eq = spec.indexOf('=');
  if (eq <= 0 || eq === spec.length - 1) throw new UsageError(`--section wants OLD=NEW, got '${spec}'`);
  return { from: spec.slice(0, eq), to: spec.slice(eq + 1) };
}

export const fix: Command = {
  path: ['fix'],
  summary: 'Write a repaired copy of a BPF object: renamed sections, BTF DATASEC sizes/offsets, BTF for older kernels',
  usage: 'OBJ -o OUT [--section OLD=NEW ...] [--sanitize-btf KERNEL] [--strip-eh-frame] [--json]',
  details: `Always fills in the BTF DATASEC sizes and variable offsets clang leaves at 0 (what libbpf
does in memory; without it BPF_BTF_LOAD fails with "size == 0"). Everything else only when asked:
  --section OLD=NEW     rename a section, with its .relOLD section and the section names .BTF.ext
                        refers to (e.g. --section egress=classifier)
  --sanitize-btf X.Y    rewrite BTF kinds Linux X.Y lacks, as libbpf does before loading
  --strip-eh-frame      drop .eh_frame and .rel.eh_frame
Nothing else changes; with nothing to do OUT is a byte-identical copy. OBJ is never modified
(OUT may not be OBJ) and a failed fix leaves no OUT behind.`,
  options: {
    output: { type: 'string', short: 'o', valueName: 'OUT', description: 'where to write the fixed object (required)' },
    section: { type: 'string', multiple: true, valueName: 'OLD=NEW', description: 'rename section OLD to NEW' },
    'sanitize-btf': { type: 'string', valueName: 'X.Y', description: 'rewrite BTF kinds this kernel release lacks' },
    'strip-eh-frame': { type: 'boolean', description: 'drop .eh_frame and its relocations' },
    json: { type: 'boolean', description: 'print the list of changes as JSON' },
  },
  run(args, io) {
    const path = onePositional(args, 'object file', fix);
    const out = str(args, 'output');
    if (!out) throw new UsageError('-o OUT is required', { hint: 'bpfts fix OBJ -o OUT ...' });
    if (resolve(out) === resolve(path)) throw new UsageError('OUT is the input file; bpfts fix never modifies its input', { hint: 'write to another file and rename it yourself' });
    const kernel = str(args, 'sanitize-btf');
    if (kernel !== undefined && !parseKernelVersion(kernel)) throw new UsageError(`--sanitize-btf wants a kernel version such as 5.10, got '${kernel}'`);
    const result = fixObject(readInput(path), {
      renames: strs(args, 'section').map(parseRename),
      ...(kernel ? { sanitizeFor: kernel } : {}),
      stripEhFrame: flag(args, 'strip-eh-frame'),
    });
    writeOutputAtomically(out, result.bytes);
    if (flag(args, 'json')) io.out(json({ input: path, output: out, changed: result.changed, changes: result.changes }));
    else io.out(result.changed ? `${out}: ${result.changes.length} change(s)\n${result.changes.map((c) => `  ${c}\n`).join('')}` : `${out}: nothing to fix; written unchanged\n`);
    return 0;
  },
};
