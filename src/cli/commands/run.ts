import { BpfError, UsageError } from '../../errors.js';
import { readMapSlotInits, readObject, type BpfObject } from '../../object/index.js';
import { isCapture, parseHex, readPacketsFile, writeCoverage } from '../../testing/index.js';
import { BPF_MAP_TYPE_PROG_ARRAY, bpf_prog_type, TC_ACT_NAMES, XDP_ACTION_NAMES } from '../../uapi/index.js';
import {
  Emulator,
  formatInsn,
  parseMapJson,
  readInsn,
  type ContextOverrides,
  type MapJsonSpec,
} from '../../vm/index.js';
import { flag, onePositional, str, strs, type Command, type Io, type ParsedArgs } from '../command.js';
import { InputError, readInput } from '../files.js';
import { requirePrivilege } from './load.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Map types whose elements cannot be listed (prog arrays, perf event arrays, ring buffers). */
const NOT_LISTABLE = new Set([3, 4, 27]);

interface MapView {
  name: string;
  /** Key hex → value hex. */
  snapshot(): Map<string, string>;
}

interface PacketResult {
  retval: number;
  packet: Uint8Array;
  extra: Record<string, unknown>;
}

interface Runner {
  progType: number;
  maps: MapView[];
  run(packet: Uint8Array): PacketResult;
  /** After the last packet: write what the runs leave behind (--coverage). */
  finish(): void;
  close(): void;
}

function readPackets(args: ParsedArgs): Uint8Array[] {
  const given = ['packet', 'packets', 'pcap'].filter((o) => args.values[o] !== undefined);
  if (given.length !== 1) throw new UsageError('give exactly one of --packet HEX, --packets FILE and --pcap FILE');
  const packet = strs(args, 'packet');
  if (packet.length > 0) {
    return packet.map((h) => {
      try {
        return parseHex(h);
      } catch (e) {
        throw new UsageError(`--packet: ${(e as Error).message}`);
      }
    });
  }
  const file = str(args, 'packets') ?? str(args, 'pcap')!;
  const content = readInput(file);
  if (str(args, 'pcap') !== undefined && !isCapture(content)) throw new InputError(`${file} is not a pcap or pcapng capture`);
  try {
    return readPacketsFile(content);
  } catch (e) {
    if (e instanceof BpfError) throw new InputError(`${file}: ${e.message}`);
    throw e;
  }
}

/** --map NAME=JSON, with the map's sizes and BTF types from the object. */
function mapAssignments(args: ParsedArgs, obj: BpfObject): { name: string; entries: [Uint8Array, Uint8Array][] }[] {
  return strs(args, 'map').map((a) => {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new UsageError(`--map wants NAME=JSON, got '${a}'`);
    const name = a.slice(0, eq);
    const def = obj.maps.find((m) => m.name === name);
    const global = obj.globals.find((g) => g.section === name);
    let spec: MapJsonSpec;
    if (def) spec = { name, keySize: def.keySize, valueSize: def.valueSize, btf: obj.btf, keyTypeId: def.keyTypeId, valueTypeId: def.valueTypeId };
    else if (global) spec = { name, keySize: 4, valueSize: global.size };
    else {
      const names = [...obj.maps.map((m) => m.name), ...obj.globals.map((g) => g.section)];
      throw new UsageError(`--map: the object has no map '${name}'`, { hint: `maps: ${names.join(', ') || '(none)'}` });
    }
    return { name, entries: parseMapJson(a.slice(eq + 1), spec) };
  });
}

interface TailCall {
  map: string;
  index: number;
  program: string;
}

