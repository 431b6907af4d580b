import { basename } from 'node:path';
import { UsageError } from '../../errors.js';
import {
  LoadError, PerfEventArrayReader, faultsFromEnvironment, RingBufferReader, attachFromSection, attachSpec, decodeRecord, explainTracingLoadFailure,
  loadObject, objectNameOf, parseAttachSpec, recordType, type AttachSpec, type LoadedObject, type RecordType, type RingReader,
  type TracingLink,
} from '../../loader/raw.js';
import { readObject } from '../../object/index.js';
import { BPF_MAP_TYPE_PERF_EVENT_ARRAY, BPF_MAP_TYPE_RINGBUF } from '../../uapi/index.js';
import { flag, intOption, str, strs, type Command, type Io, type ParsedArgs } from '../command.js';
import { readInput } from '../files.js';
import { requirePrivilege } from './load.js';

/** The shorthand options for an object with one program (or --prog), and the kind each gives. */
const SHORTHANDS = {
  kprobe: 'kprobe', kretprobe: 'kretprobe', uprobe: 'uprobe', uretprobe: 'uretprobe', tracepoint: 'tracepoint', 'raw-tp': 'raw-tp',
  fentry: 'fentry', fexit: 'fexit',
} as const;

/** PROG → where it attaches: --attach, a shorthand, or the sections (libbpf's auto-attach). */
export function attachPlan(args: ParsedArgs, programs: { name: string; section: string; kind: string }[]): Map<string, AttachSpec> {
  const plan = new Map<string, AttachSpec>();
  const entries = programs.filter((p) => p.kind === 'entry');
  for (const a of strs(args, 'attach')) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new UsageError(`--attach wants PROG=KIND:TARGET, got '${a}'`, { hint: 'e.g. --attach sum_enter=uprobe:./app:h_sum' });
    const name = a.slice(0, eq);
    if (!programs.some((p) => p.name === name)) {
      throw new UsageError(`--attach names program '${name}', which the object does not have`, { hint: `programs: ${entries.map((p) => p.name).join(', ')}` });
    }
    if (plan.has(name)) throw new UsageError(`--attach gives program '${name}' twice`);
    plan.set(name, parseAttachSpec(a.slice(eq + 1)));
  }
  const shorthands = Object.entries(SHORTHANDS).filter(([opt]) => str(args, opt) !== undefined);
  if (shorthands.length > 0) {
    if (shorthands.length > 1 || plan.size > 0) throw new UsageError('give one attach shorthand (--kprobe, --uprobe, --tracepoint, ...) or --attach options, not both');
    const prog = str(args, 'prog');
    const chosen = prog === undefined ? entries : entries.filter((p) => p.name === prog || p.section === prog);
    if (chosen.length !== 1) {
      throw new UsageError(prog === undefined ? `the object has ${entries.length} programs: choose the one to attach with --prog` : `the object has no program '${prog}'`, {
        hint: `programs: ${entries.map((p) => p.name).join(', ')}`,
      });
    }
    const [opt, kind] = shorthands[0]!;
    plan.set(chosen[0]!.name, { kind, target: str(args, opt)! });
  }
  if (plan.size > 0) return plan;
  for (const p of entries) {
    const spec = attachFromSection(p.name, p.section);
    if (spec) plan.set(p.name, spec);
  }
  if (plan.size === 0) {
    throw new UsageError('no program of the object has a tracing section to attach automatically', {
      hint: `say where: --attach PROG=KIND:TARGET (programs: ${entries.map((p) => `${p.name} in ${p.section}`).join(', ')})`,
    });
  }
  return plan;
}

