import { UsageError } from '../../errors.js';
import { checkDeviceName, detachTc, detachTcx, detachXdp, netnsPath } from '../../loader/raw.js';
import { flag, intOption, str, type Command } from '../command.js';
import { json } from '../format.js';
import { checkPinDir, direction, requirePrivilege } from './load.js';
import { detachPinDir } from './tracing-pins.js';

export const detach: Command = {
  path: ['detach'],
  summary: 'Detach BPF programs from tc, tcx or XDP',
  usage: '(--tc ingress|egress DEV [--prio N --handle H] | --tcx ingress|egress DEV | --xdp DEV | --pin DIR) [--netns NAME] [--json]',
  details: `
--tc removes the bpf filter at --prio/--handle, or every bpf filter of that hook when neither is
given. The clsact qdisc is removed as well once neither of its hooks has a filter left: an empty
clsact does nothing, and a qdisc that still holds a filter is never removed.
--tcx detaches and unpins the tcx links bpfts pinned for that hook (under /sys/fs/bpf/bpfts/tcx).
--xdp detaches the device's XDP program.
--pin DIR detaches the tracing links \`bpfts load ... --pin DIR\` pinned there and removes the
directory's other pins (programs, maps) and the directory.`,
  options: {
    tc: { type: 'string', valueName: 'DIR', description: 'a tc hook: ingress or egress, then DEV' },
    tcx: { type: 'string', valueName: 'DIR', description: 'a tcx hook: ingress or egress, then DEV' },
    xdp: { type: 'string', valueName: 'DEV', description: "the device's XDP program" },
    prio: { type: 'string', valueName: 'N', description: 'only the tc filter with this priority' },
    handle: { type: 'string', valueName: 'H', description: 'only the tc filter with this handle' },
    netns: { type: 'string', valueName: 'NAME', description: 'inside the network namespace /var/run/netns/NAME' },
    json: { type: 'boolean', description: 'print what was removed as JSON' },
    pin: { type: 'string', valueName: 'DIR', description: 'the tracing links and pins `bpfts load --pin DIR` made' },
  },
  run(args, io) {
    const pinDir = str(args, 'pin');
    if (pinDir !== undefined) {
      requirePrivilege('bpfts detach');
      return detachPinDir(checkPinDir(pinDir), args, io);
    }
    const tc = str(args, 'tc');
    const tcx = str(args, 'tcx');
    const xdp = str(args, 'xdp');
    if ([tc, tcx, xdp].filter((x) => x !== undefined).length !== 1) throw new UsageError('give exactly one of --tc, --tcx and --xdp');
    const netns = netnsPath(str(args, 'netns'));
    const ns = netns === undefined ? {} : { netns };
    const prio = intOption(args, 'prio');
    const handle = intOption(args, 'handle');
    if ((prio !== undefined || handle !== undefined) && tc === undefined) throw new UsageError('--prio and --handle go with --tc');
    const dev = () => {
      if (args.positionals.length !== 1) throw new UsageError('expected a device after the direction');
      return checkDeviceName(args.positionals[0]!);
    };
    let result: unknown;
    let text: string;
    if (tc !== undefined) {
      const d = direction(tc, 'tc');
      const device = dev();
      requirePrivilege('bpfts detach');
      const r = detachTc({ dev: device, direction: d, ...(prio !== undefined ? { priority: prio } : {}), ...(handle !== undefined ? { handle } : {}), ...ns });
      result = { kind: 'tc', dev: device, direction: d, removed: r.removed, removedQdisc: r.removedQdisc };
      text = r.removed.map((f) => `removed ${device} ${d} filter pref ${f.priority} handle 0x${f.handle.toString(16)}${f.name ? ` (${f.name})` : ''}\n`).join('') +
        (r.removedQdisc ? `removed the clsact qdisc of ${device} (no filters left)\n` : '');
    } else if (tcx !== undefined) {
      const d = direction(tcx, 'tcx');
      const device = dev();
      requirePrivilege('bpfts detach');
      const pins = detachTcx({ dev: device, direction: d, ...ns });
      result = { kind: 'tcx', dev: device, direction: d, removed: pins };
      text = pins.map((p) => `detached tcx link ${p}\n`).join('');
    } else {
      if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
      const device = checkDeviceName(xdp!);
      requirePrivilege('bpfts detach');
      const state = detachXdp({ dev: device, ...ns });
      result = { kind: 'xdp', dev: device, removed: state };
      text = `detached XDP program id ${state.progId ?? state.skbProgId ?? state.drvProgId} (${state.attached} mode) from ${device}\n`;
    }
    io.out(flag(args, 'json') ? json(result) : text);
    return 0;
  },
};