/** --tail-call MAP=INDEX:PROGRAM, checked against the object's prog arrays and programs. */
function tailCalls(args: ParsedArgs, obj: BpfObject): TailCall[] {
  return strs(args, 'tail-call').map((a) => {
    const m = /^([^=]+)=(\d+):(.+)$/.exec(a);
    if (m === null) throw new UsageError(`--tail-call wants MAP=INDEX:PROGRAM, got '${a}'`, { hint: 'e.g. --tail-call jumps=1:handle_ipv4' });
    const [, map, index, program] = m as unknown as [string, string, string, string];
    const def = obj.maps.find((d) => d.name === map);
    const arrays = obj.maps.filter((d) => d.type === BPF_MAP_TYPE_PROG_ARRAY).map((d) => d.name);
    if (def?.type !== BPF_MAP_TYPE_PROG_ARRAY) {
      throw new UsageError(`--tail-call: the object has no prog array '${map}'`, { hint: `prog arrays: ${arrays.join(', ') || '(none)'}` });
    }
    if (Number(index) >= def.maxEntries) throw new UsageError(`--tail-call: prog array '${map}' has ${def.maxEntries} entries, so no index ${index}`);
    const entries = obj.programs.filter((p) => p.kind === 'entry');
    if (!entries.some((p) => p.name === program)) {
      throw new UsageError(`--tail-call: the object has no program '${program}'`, { hint: `programs: ${entries.map((p) => p.name).join(', ')}` });
    }
    return { map, index: Number(index), program };
  });
}

function contextOverrides(args: ParsedArgs): ContextOverrides {
  const text = str(args, 'ctx');
  if (text === undefined) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--ctx: not JSON: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError('--ctx wants an object such as {"mark": 5, "cb": [1, 2, 3, 4, 5]}');
  return v as ContextOverrides;
}

function emulatorRunner(obj: BpfObject, args: ParsedArgs, io: Io): Runner {
  const program = str(args, 'prog');
  const type = str(args, 'type');
  const coverageDir = str(args, 'coverage');
  const sourceRoot = str(args, 'source-root');
  if (sourceRoot !== undefined && coverageDir === undefined) throw new UsageError('--source-root is for --coverage DIR');
  const emu = Emulator.fromObject(obj, {
    ...(program !== undefined ? { program } : {}), ...(type !== undefined ? { type } : {}), perfEventsOpen: flag(args, 'perf-open'),
    coverage: coverageDir !== undefined,
  });
  for (const { name, entries } of mapAssignments(args, obj)) for (const [k, v] of entries) emu.maps.get(name).update(k, v);
  for (const t of tailCalls(args, obj)) emu.setTailCall(t.map, t.index, t.program);
  if (flag(args, 'trace')) {
    emu.tracer = (vm, pc) => {
      const bytes = vm.current.bytes;
      const next = (pc + 1) * 8 < bytes.length ? readInsn(bytes, pc + 1) : undefined;
      const regs: string[] = [];
      for (let r = 0; r <= 10; r++) {
        const v = vm.arg(r);
        if (v !== 0n) regs.push(`r${r}=0x${v.toString(16)}`);
      }
      io.err(`${String(pc).padStart(5)}: ${formatInsn(readInsn(bytes, pc), next).padEnd(40)} ${regs.join(' ')}\n`);
    };
  }
  const ctx = contextOverrides(args);
  const maps = emu.maps.names()
    .map((n) => emu.maps.get(n))
    .filter((m) => !NOT_LISTABLE.has(m.raw.def.type))
    .map((m): MapView => ({ name: m.name, snapshot: () => new Map(m.entries().map(([k, v]) => [hex(k), hex(v)])) }));
  return {
    progType: emu.progType,
    maps,
    run(packet) {
      const r = emu.run(packet, ctx);
      const extra: Record<string, unknown> = { executed: r.executed };
      if (r.redirect) extra.redirect = r.redirect;
      if (r.clones.length) extra.clones = r.clones.map((c) => ({ ...c, packet: hex(c.packet) }));
      if (r.printk.length) extra.printk = r.printk;
      const rb = Object.fromEntries(Object.entries(r.ringbuf).filter(([, v]) => v.length).map(([k, v]) => [k, v.map(hex)]));
      if (Object.keys(rb).length) extra.ringbuf = rb;
      const perf = Object.fromEntries(Object.entries(r.perf).filter(([, v]) => v.length).map(([k, v]) => [k, v.map((p) => ({ cpu: p.cpu, data: hex(p.data) }))]));
      if (Object.keys(perf).length) extra.perf = perf;
      return { retval: r.retval, packet: r.meta ? Uint8Array.from([...r.meta, ...r.packet]) : r.packet, extra };
    },
    finish() {
      if (coverageDir === undefined) return;
      const report = emu.coverage();
      if (report.files.length === 0) io.err('warning: the object has no BTF line_info, so the coverage names no source line (build it with clang -g)\n');
      try {
        writeCoverage(coverageDir, report, { ...(sourceRoot !== undefined ? { sourceRoot } : {}), title: `bpfts coverage: ${emu.program.name}` });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === undefined) throw e;
        throw new InputError(`cannot write coverage to ${coverageDir}: ${(e as Error).message}`);
      }
    },
    close() {},
  };
}

