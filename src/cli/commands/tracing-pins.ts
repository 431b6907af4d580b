// Long-lived tracing attachments for `bpfts load` and `bpfts detach`: `load OBJ --tracepoint
// CAT:NAME --pin DIR` pins the attachment's link as DIR/link_PROG beside the programs and maps,
// so it outlives bpfts; `detach --pin DIR` detaches every link pinned there and removes the
// directory's other pins and the directory, leaving nothing of the load behind.
import { existsSync, readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { UsageError } from '../../errors.js';
import { attachSpec, detachPinnedLink, type AttachSpec, type LoadedObject, type Undo } from '../../loader/raw.js';
import { flag, str, type Io, type ParsedArgs } from '../command.js';
import { json } from '../format.js';

const KINDS = { tracepoint: 'tracepoint', 'raw-tp': 'raw-tp', uprobe: 'uprobe', uretprobe: 'uretprobe', kprobe: 'kprobe', kretprobe: 'kretprobe' } as const;

/** The options `bpfts load` takes for tracing attachments. */
export const TRACING_LOAD_OPTIONS = {
  tracepoint: { type: 'string', valueName: 'CAT:NAME', description: 'attach the program to a tracepoint (with --pin: the link is pinned there)' },
  'raw-tp': { type: 'string', valueName: 'NAME', description: 'attach the program to a raw tracepoint (with --pin)' },
  uprobe: { type: 'string', valueName: 'BIN:SYM', description: 'attach the program as a uprobe (with --pin)' },
  uretprobe: { type: 'string', valueName: 'BIN:SYM', description: 'attach the program as a uretprobe (with --pin)' },
  kprobe: { type: 'string', valueName: 'FUNC', description: 'attach the program as a kprobe (with --pin)' },
  kretprobe: { type: 'string', valueName: 'FUNC', description: 'attach the program as a kretprobe (with --pin)' },
} as const;

/** The tracing attachment `bpfts load` was asked for, if any. */
export function tracingAttachOf(args: ParsedArgs, pin: string | undefined): AttachSpec | undefined {
  const given = Object.entries(KINDS).filter(([opt]) => str(args, opt) !== undefined);
  if (given.length === 0) return undefined;
  if (given.length > 1 || str(args, 'tc') !== undefined || str(args, 'tcx') !== undefined || str(args, 'xdp') !== undefined) {
    throw new UsageError('give one attach point: a tracing option or --tc/--tcx/--xdp');
  }
  if (pin === undefined) throw new UsageError(`--${given[0]![0]} needs --pin DIR: an unpinned tracing attachment would end with bpfts`, { hint: 'to watch it run instead, use bpfts trace' });
  const [opt, kind] = given[0]!;
  return { kind, target: str(args, opt)! };
}

/** Attaches the loaded object's one program and pins the link as DIR/link_PROG; returns the pin. */
export function pinTracing(loaded: LoadedObject, spec: AttachSpec, dir: string, undo: Undo): string {
  if (loaded.programs.length !== 1) {
    throw new UsageError(`the object has ${loaded.programs.length} programs; choose the one to attach with --prog`, { hint: `programs: ${loaded.programs.map((p) => p.name).join(', ')}` });
  }
  const p = loaded.programs[0]!;
  const [link] = attachSpec(p.fd, spec);
  undo.push(`detach ${spec.kind} ${spec.target}`, () => link!.detach());
  const pin = `${dir}/link_${p.name}`;
  link!.pin(pin);
  undo.finally(() => link!.close());
  return pin;
}

/** `bpfts detach --pin DIR`, DIR checked by the caller. */
export function detachPinDir(dir: string, args: ParsedArgs, io: Io): number {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`nothing is pinned at ${dir}`);
  const names = readdirSync(dir);
  const links = names.filter((n) => n.startsWith('link_')).map((n) => `${dir}/${n}`);
  for (const l of links) detachPinnedLink(l);
  const others = names.filter((n) => !n.startsWith('link_')).map((n) => `${dir}/${n}`);
  for (const o of others) rmSync(o, { recursive: true, force: true });
  rmdirSync(dir);
  io.out(flag(args, 'json') ? json({ kind: 'pin', dir, detached: links, unpinned: others }) : [
    ...links.map((l) => `detached the link pinned at ${l}\n`), ...others.map((o) => `unpinned ${o}\n`), `removed ${dir}\n`,
  ].join(''));
  return 0;
}
