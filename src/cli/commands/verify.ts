import { verify as check, formatVerifyReport, LOADER_NAMES } from '../../doctor/index.js';
import { readObject } from '../../object/index.js';
import { flag, onePositional, str, type Command } from '../command.js';
import { readInput } from '../files.js';
import { json } from '../format.js';
import { loaderOption } from './doctor.js';

export const verify: Command = {
  path: ['verify'],
  summary: 'doctor plus an offline run of the kernel verifier\'s checks: the verdict, instruction and message the kernel would give',
  usage: 'OBJ [--type TYPE] [--loader LOADER] [--kernel X.Y] [--log] [--json]',
  details: `Runs bpfts doctor, then walks each program with the sub-programs it calls the way the
Linux 6.18 verifier does, for a privileged (root) loader, without a kernel: every path, with the
value of every register (a tnum and signed/unsigned 64- and 32-bit bounds for scalars; pointers to
the context, stack, packet, map values, ring buffer records, sockets, with their offsets), the
stack's slots, NULL checks, packet ranges proved by comparisons with data_end, acquired references,
bpf-to-bpf frames and global functions verified on their own. The first error the kernel would
meet is reported with the kernel's message, the instruction index as the kernel counts it (in the
program as loaded: the entry function first, the sub-programs it calls after it), its disassembly
and its C source line (from BTF line_info).

Before the walk come the structural checks (jumps inside the program and never into an ld_imm64,
no fall-through past the end, known opcodes, calls that resolve, stack within 512 bytes along call
chains). Which helpers each program type may call, and which are GPL-only, was asked of the
kernel itself (scripts/probe-helpers.mjs).

The program type comes from the section name, else from what the code looks like (--type
overrides it for every program, as for bpfts load). --log prints, for each program, every
instruction walked with the register and stack state after it, like the kernel's log level 2.

What bpfts does not model (kfunc results, fields of kernel BTF structs, CO-RE against the running
kernel) is taken as allowed, so the walk never rejects for it.

Exit status: 0 when doctor and every program are clean, 1 otherwise, 2 for bad usage or an
unreadable object.`,
  options: {
    type: { type: 'string', valueName: 'TYPE', description: 'check every program as this type (classifier, xdp, socket, sched_cls, ...)' },
    loader: { type: 'string', valueName: 'LOADER', description: `focus doctor's verdict on one loader: ${LOADER_NAMES.join(', ')}` },
    kernel: { type: 'string', valueName: 'X.Y', description: 'check BTF kind support of this kernel release' },
    log: { type: 'boolean', description: 'print the per-instruction state log of each program walk' },
    json: { type: 'boolean', description: 'print the report as JSON' },
  },
  run(args, io) {
    const path = onePositional(args, 'object file', verify);
    const loader = loaderOption(args);
    const kernel = str(args, 'kernel');
    const type = str(args, 'type');
    const report = check(readObject(readInput(path)), {
      path, ...(loader ? { loader } : {}), ...(kernel ? { kernel } : {}), ...(type ? { type } : {}),
      ...(flag(args, 'log') ? { log: true } : {}),
    });
    if (flag(args, 'json')) io.out(json({ file: path, ...report }));
    else {
      if (flag(args, 'log')) {
        for (const p of report.programs) io.out(`--- ${p.name} (${p.section}) ---\n${(p.log ?? []).join('\n')}\n`);
      }
      io.out(formatVerifyReport(report, path));
    }
    return report.ok ? 0 : 1;
  },
};