async function kernelRunner(obj: BpfObject, bytes: Uint8Array, args: ParsedArgs): Promise<Runner> {
  if (flag(args, 'trace')) throw new UsageError('--trace is for the emulator; the kernel does not trace instructions');
  if (str(args, 'ctx') !== undefined) throw new UsageError('--ctx is for the emulator only');
  if (flag(args, 'perf-open')) throw new UsageError('--perf-open is for the emulator only', { hint: 'BPF_PROG_TEST_RUN runs with no perf event open' });
  if (str(args, 'coverage') !== undefined) throw new UsageError('--coverage is for the emulator; the kernel does not count lines');
  requirePrivilege('--kernel');
  const loader = await import('../../loader/index.js');
  const entries = obj.programs.filter((p) => p.kind === 'entry');
  const program = str(args, 'prog') ?? (entries.length === 1 ? entries[0]!.name : undefined);
  if (program === undefined) throw new UsageError(`the object has ${entries.length} programs; name one with --prog`, { hint: entries.map((p) => p.name).join(', ') });
  const type = str(args, 'type');
  const assignments = mapAssignments(args, obj);
  const tails = tailCalls(args, obj);
  // Programs the object's own prog array initialisers name are loaded too, as the emulator links them.
  const initialised = readMapSlotInits(obj).filter((s) => s.kind === 'program').map((s) => s.target);
  const targets = [...new Set([...tails.map((t) => t.program), ...initialised])].filter((p) => p !== program);
  const loaded = loader.loadObject(bytes, { programs: [program, ...targets], ...(type !== undefined ? { type } : {}), objectName: 'bpfts_run' });
  try {
    for (const { name, entries: pairs } of assignments) {
      const m = loaded.maps.find((c) => c.spec.objectName === name);
      if (!m) throw new UsageError(`--map: map '${name}' was not created in the kernel`);
      for (const [k, v] of pairs) loader.mapUpdateElem(m.fd, k, v);
    }
    for (const t of tails) {
      const m = loaded.maps.find((c) => c.spec.objectName === t.map)!;
      const target = loaded.programs.find((p) => p.name === t.program)!;
      loader.mapUpdateElem(m.fd, new Uint8Array(new Uint32Array([t.index]).buffer), new Uint8Array(new Uint32Array([target.fd.value]).buffer));
    }
    const cpus = loader.possibleCpus();
    const maps = loaded.maps.filter((m) => !NOT_LISTABLE.has(m.spec.type)).map((m): MapView => {
      const percpu = [5, 6, 10].includes(m.spec.type);
      const size = percpu ? ((m.spec.valueSize + 7) & ~7) * cpus : m.spec.valueSize;
      return {
        name: m.spec.objectName,
        snapshot: () => new Map(loader.mapKeys(m.fd, m.spec.keySize).map((k) => [hex(k), hex(loader.mapLookupElem(m.fd, k, size) ?? new Uint8Array())])),
      };
    });
    const prog = loaded.programs.find((p) => p.name === program)!;
    return {
      progType: prog.type,
      maps,
      run(packet) {
        const r = loader.progTestRun(prog.fd, { dataIn: packet, dataSizeOut: packet.length + 4096 });
        return { retval: r.retval, packet: r.dataOut ?? new Uint8Array(), extra: { duration: r.duration } };
      },
      finish() {},
      close: () => loaded.close(),
    };
  } catch (e) {
    loaded.close();
    throw e;
  }
}

