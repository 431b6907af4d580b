import { basename } from 'node:path';
import { BpfError, UsageError } from '../../errors.js';
import {
  ProgramRejectedError, Undo, attachTc, attachTcx, attachXdp, checkDeviceName, faultsFromEnvironment, loadObject, netnsPath, objectNameOf,
  type LoadedObject, type TcAttachment, type TcxAttachment, type XdpAttachment,
} from '../../loader/raw.js';
import type { AttachIntent } from '../../object/index.js';
import { flag, intOption, str, type Command, type ParsedArgs } from '../command.js';
import { readInput } from '../files.js';
import { json } from '../format.js';
import { TRACING_LOAD_OPTIONS, pinTracing, tracingAttachOf } from './tracing-pins.js';

/** bpf() and rtnetlink changes need root; say so plainly instead of failing with EPERM halfway. */
export function requirePrivilege(what: string): void {
  if (process.getuid?.() !== 0) {
    throw new BpfError(`${what} needs root (CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN for --netns)`, { hint: 'run it with sudo' });
  }
}

export function direction(value: string, option: string): 'ingress' | 'egress' {
  if (value !== 'ingress' && value !== 'egress') throw new UsageError(`--${option} wants ingress or egress, got '${value}'`);
  return value;
}

/** Pin directories must be on bpffs and must not climb out of it. */
export function checkPinDir(dir: string): string {
  if (!dir.startsWith('/sys/fs/bpf/') || dir.split('/').includes('..')) {
    throw new UsageError(`--pin wants a directory under /sys/fs/bpf, got '${dir}'`);
  }
  return dir.replace(/\/+$/, '');
}

type Attach =
  | { kind: 'tc'; direction: 'ingress' | 'egress'; dev: string }
  | { kind: 'tcx'; direction: 'ingress' | 'egress'; dev: string }
  | { kind: 'xdp'; dev: string; mode?: 'skb' | 'native' };

function attachOf(args: ParsedArgs, rest: string[]): Attach | undefined {
  const tc = str(args, 'tc');
  const tcx = str(args, 'tcx');
  const xdp = str(args, 'xdp');
  const given = [tc, tcx, xdp].filter((x) => x !== undefined).length;
  if (given > 1) throw new UsageError('give at most one of --tc, --tcx and --xdp');
  const mode = str(args, 'mode');
  if (mode !== undefined && (xdp === undefined || (mode !== 'skb' && mode !== 'native'))) throw new UsageError('--mode is skb or native, and only with --xdp');
  const dev = () => {
    if (rest.length !== 1) throw new UsageError(`--${tc !== undefined ? 'tc' : 'tcx'} wants a direction and a device: --${tc !== undefined ? 'tc' : 'tcx'} ingress|egress DEV`);
    return checkDeviceName(rest[0]!);
  };
  if (tc !== undefined) return { kind: 'tc', direction: direction(tc, 'tc'), dev: dev() };
  if (tcx !== undefined) return { kind: 'tcx', direction: direction(tcx, 'tcx'), dev: dev() };
  if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
  if (xdp !== undefined) return { kind: 'xdp', dev: checkDeviceName(xdp), ...(mode ? { mode: mode as 'skb' | 'native' } : {}) };
  return undefined;
}

function intent(a: Attach): AttachIntent {
  return a.kind === 'xdp' ? 'xdp' : `${a.kind}-${a.direction}`;
}

/** SIGINT or SIGTERM arrived while the command was changing the kernel's state. */
class Interrupted extends BpfError {
  constructor(readonly signal: 'SIGINT' | 'SIGTERM') {
    super(`interrupted by ${signal}`);
  }
}

/** The exit status of a process ended by the signal, as a shell reports it: 128 + its number. */
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * Holds SIGINT and SIGTERM while a command changes the kernel's state, so that they stop it at the
 * next step boundary (where the undo journal can run) instead of killing the process with the
 * qdisc, filter or pins it made still there. Signals are delivered to JavaScript only between
 * synchronous steps, so `check` yields once to let a pending one in.
 */