function eventsMap(loaded: LoadedObject, name: string | undefined) {
  const readable = loaded.maps.filter((m) => m.spec.type === BPF_MAP_TYPE_PERF_EVENT_ARRAY || m.spec.type === BPF_MAP_TYPE_RINGBUF);
  if (name !== undefined) {
    const m = loaded.maps.find((x) => x.spec.objectName === name || x.spec.name === name);
    if (!m) throw new UsageError(`the object has no map '${name}'`, { hint: `perf event arrays and ring buffers: ${readable.map((x) => x.spec.objectName).join(', ') || 'none'}` });
    if (!readable.includes(m)) throw new UsageError(`map '${name}' is neither a perf event array nor a ring buffer`);
    return m;
  }
  if (readable.length > 1) {
    throw new UsageError(`the object has ${readable.length} perf event arrays and ring buffers: choose one with --events`, { hint: `maps: ${readable.map((x) => x.spec.objectName).join(', ')}` });
  }
  return readable[0];
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

export const trace: Command = {
  path: ['trace'],
  summary: 'Load a tracing object, attach its programs and print the records they send through a perf event array or ring buffer',
  usage: "OBJ [--attach PROG=KIND:TARGET]... [--events MAP [--type 'struct NAME']] [--count N] [--duration SECONDS] [--json]",
  details: `
Without --attach (or a shorthand) every program is attached where its section says, with libbpf's
auto-attach rules: kprobe/FUNC, kretprobe/FUNC, uprobe/PATH:SYM, uretprobe/PATH:SYM,
tracepoint/CAT/NAME (tp/...), raw_tp/NAME (raw_tracepoint/...), fentry/FUNC, fexit/FUNC,
fmod_ret/FUNC, tp_btf/NAME, lsm/HOOK. KIND in --attach is one of kprobe, kretprobe, uprobe,
uretprobe, tracepoint, raw-tp, fentry, fexit, fmod-ret, tp-btf, lsm, perf-event; TARGET is FUNC[+OFF],
BINARY:SYMBOL[+OFF] (or BINARY:0xFILEOFFSET), CATEGORY:NAME, a raw tracepoint name, or a software
event (cpu-clock, page-faults, ...). The shorthands --kprobe FUNC, --uprobe BIN:SYM, --tracepoint
CAT:NAME, ... attach the object's one program (or --prog NAME).

Records come from --events MAP, by default the object's only perf event array or ring buffer, and
are printed as they arrive: decoded through the object's BTF with --type 'struct NAME', as hex
otherwise. With --json, one JSON object per line: {"cpu":0,"map":"events","record":{...},"hex":"..."}
for a record (cpu is null for a ring buffer, record null without --type), {"lost":N,"cpu":C} when
the kernel dropped N records because a ring was full. Perf records carry the kernel's padding up to
8 bytes with their size word.

bpfts detaches and unloads everything on Ctrl-C, SIGTERM, after --count N records or after
--duration SECONDS, and exits with 0; nothing stays attached. A signal during the set-up stops it
at the next step, attaching nothing more. A kernel without kprobes, or one that refuses
fentry/fexit programs, gets an error naming what works instead.`,
  options: {
    attach: { type: 'string', multiple: true, valueName: 'PROG=KIND:TARGET', description: 'attach program PROG there (repeatable)' },
    prog: { type: 'string', valueName: 'NAME', description: 'the program a shorthand attaches' },
    kprobe: { type: 'string', valueName: 'FUNC', description: 'attach the program as a kprobe on FUNC' },
    kretprobe: { type: 'string', valueName: 'FUNC', description: 'attach the program as a kretprobe on FUNC' },
    uprobe: { type: 'string', valueName: 'BIN:SYM', description: 'attach the program as a uprobe' },
    uretprobe: { type: 'string', valueName: 'BIN:SYM', description: 'attach the program as a uretprobe' },
    tracepoint: { type: 'string', valueName: 'CAT:NAME', description: 'attach the program to a tracepoint' },
    'raw-tp': { type: 'string', valueName: 'NAME', description: 'attach the program to a raw tracepoint' },
    fentry: { type: 'string', valueName: 'FUNC', description: 'attach the program as fentry of FUNC' },
    fexit: { type: 'string', valueName: 'FUNC', description: 'attach the program as fexit of FUNC' },
    events: { type: 'string', valueName: 'MAP', description: 'the perf event array or ring buffer to read' },
    type: { type: 'string', valueName: 'TYPE', description: "decode records as this BTF type, e.g. 'struct event'" },
    count: { type: 'string', valueName: 'N', description: 'stop after N records' },
    duration: { type: 'string', valueName: 'SECONDS', description: 'stop after SECONDS seconds' },
    pages: { type: 'string', valueName: 'N', description: 'data pages per CPU of each perf ring (a power of two, default 8)' },
    json: { type: 'boolean', description: 'one JSON object per record or loss' },
  },
  async run(args, io) {
    const path = args.positionals[0];
    if (path === undefined || args.positionals.length > 1) throw new UsageError('expected one object file', { hint: `usage: bpfts trace ${trace.usage}` });
    const count = intOption(args, 'count');
    const durationText = str(args, 'duration');
    const duration = durationText === undefined ? undefined : Number(durationText);
    if (duration !== undefined && !(duration > 0)) throw new UsageError(`--duration wants a positive number of seconds, got '${durationText}'`);
    const pages = intOption(args, 'pages');
    const bytes = readInput(path);
    requirePrivilege('bpfts trace');
    faultsFromEnvironment();
    const object = readObject(bytes);
    const plan = attachPlan(args, object.programs);

    let loaded: LoadedObject | undefined;
    let reader: RingReader | undefined;
    const links: TracingLink[] = [];
    let stopped = false;
    const stop = () => {
      stopped = true;
      reader?.close();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    // Signals reach JavaScript only between synchronous steps: yielding once lets a pending one in,
    // so that Ctrl-C during the set-up ends it there instead of after attaching.
    const stopping = async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return stopped;
    };
    try {
      try {
        loaded = loadObject(object, { programs: [...plan.keys()], objectName: objectNameOf(path), warn: (m) => io.err(`bpfts trace: warning: ${m}\n`) });
      } catch (e) {
        throw e instanceof LoadError && e.section !== undefined ? explainTracingLoadFailure(e, e.section) : e;
      }
      if (await stopping()) return 0;
      const map = eventsMap(loaded, str(args, 'events'));
      const typeText = str(args, 'type');
      if (typeText !== undefined && !object.btf) throw new UsageError('--type needs the object\'s BTF, and the object has none');
      const type: RecordType | undefined = typeText === undefined ? undefined : recordType(object.btf!, typeText);
      if (map) {
        reader = map.spec.type === BPF_MAP_TYPE_RINGBUF
          ? RingBufferReader.open(map.fd)
          : PerfEventArrayReader.open(map.fd, pages === undefined ? {} : { pages });
      }
      for (const p of loaded.programs) {
        if (await stopping()) return 0;
        const spec = plan.get(p.name)!;
        const made = attachSpec(p.fd, spec);
        links.push(...made);
        for (const l of made) for (const n of l.notes) io.err(`bpfts trace: ${p.name}: ${n}\n`);
        io.err(`bpfts trace: ${p.name} attached: ${made.map((l) => `${l.kind} ${l.target}`).join(', ')}\n`);
      }
      if (await stopping()) return 0;
      if (!reader) {
        io.err(`bpfts trace: ${basename(path)} has no perf event array or ring buffer; the programs stay attached until Ctrl-C${duration ? ` or ${duration} s` : ''}\n`);
        await waitForStop(duration);
        return 0;
      }
      const timer = duration === undefined ? undefined : setTimeout(stop, duration * 1000);
      try {
        await print(reader, map!.spec.objectName, type, count, flag(args, 'json'), io);
      } finally {
        clearTimeout(timer);
      }
      return 0;
    } finally {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      const failures: string[] = [];
      for (const l of links.reverse()) {
        try {
          l.detach();
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
      reader?.close();
      loaded?.close();
      if (failures.length > 0) io.err(`bpfts trace: could not detach everything: ${failures.join('; ')}\n`);
    }
  },
};

async function print(reader: RingReader, mapName: string, type: RecordType | undefined, count: number | undefined, json: boolean, io: Io): Promise<void> {
  let n = 0;
  if (count === 0) return;
  for await (const e of reader) {
    if (e.kind === 'lost') {
      io.out(json ? `${JSON.stringify({ lost: e.count, cpu: e.cpu })}\n` : `lost ${e.count} records on CPU ${e.cpu}\n`);
      continue;
    }
    const record = type ? decodeRecord(type, e.data) : null;
    if (json) {
      io.out(`${JSON.stringify({ cpu: e.cpu, map: mapName, record, hex: hex(e.data) })}\n`);
    } else {
      io.out(`${e.cpu === null ? '' : `cpu ${e.cpu} `}${mapName}: ${record === null ? hex(e.data) : JSON.stringify(record)}\n`);
    }
    if (count !== undefined && ++n >= count) break;
  }
}

/** Resolves on SIGINT, SIGTERM or after `seconds`. */
function waitForStop(seconds: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      process.removeListener('SIGINT', done);
      process.removeListener('SIGTERM', done);
      resolve();
    };
    // Signal listeners alone do not keep Node running: a timer does, without waking it.
    const timer = setTimeout(done, seconds === undefined ? 2 ** 31 - 1 : seconds * 1000);
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}