function verdictName(progType: number, retval: number): string | undefined {
  switch (progType) {
    case bpf_prog_type.BPF_PROG_TYPE_SCHED_CLS:
    case bpf_prog_type.BPF_PROG_TYPE_SCHED_ACT:
      return TC_ACT_NAMES[retval | 0];
    case bpf_prog_type.BPF_PROG_TYPE_XDP:
      return XDP_ACTION_NAMES[retval];
    case bpf_prog_type.BPF_PROG_TYPE_SOCKET_FILTER:
      return retval === 0 ? 'drop' : `keep ${retval} bytes`;
    case bpf_prog_type.BPF_PROG_TYPE_CGROUP_SKB:
      return retval & 1 ? 'allow' : 'drop';
    default:
      return undefined;
  }
}

function mapChanges(before: Map<string, string>, after: Map<string, string>): { set: Record<string, string>; deleted: string[] } | undefined {
  const set: Record<string, string> = {};
  for (const [k, v] of after) if (before.get(k) !== v) set[k] = v;
  const deleted = [...before.keys()].filter((k) => !after.has(k));
  return Object.keys(set).length || deleted.length ? { set, deleted } : undefined;
}

export const run: Command = {
  path: ['run'],
  summary: 'Run a program of an object on packets, in the emulator or (--kernel) with BPF_PROG_TEST_RUN',
  usage: 'OBJ [--prog NAME] [--type TYPE] (--packet HEX | --packets FILE | --pcap FILE) [--json] [--map NAME=JSON ...] [--tail-call MAP=INDEX:PROGRAM ...] [--ctx JSON] [--perf-open] [--trace] [--coverage DIR [--source-root DIR]] [--kernel]',
  details: `Each packet is a whole Ethernet frame. It runs as BPF_PROG_TEST_RUN would run it: for tc programs
the context is the skb the kernel builds on the loopback device (protocol and pkt_type from the frame),
for XDP the frame sits after 256 bytes of headroom. Maps and global data keep their contents from one
packet to the next.

Output: one line per packet; with --json one JSON object per line (NDJSON), in packet order:
  {"index": 0, "retval": 2, "verdict": "TC_ACT_SHOT", "packet": "HEX", "changed": false, ...}
"packet" is the frame after the program (for XDP including any metadata before it, as the test run
returns it). Also, when present: "printk" (trace_printk lines), "ringbuf" (records per map, hex),
"perf", "redirect", "clones", "maps" (per map: "set" key->value and "deleted" keys, hex), "executed"
(instructions; emulator) or "duration" (ns; --kernel).

--map NAME=JSON presets a map or a global data section (.data, .bss, .rodata) before the first packet:
  {"KEY": VALUE, ...} with decimal or hex keys, or [[KEY, VALUE], ...]; a key or value is a JSON number
  (little-endian integer of the key/value size), a hex string ("0a000001", bytes in order), an array
  of bytes, or an object by BTF member name, e.g.
  --map 'proxy_targets=[[{"addr":"0a010101","port":"1f90"},{"addr":"0a020202","port":"0050"}]]'
--tail-call MAP=INDEX:PROGRAM puts a program of the object into a prog array slot, for bpf_tail_call();
  slots the object initialises itself (__array(values, ...) = { [1] = &prog }) are filled already.
--ctx JSON sets __sk_buff / xdp_md fields (e.g. {"mark": 7, "pkt_type": 4}); emulator only.
--perf-open captures bpf_perf_event_output() records ("perf") as if user space had opened a perf event
  on every CPU; without it, as under BPF_PROG_TEST_RUN, the helper returns -ENOENT (-2). Emulator only.
--trace writes every executed instruction, with the non-zero registers before it, to stderr.
--coverage DIR writes the C source coverage of all the packets together, through BTF line_info:
  DIR/lcov.info (lcov tracefile: per line hit counts, per conditional jump its taken and fall-through
  counts, per function its calls; for genhtml, Codecov, editors) and DIR/index.html (a self-contained
  page: the C source with hit counts, missed branches marked, a summary per file and function). Every
  program of the object is in it; those that did not run count zero. Emulator only.
--source-root DIR is where the relative paths in line_info start (the directory clang ran in when the
  object was built elsewhere; default the working directory). A source that is not found is still
  reported, by line number with the line text BTF carries.
--kernel loads the object with bpfts's loader and runs each packet with BPF_PROG_TEST_RUN (root).`,
  options: {
    prog: { type: 'string', valueName: 'NAME', description: 'program (function name) to run; needed when the object has several' },
    type: { type: 'string', valueName: 'TYPE', description: 'program type, e.g. sched_cls, xdp, socket_filter (default: from the section)' },
    packet: { type: 'string', multiple: true, valueName: 'HEX', description: 'a frame in hex (repeatable)' },
    packets: { type: 'string', valueName: 'FILE', description: 'frames from a file: one hex frame per line, or a pcap/pcapng capture' },
    pcap: { type: 'string', valueName: 'FILE', description: 'frames from a pcap or pcapng capture of Ethernet frames' },
    json: { type: 'boolean', description: 'one JSON object per packet' },
    map: { type: 'string', multiple: true, valueName: 'NAME=JSON', description: 'preset map contents (repeatable)' },
    'tail-call': { type: 'string', multiple: true, valueName: 'MAP=INDEX:PROGRAM', description: 'put a program into a prog array slot (repeatable)' },
    ctx: { type: 'string', valueName: 'JSON', description: 'context field values, e.g. {"mark": 1}' },
    'perf-open': { type: 'boolean', description: 'capture bpf_perf_event_output() as if perf events were open (emulator)' },
    trace: { type: 'boolean', description: 'print every executed instruction with its registers to stderr' },
    coverage: { type: 'string', valueName: 'DIR', description: 'write C source coverage to DIR/lcov.info and DIR/index.html (emulator)' },
    'source-root': { type: 'string', valueName: 'DIR', description: 'directory the source paths in line_info are relative to (with --coverage)' },
    kernel: { type: 'boolean', description: 'run in the kernel with BPF_PROG_TEST_RUN instead of the emulator (root)' },
  },
  async run(args, io) {
    const path = onePositional(args, 'object file', run);
    const bytes = readInput(path);
    const obj = readObject(bytes);
    const packets = readPackets(args);
    const runner = flag(args, 'kernel') ? await kernelRunner(obj, bytes, args) : emulatorRunner(obj, args, io);
    try {
      const asJson = flag(args, 'json');
      let state = runner.maps.map((m) => m.snapshot());
      packets.forEach((packet, index) => {
        const r = runner.run(packet);
        const after = runner.maps.map((m) => m.snapshot());
        const changes: Record<string, unknown> = {};
        runner.maps.forEach((m, i) => {
          const c = mapChanges(state[i]!, after[i]!);
          if (c) changes[m.name] = c;
        });
        state = after;
        const verdict = verdictName(runner.progType, r.retval);
        const changed = hex(r.packet) !== hex(packet);
        if (asJson) {
          io.out(JSON.stringify({
            index, retval: r.retval, ...(verdict ? { verdict } : {}), packet: hex(r.packet), changed, ...r.extra,
            ...(Object.keys(changes).length ? { maps: changes } : {}),
          }) + '\n');
          return;
        }
        const lines = [`packet ${index}: ${verdict ? `${verdict} (${r.retval})` : `retval ${r.retval}`}, ${packet.length} bytes${changed ? `, changed to ${r.packet.length} bytes: ${hex(r.packet)}` : ', unchanged'}`];
        for (const l of (r.extra.printk as string[] | undefined) ?? []) lines.push(`  printk: ${l}`);
        for (const [name, recs] of Object.entries((r.extra.ringbuf as Record<string, string[]> | undefined) ?? {})) for (const rec of recs) lines.push(`  ringbuf ${name}: ${rec}`);
        for (const [name, recs] of Object.entries((r.extra.perf as Record<string, { cpu: number; data: string }[]> | undefined) ?? {})) {
          for (const rec of recs) lines.push(`  perf ${name} (cpu ${rec.cpu}): ${rec.data}`);
        }
        if (r.extra.redirect) lines.push(`  redirect: ${JSON.stringify(r.extra.redirect)}`);
        for (const [name, c] of Object.entries(changes) as [string, { set: Record<string, string>; deleted: string[] }][]) {
          for (const [k, v] of Object.entries(c.set)) lines.push(`  map ${name}: ${k} = ${v}`);
          for (const k of c.deleted) lines.push(`  map ${name}: ${k} deleted`);
        }
        io.out(lines.join('\n') + '\n');
      });
      runner.finish();
    } finally {
      runner.close();
    }
    return 0;
  },
};
