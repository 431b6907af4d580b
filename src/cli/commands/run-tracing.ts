// `bpfts run OBJ --memory FILE`: a tracing program run once in the emulator on the kernel objects
// and context the memory file describes, its perf and ring buffer records decoded through the
// object's BTF.
import { existsSync, readFileSync } from 'node:fs';
import { btfDecode, btfFromFile, cValueToJson, type Btf } from '../../btf/index.js';
import { UsageError } from '../../errors.js';
import type { BpfObject } from '../../object/index.js';
import { Emulator, type RunOutput, type TracingInput } from '../../vm/index.js';
import { flag, str, type Io, type ParsedArgs } from '../command.js';
import { InputError, readInput } from '../files.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';
const TRACEFS = '/sys/kernel/tracing/events';
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The runs a memory file describes: one object, or an array of them run in order. */
function memoryFile(path: string): TracingInput[] {
  const text = Buffer.from(readInput(path)).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${path}: not JSON: ${(e as Error).message}`);
  }
  return (Array.isArray(parsed) ? parsed : [parsed]) as TracingInput[];
}

/** The tracefs format of a `tracepoint/CATEGORY/NAME` (or `tp/...`) section, when the file gives none. */
function tracepointFormat(section: string): string {
  const m = /^(?:tracepoint|tp)\/([^/]+)\/([^/]+)$/.exec(section);
  if (m === null) throw new UsageError(`section '${section}' names no tracepoint; give "format" in the memory file's "ctx"`);
  const path = `${TRACEFS}/${m[1]}/${m[2]}/format`;
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`cannot read ${path} for the tracepoint's format`, {
      hint: 'run as root with tracefs mounted, or put the format file\'s text in "ctx": {"kind": "tracepoint", "format": "..."}',
    });
  }
}

/** The struct a record of `length` bytes is: `--record`, else the object's only named struct of that size. */
function recordType(btf: Btf | undefined, length: number, spelled: string | undefined): number | undefined {
  if (btf === undefined) return undefined;
  if (spelled !== undefined) {
    const name = spelled.replace(/^\s*(struct|union)\s+/, '').trim();
    const t = btf.byName(name).find((x) => x.kind === 'STRUCT' || x.kind === 'UNION' || x.kind === 'TYPEDEF');
    if (t === undefined) throw new UsageError(`--record: the object's BTF has no type '${spelled}'`);
    return t.id;
  }
  const fits = btf.types.filter((t) => (t.kind === 'STRUCT' || t.kind === 'UNION') && t.name !== '' && t.size === length);
  return fits.length === 1 ? fits[0]!.id : undefined;
}

/** `maps` are the --map presets, stored before the first run. */
export function runTracingCommand(obj: BpfObject, args: ParsedArgs, io: Io, maps: { name: string; entries: [Uint8Array, Uint8Array][] }[]): number {
  for (const o of ['packet', 'packets', 'pcap', 'kernel', 'ctx', 'tail-call', 'trace']) {
    const v = args.values[o];
    if (v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0)) throw new UsageError(`--${o} is for packet programs; --memory runs a tracing program`);
  }
  const btfPath = str(args, 'btf') ?? (existsSync(VMLINUX) ? VMLINUX : undefined);
  const btf = btfPath === undefined ? undefined : btfFromFile(readInput(btfPath));
  const program = str(args, 'prog');
  const type = str(args, 'type');
  const emu = Emulator.fromObject(obj, {
    ...(program !== undefined ? { program } : {}), ...(type !== undefined ? { type } : {}), ...(btf ? { btf } : {}),
  });
  for (const { name, entries } of maps) for (const [k, v] of entries) emu.maps.get(name).update(k, v);
  const inputs = memoryFile(str(args, 'memory')!);
  const asJson = flag(args, 'json');
  const spelled = str(args, 'record');
  inputs.forEach((input, index) => {
    const ctx = (input as { ctx?: { kind?: string; format?: unknown } }).ctx;
    if (ctx?.kind === 'tracepoint' && ctx.format === undefined) ctx.format = tracepointFormat(emu.program.section);
    printRun(emu.runTracing(input), inputs.length > 1 ? index : undefined, obj.btf, spelled, asJson, io);
  });
  return 0;
}

function printRun(r: RunOutput, index: number | undefined, btf: Btf | undefined, spelled: string | undefined, asJson: boolean, io: Io): void {
  const records: { cpu?: number; map: string; data: Uint8Array }[] = [
    ...Object.entries(r.perf).flatMap(([map, recs]) => recs.map((p) => ({ cpu: p.cpu, map, data: p.data }))),
    ...Object.entries(r.ringbuf).flatMap(([map, recs]) => recs.map((data) => ({ map, data }))),
  ];
  const decoded = records.map((rec) => {
    const id = recordType(btf, rec.data.length, spelled);
    return { ...rec, record: id === undefined ? undefined : cValueToJson(btfDecode(btf!, id, rec.data)) };
  });
  const run = index === undefined ? {} : { index };
  if (asJson) {
    for (const d of decoded) {
      io.out(JSON.stringify({ ...run, ...(d.cpu !== undefined ? { cpu: d.cpu } : {}), map: d.map, ...(d.record !== undefined ? { record: d.record } : {}), hex: hex(d.data) }) + '\n');
    }
    io.out(JSON.stringify({ ...run, retval: r.retval, executed: r.executed, ...(r.printk.length ? { printk: r.printk } : {}) }) + '\n');
    return;
  }
  const lines = [`${index === undefined ? '' : `run ${index}: `}retval ${r.retval}, ${r.executed} instructions, ${records.length} record${records.length === 1 ? '' : 's'}`];
  for (const l of r.printk) lines.push(`  printk: ${l}`);
  for (const d of decoded) {
    const where = d.cpu === undefined ? `ringbuf ${d.map}` : `perf ${d.map} (cpu ${d.cpu})`;
    lines.push(`  ${where}: ${d.record !== undefined ? `${JSON.stringify(d.record)} ` : ''}${hex(d.data)}`);
  }
  io.out(lines.join('\n') + '\n');
}
