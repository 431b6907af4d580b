import { verify as check, formatVerifyReport, LOADER_NAMES } from '../../doctor/index.js';
import { readObject } from '../../object/index.js';
import { flag, onePositional, str, type Command } from '../command.js';
import { readInput } from '../files.js';
import { json } from '../format.js';
import { loaderOption } from './doctor.js';

export const verify: Command = {
  path: ['verify'],
  summary: 'doctor plus a static check of every program the way the kernel verifier checks its structure',
  usage: 'OBJ [--type TYPE] [--loader LOADER] [--kernel X.Y] [--json]',
  details: `Runs bpfts doctor, then checks each program with the sub-programs it calls: jumps stay inside
the program and never land inside an ld_imm64, the code cannot run off its end, every opcode is
known, calls resolve (helper ids, bpf-to-bpf calls, kfuncs), helpers are allowed for the program
type, stack use stays within 512 bytes per frame and along call chains, no register is read before
it is written, r10 is never written, no division by a zero immediate. Each finding shows the
instruction, its disassembly and its C source line (from BTF line_info).

Like the kernel, verify walks only the paths that constants leave possible: code behind a branch
that cannot be taken is not reported. A register read that is unwritten on some paths only says
"(on some paths)"; the kernel rejects those too when it cannot rule the path out.

The program type comes from the section name, else from what the code looks like (--type
overrides it for every program, as for bpfts load). Which helpers each type may call, and which
are GPL-only, was asked of the kernel itself (scripts/probe-helpers.mjs; types that need a BTF
attach target, such as fentry or lsm, get a warning instead).

Values, pointers and bounds are not tracked: the kernel may still reject a program verify calls ok
(packet bounds, pointer arithmetic), but not for the reasons above.

Exit status: 0 when doctor and every program are clean, 1 otherwise, 2 for bad usage or an
unreadable object.`,
  options: {
    type: { type: 'string', valueName: 'TYPE', description: 'check every program as this type (classifier, xdp, socket, sched_cls, ...)' },
    loader: { type: 'string', valueName: 'LOADER', description: `focus doctor's verdict on one loader: ${LOADER_NAMES.join(', ')}` },
    kernel: { type: 'string', valueName: 'X.Y', description: 'check BTF kind support of this kernel release' },
    json: { type: 'boolean', description: 'print the report as JSON' },
  },
  run(args, io) {
    const path = onePositional(args, 'object file', verify);
    const loader = loaderOption(args);
    const kernel = str(args, 'kernel');
    const type = str(args, 'type');
    const report = check(readObject(readInput(path)), {
      path, ...(loader ? { loader } : {}), ...(kernel ? { kernel } : {}), ...(type ? { type } : {}),
    });
    io.out(flag(args, 'json') ? json({ file: path, ...report }) : formatVerifyReport(report, path));
    return report.ok ? 0 : 1;
  },
};