function holdSignals() {
  let caught: 'SIGINT' | 'SIGTERM' | undefined;
  const onInt = () => { caught ??= 'SIGINT'; };
  const onTerm = () => { caught ??= 'SIGTERM'; };
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  const deliver = () => new Promise((resolve) => setImmediate(resolve));
  return {
    /** Throws Interrupted when a signal has come. */
    async check(): Promise<void> {
      await deliver();
      if (caught) throw new Interrupted(caught);
    },
    /** The signal that has come, if any. */
    async caught(): Promise<'SIGINT' | 'SIGTERM' | undefined> {
      await deliver();
      return caught;
    },
    release(): void {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}

export const load: Command = {
  path: ['load'],
  summary: 'Load a BPF object into the kernel and attach a program to tc, tcx or XDP',
  usage: 'OBJ (--tc ingress|egress DEV | --tcx ingress|egress DEV | --xdp DEV [--mode skb|native] | --tracepoint CAT:NAME --pin DIR) [--prog NAME] [--type TYPE] [--pin DIR] [--replace] [--netns NAME] [--json]',
  details: `
The program stays attached after bpfts exits: tc filters and XDP programs are held by the device,
tcx links by a pin under /sys/fs/bpf/bpfts/tcx. Without an attach point the programs are only
loaded, and survive only when pinned with --pin DIR.

The program type comes from --type, else from the attach point, else from the section name as
libbpf reads it. Sections libbpf does not know (e.g. "egress") load when the attach point decides;
bpfts warns and names the section libbpf would want. Legacy 'maps' sections, iproute2 map
definitions and NOTYPE program symbols, which libbpf 1.x refuses, load too.

With --pin DIR every map and program is pinned under DIR; maps already pinned there (and
LIBBPF_PIN_BY_NAME maps under /sys/fs/bpf or DIR) are reused when compatible, so several programs
of one object can share their maps across invocations.

If any step fails, everything this command created (maps, pins, qdisc, filter, link) is removed,
and a verifier rejection prints the verifier log with the C source lines.`,
  options: {
    tc: { type: 'string', valueName: 'DIR', description: 'attach as a tc (clsact) direct-action filter: ingress or egress, then DEV' },
    tcx: { type: 'string', valueName: 'DIR', description: 'attach with a tcx link (Linux 6.6+): ingress or egress, then DEV' },
    xdp: { type: 'string', valueName: 'DEV', description: 'attach as the XDP program of DEV' },
    mode: { type: 'string', valueName: 'MODE', description: 'XDP mode: skb (generic) or native' },
    prog: { type: 'string', valueName: 'NAME', description: 'the program to load (function or section name); needed when the object has several' },
    type: { type: 'string', valueName: 'TYPE', description: 'program type, e.g. classifier, xdp, socket, sched_cls' },
    pin: { type: 'string', valueName: 'DIR', description: 'pin maps and programs under DIR (on /sys/fs/bpf)' },
    replace: { type: 'boolean', description: 'replace the filter at --prio/--handle, or the XDP program, if there is one' },
    prio: { type: 'string', valueName: 'N', description: 'tc filter priority (default 1)' },
    handle: { type: 'string', valueName: 'H', description: 'tc filter handle (default 1)' },
    netns: { type: 'string', valueName: 'NAME', description: 'attach inside the network namespace /var/run/netns/NAME' },
    verbose: { type: 'boolean', short: 'v', description: 'print the verifier log of successful loads too' },
    json: { type: 'boolean', description: 'print what was done as JSON' },
    ...TRACING_LOAD_OPTIONS,
  },
  async run(args, io) {
    const [path, ...rest] = args.positionals;
    if (path === undefined) throw new UsageError('expected an object file', { hint: `usage: bpfts load ${load.usage}` });
    const attach = attachOf(args, rest);
    const prog = str(args, 'prog');
    const type = str(args, 'type');
    const pinOpt = str(args, 'pin');
    const pin = pinOpt === undefined ? undefined : checkPinDir(pinOpt);
    const tracing = tracingAttachOf(args, pin);
    const netnsName = str(args, 'netns');
    const netns = netnsPath(netnsName);
    const prio = intOption(args, 'prio');
    const handle = intOption(args, 'handle');
    if ((prio !== undefined || handle !== undefined) && attach?.kind !== 'tc') throw new UsageError('--prio and --handle go with --tc');
    if (netns !== undefined && !attach) throw new UsageError('--netns goes with an attach point');
    if (!attach && type === undefined && pin === undefined) {
      io.err('bpfts load: warning: without --tc/--tcx/--xdp or --pin the programs are unloaded again when bpfts exits\n');
    }
    const bytes = readInput(path);
    requirePrivilege('bpfts load');
    faultsFromEnvironment();

    const undo = new Undo();
    const signals = holdSignals();
    let loaded: LoadedObject | undefined;
    try {
      loaded = loadObject(bytes, {
        ...(prog !== undefined ? { programs: [prog] } : {}),
        ...(type !== undefined ? { type } : {}),
        ...(attach ? { attach: intent(attach) } : {}),
        objectName: objectNameOf(path),
        ...(pin !== undefined ? { pinDir: pin, pinAll: true } : {}),
        ...(flag(args, 'verbose') ? { logLevel: 1 } : {}),
        warn: (m) => io.err(`bpfts load: warning: ${m}\n`),
        undo,
      });
      await signals.check();
      let attached: (TcAttachment & { kind: 'tc' }) | (TcxAttachment & { kind: 'tcx' }) | (XdpAttachment & { kind: 'xdp' }) | undefined;
      if (attach) {
        if (loaded.programs.length !== 1) {
          throw new UsageError(`the object has ${loaded.programs.length} programs; choose the one to attach with --prog`, {
            hint: `programs: ${loaded.programs.map((p) => p.name).join(', ')}`,
          });
        }
        const p = loaded.programs[0]!;
        const ns = netns === undefined ? {} : { netns };
        if (attach.kind === 'tc') {
          attached = { kind: 'tc', ...attachTc(p.fd, {
            dev: attach.dev, direction: attach.direction, name: `${basename(path)}:[${p.section}]`,
            ...(prio !== undefined ? { priority: prio } : {}), ...(handle !== undefined ? { handle } : {}),
            ...(flag(args, 'replace') ? { replace: true } : {}), ...ns,
          }, undo) };
        } else if (attach.kind === 'tcx') {
          attached = { kind: 'tcx', ...attachTcx(p.fd, { dev: attach.dev, direction: attach.direction, name: p.name, ...ns }, undo) };
        } else {
          attached = { kind: 'xdp', ...attachXdp(p.fd, { dev: attach.dev, ...(attach.mode ? { mode: attach.mode } : {}), ...(flag(args, 'replace') ? { replace: true } : {}), ...ns }, undo) };
        }
      }
      const linkPin = tracing ? pinTracing(loaded, tracing, pin!, undo) : undefined;
      await signals.check();
      undo.commit();
      signals.release();
      const programs = loaded.programs.map((p) => ({
        name: p.name, section: p.section, type: p.typeName, id: p.id, tag: p.tag, pinned: p.pinnedAt ?? null,
        attachTo: p.attachBtf ? { name: p.attachBtf.btfName, btfId: p.attachBtf.btfId } : null,
        coreRelocations: p.core.length, corePoisoned: p.core.filter((c) => c.poison).length,
      }));
      const externs = Object.fromEntries(loaded.externs);
      const maps = loaded.maps.map((m) => ({ name: m.spec.name, reused: m.reused, pinned: m.pinnedAt ?? m.spec.pinPath ?? null }));
      if (flag(args, 'json')) {
        io.out(json({ programs, maps, externs, attached: attached ?? (tracing ? { kind: tracing.kind, target: tracing.target, linkPin } : null), netns: netnsName ?? null, warnings: loaded.warnings }));
        return 0;
      }
      for (const p of loaded.programs) {
        io.out(`loaded ${p.name} (section ${p.section}) as ${p.typeName}: id ${p.id}, tag ${p.tag}${p.pinnedAt ? `, pinned at ${p.pinnedAt}` : ''}\n`);
        if (p.attachBtf) io.out(`  attaches to ${p.attachBtf.btfName} (kernel BTF id ${p.attachBtf.btfId})\n`);
        if (p.core.length > 0) {
          const poisoned = p.core.filter((c) => c.poison).length;
          io.out(`  ${p.core.length} CO-RE relocation${p.core.length === 1 ? '' : 's'} resolved against the kernel's BTF${poisoned ? ` (${poisoned} poisoned: the kernel lacks what they need)` : ''}\n`);
        }
        if (p.log) io.err(p.log);
      }
      for (const [name, value] of loaded.externs) io.out(`extern ${name}: ${value}\n`);
      for (const m of loaded.maps) {
        io.out(`map ${m.spec.name}: ${m.reused ? 'reused' : 'created'}${m.pinnedAt || m.spec.pinPath ? `, pinned at ${m.pinnedAt ?? m.spec.pinPath}` : ''}\n`);
      }
      if (attached?.kind === 'tc') {
        io.out(`attached to ${attached.dev} ${attached.direction}: tc filter pref ${attached.priority} handle 0x${attached.handle.toString(16)} bpf direct-action` +
          `${attached.createdQdisc ? ' (clsact qdisc added)' : ''}${attached.replacedProgId !== undefined ? ` (replaced program id ${attached.replacedProgId})` : ''}\n`);
      } else if (attached?.kind === 'tcx') {
        io.out(`attached to ${attached.dev} ${attached.direction} with a tcx link pinned at ${attached.linkPin}\n`);
      } else if (tracing) {
        io.out(`attached ${tracing.kind} ${tracing.target} with a link pinned at ${linkPin} (bpfts detach --pin ${pin} removes it)\n`);
      } else if (attached?.kind === 'xdp') {
        io.out(`attached to ${attached.dev} as XDP (${attached.mode} mode)${attached.replacedProgId !== undefined ? ` (replaced program id ${attached.replacedProgId})` : ''}\n`);
      }
      return 0;
    } catch (e) {
      undo.rollback();
      if (undo.failures.length > 0) io.err(`bpfts load: could not undo: ${undo.failures.join('; ')}\n`);
      // A signal that came during a failing step wins: the user asked to stop, and the state is clean.
      const signal = e instanceof Interrupted ? e.signal : await signals.caught();
      if (signal) {
        io.err(`bpfts load: interrupted by ${signal}${undo.failures.length > 0 ? '' : '; what this command created was removed'}\n`);
        return SIGNAL_EXIT[signal];
      }
      if (e instanceof ProgramRejectedError) io.err(`${e.log.trimEnd()}\n`);
      throw e;
    } finally {
      signals.release();
      loaded?.close();
    }
  },
};
