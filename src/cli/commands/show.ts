import { BpfError } from '../../errors.js';
import {
  checkDeviceName, linkGetInfo, listDevices, listTcx, netnsPath, objGet, progGetFdById, progGetInfo, queryXdp, tcFilters, withNetlink,
  type ProgInfo,
} from '../../loader/raw.js';
import { flag, str, type Command } from '../command.js';
import { json } from '../format.js';
import { requirePrivilege } from './load.js';

interface ProgSummary { id: number; name: string; tag: string; jited: boolean }

/** The program a pinned link holds, from BPF_OBJ_GET_INFO_BY_FD on the link. */
function linkProg(pin: string): { linkId: number; prog: ProgSummary | null } {
  try {
    const link = objGet(pin, 0, 'link');
    try {
      const info = linkGetInfo(link);
      return { linkId: info.id, prog: progSummary(info.progId || undefined) };
    } finally {
      link.close();
    }
  } catch {
    return { linkId: 0, prog: null };
  }
}

function progSummary(id: number | undefined): ProgSummary | null {
  if (id === undefined) return null;
  let info: ProgInfo;
  try {
    const fd = progGetFdById(id);
    try {
      info = progGetInfo(fd);
    } finally {
      fd.close();
    }
  } catch {
    return { id, name: '', tag: '', jited: false };
  }
  return { id, name: info.name, tag: info.tag, jited: info.jitedProgLen > 0 };
}

export const show: Command = {
  path: ['show'],
  summary: 'Show the tc filters, tcx links and XDP programs of network devices',
  usage: '[DEV] [--netns NAME] [--json]',
  details: 'Like `tc filter show dev DEV ingress|egress` plus `ip link show` XDP state, for every device when DEV is not given.',
  options: {
    netns: { type: 'string', valueName: 'NAME', description: 'devices of the network namespace /var/run/netns/NAME' },
    json: { type: 'boolean', description: 'print JSON' },
  },
  run(args, io) {
    if (args.positionals.length > 1) throw new BpfError('expected at most one device');
    const netns = netnsPath(str(args, 'netns'));
    const one = args.positionals[0];
    if (one !== undefined) checkDeviceName(one);
    requirePrivilege('bpfts show');
    const devices = one !== undefined ? [one] : listDevices(netns);
    const tcx = listTcx(netns);
    const result = withNetlink(netns, (nl) => devices.map((dev) => {
      const tc = (['ingress', 'egress'] as const).flatMap((direction) => tcFilters(nl, dev, direction).map((f) => ({
        direction, priority: f.priority, handle: f.handle, kind: f.kind, name: f.name ?? null, directAction: f.directAction,
        prog: progSummary(f.progId),
      })));
      const x = queryXdp(dev, netns);
      const xdpId = x.progId ?? x.skbProgId ?? x.drvProgId ?? x.hwProgId;
      return {
        dev, tc,
        tcx: tcx.filter((l) => l.dev === dev).map((l) => ({ direction: l.direction, pin: l.pin, program: l.pin.split('/').pop() ?? '', ...linkProg(l.pin) })),
        xdp: x.attached === 'none' ? null : { mode: x.attached, prog: progSummary(xdpId) },
      };
    }));
    if (flag(args, 'json')) {
      io.out(json(result));
      return 0;
    }
    for (const d of result) {
      if (d.tc.length === 0 && d.tcx.length === 0 && !d.xdp && one === undefined) continue;
      io.out(`${d.dev}:\n`);
      for (const f of d.tc) {
        io.out(`  tc ${f.direction} pref ${f.priority} handle 0x${f.handle.toString(16)} ${f.kind}${f.name ? ` ${f.name}` : ''}${f.directAction ? ' direct-action' : ''}` +
          `${f.prog ? ` id ${f.prog.id} name ${f.prog.name} tag ${f.prog.tag}${f.prog.jited ? ' jited' : ''}` : ''}\n`);
      }
      for (const l of d.tcx) {
        io.out(`  tcx ${l.direction} ${l.program}${l.prog ? ` id ${l.prog.id} name ${l.prog.name} tag ${l.prog.tag}${l.prog.jited ? ' jited' : ''}` : ''}` +
          ` (link ${l.linkId ? `id ${l.linkId} ` : ''}pinned at ${l.pin})\n`);
      }
      if (d.xdp) {
        io.out(`  xdp ${d.xdp.mode}${d.xdp.prog ? ` id ${d.xdp.prog.id} name ${d.xdp.prog.name} tag ${d.xdp.prog.tag}${d.xdp.prog.jited ? ' jited' : ''}` : ''}\n`);
      }
      if (d.tc.length === 0 && d.tcx.length === 0 && !d.xdp) io.out('  (nothing attached)\n');
    }
    return 0;
  },
};
