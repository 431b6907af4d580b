import { doctor as diagnose, formatReport, LOADER_NAMES, type LoaderName } from '../../doctor/index.js';
import { readObject } from '../../object/index.js';
import { UsageError } from '../../errors.js';
import { flag, onePositional, str, type Command, type ParsedArgs } from '../command.js';
import { readInput } from '../files.js';
import { json } from '../format.js';

/** --loader, one of the loaders doctor knows. */
export function loaderOption(args: ParsedArgs): LoaderName | undefined {
  const loader = str(args, 'loader');
  if (loader !== undefined && !(LOADER_NAMES as readonly string[]).includes(loader)) {
    throw new UsageError(`unknown --loader '${loader}'`, { hint: `loaders: ${LOADER_NAMES.join(', ')}` });
  }
  return loader as LoaderName | undefined;
}

export const doctor: Command = {
  path: ['doctor'],
  summary: 'Explain why a BPF object would not load (section names, BTF, maps, license) and how to fix it',
  usage: 'OBJ [--loader libbpf|libbpf-1.1|tc|aya|bpfts] [--kernel X.Y] [--dev DEV] [--json]',
  details: `For every program: what libbpf (upstream), libbpf 1.1 (Debian 12, bpftool v7.1), tc, aya and
bpfts make of its section name, the attach point it is most likely meant for, and the section names
and tc / bpftool / bpfts commands that work. For the object: the kernel's BTF verifier rules (quoting
the kernel's words, e.g. "size == 0", "Invalid name"), legacy 'maps' sections, GPL-only helpers
without a GPL license, .eh_frame, calls to undefined functions.

--kernel X.Y also checks BTF kinds that kernel lacks (FUNC 5.0, VAR/DATASEC 5.2, global FUNC 5.6,
FLOAT 5.13, DECL_TAG 5.16, TYPE_TAG 5.17, ENUM64 6.0).

The verdict is for one loader: --loader, else the one the object is written for, assumed from the
object (the report says which and why); the first rule that matches decides:
  1. iproute2 struct bpf_elf_map definitions in 'maps'                       tc
  2. BTF-defined .maps, or .kconfig / .ksyms externs                         libbpf
  3. every program in a section libbpf knows (also with legacy 'maps')       libbpf
  4. every program in a section aya knows, some libbpf does not (socket/3)   aya
  5. tc or XDP programs in sections neither knows, no BTF maps               tc (tc/ip ... sec NAME)
  6. anything else                                                           none: every loader
"libbpf" is upstream libbpf; pass --loader libbpf-1.1 for Debian 12's. Problems that stop only
other loaders (aya refusing SEC("tc"), raw loaders and DATASEC sizes) are notes, not errors, unless
no loader loads the object at all.

Exit status: 0 when the object loads with that loader (with every loader when none is assumed), 1
when it will fail to load, 2 for bad usage or an unreadable object.

Note: tc's "Error: TC classifier not found." means the kernel lacks cls_bpf, not a bad section.`,
  options: {
    loader: { type: 'string', valueName: 'LOADER', description: `judge the object for this loader instead of the assumed one: ${LOADER_NAMES.join(', ')}` },
    kernel: { type: 'string', valueName: 'X.Y', description: 'check BTF kind support of this kernel release' },
    dev: { type: 'string', valueName: 'DEV', description: 'network device to put in suggested commands' },
    json: { type: 'boolean', description: 'print the report as JSON' },
  },
  run(args, io) {
    const path = onePositional(args, 'object file', doctor);
    const loader = loaderOption(args);
    const kernel = str(args, 'kernel');
    const dev = str(args, 'dev');
    const report = diagnose(readObject(readInput(path)), {
      path, ...(loader ? { loader } : {}), ...(kernel ? { kernel } : {}), ...(dev ? { dev } : {}),
    });
    io.out(flag(args, 'json') ? json({ file: path, ...report }) : formatReport(report, path));
    return report.ok ? 0 : 1;
  },
};
