import { setTimeout as sleep } from 'node:timers/promises';
import { BtfCodec, cValueToJson, type Btf, type JsonCValue } from '../../btf/index.js';
import { UsageError } from '../../errors.js';
import { BPF_MAP_TYPE_NAMES, PERCPU_MAP_TYPES } from '../../uapi/index.js';
import {
  fetchBtf, kernelMaps, possibleCpus, mapDeleteElem, mapGetFdById, mapGetInfo, mapKeys, mapLookupElem, mapUpdateElem, objGet,
  type Fd, type MapInfo,
} from '../../loader/raw.js';
import { flag, intOption, str, type Command, type ParsedArgs } from '../command.js';
import { json, table } from '../format.js';
import { requirePrivilege } from './load.js';


function mapTypeName(type: number): string {
  return BPF_MAP_TYPE_NAMES[type]?.replace(/^BPF_MAP_TYPE_/, '').toLowerCase() ?? `type ${type}`;
}

/** A map given as an id, a pin path, or --name. */
function openMap(args: ParsedArgs, command: Command): Fd {
  const name = str(args, 'name');
  const target = args.positionals[0];
  if ((name === undefined) === (target === undefined)) {
    throw new UsageError('name the map by ID, by pin path, or with --name NAME', { hint: `usage: bpfts ${command.path.join(' ')} ${command.usage}` });
  }
  if (name !== undefined) {
    const found = kernelMaps().filter((m) => m.name === name);
    if (found.length === 0) throw new UsageError(`no map named '${name}' is loaded`, { hint: "see 'bpfts map list'" });
    if (found.length > 1) throw new UsageError(`${found.length} maps are named '${name}' (ids ${found.map((m) => m.id).join(', ')})`, { hint: 'give the id instead' });
    return mapGetFdById(found[0]!.id);
  }
  if (/^\d+$/.test(target!)) return mapGetFdById(Number(target));
  if (!target!.startsWith('/sys/fs/bpf/')) throw new UsageError(`'${target}' is neither a map id nor a pin path under /sys/fs/bpf`);
  return objGet(target!, 0, 'map');
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** "0a 00 00 01", "0a:00:00:01", "0a000001" or "0x0a000001": bytes in memory order. */
function parseHex(text: string, size: number, what: string): Uint8Array {
  const digits = text.replace(/^0x/i, '').replace(/[\s:]/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(digits)) throw new UsageError(`--${what} wants hex bytes, got '${text}'`);
  const bytes = Uint8Array.from(digits.match(/../g) ?? [], (h) => parseInt(h, 16));
  if (bytes.length !== size) throw new UsageError(`--${what} has ${bytes.length} bytes, the map wants ${size}`);
  return bytes;
}

interface Entry { key: string; value: string | string[]; formatted?: { key: JsonCValue; value: JsonCValue | JsonCValue[] } }

function dumpOnce(fd: Fd, info: MapInfo, btf: Btf | undefined): Entry[] {
  const percpu = PERCPU_MAP_TYPES.has(info.type);
  const stride = Math.ceil(info.valueSize / 8) * 8;
  const keyCodec = new BtfCodec(btf, info.btfKeyTypeId, info.keySize);
  const valueCodec = new BtfCodec(btf, info.btfValueTypeId, info.valueSize);
  const entries: Entry[] = [];
  for (const key of mapKeys(fd)) {
    const raw = mapLookupElem(fd, key);
    if (!raw) continue;
    const values = percpu ? Array.from({ length: raw.byteLength / stride }, (_, c) => raw.subarray(c * stride, c * stride + info.valueSize)) : [raw];
    const e: Entry = { key: hex(key), value: percpu ? values.map(hex) : hex(raw) };
    if (keyCodec.typed || valueCodec.typed) {
      const fk = keyCodec.typed ? cValueToJson(keyCodec.decode(key)) : hex(key);
      const fv = values.map((v) => (valueCodec.typed ? cValueToJson(valueCodec.decode(v)) : hex(v)));
      e.formatted = { key: fk, value: percpu ? fv : fv[0]! };
    }
    entries.push(e);
  }
  return entries;
}

export const mapList: Command = {
  path: ['map', 'list'],
  summary: 'List the BPF maps in the kernel (like bpftool map list)',
  usage: '[--json]',
  options: { json: { type: 'boolean', description: 'print JSON' } },
  run(args, io) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
    requirePrivilege('bpfts map list');
    const list = kernelMaps().map((m) => ({
      id: m.id, type: mapTypeName(m.type), name: m.name, keySize: m.keySize, valueSize: m.valueSize,
      maxEntries: m.maxEntries, flags: m.flags, btfId: m.btfId,
    }));
    if (flag(args, 'json')) io.out(json(list));
    else io.out(table(['ID', 'TYPE', 'NAME', 'KEY', 'VALUE', 'MAX_ENTRIES', 'FLAGS', 'BTF'], list.map((m) => [m.id, m.type, m.name, m.keySize, m.valueSize, m.maxEntries, `0x${m.flags.toString(16)}`, m.btfId || '-'])));
    return 0;
  },
};

export const mapDump: Command = {
  path: ['map', 'dump'],
  summary: "Print a map's entries, decoded through its BTF when it has one",
  usage: 'ID|PIN|--name NAME [--watch SECONDS [--count N]] [--json]',
  details: `
Keys and values are shown as hex bytes and, when the map carries BTF key/value types, as C values
("formatted"). Per-CPU maps show one value per possible CPU. --watch prints the map again every
SECONDS seconds until interrupted (or --count times).`,
  options: {
    name: { type: 'string', valueName: 'NAME', description: 'the map with this name' },
    watch: { type: 'string', valueName: 'SECONDS', description: 'print the map every SECONDS seconds' },
    count: { type: 'string', valueName: 'N', description: 'with --watch: stop after N dumps' },
    json: { type: 'boolean', description: 'print JSON (one document per dump)' },
  },
  async run(args, io) {
    if (args.positionals.length > 1) throw new UsageError('expected one map');
    const watch = intOption(args, 'watch');
    const count = intOption(args, 'count');
    if (count !== undefined && watch === undefined) throw new UsageError('--count goes with --watch');
    if (watch === 0) throw new UsageError('--watch wants at least 1 second');
    requirePrivilege('bpfts map dump');
    const fd = openMap(args, mapDump);
    let stop = false;
    const onSignal = () => { stop = true; };
    process.once('SIGINT', onSignal);
    try {
      const info = mapGetInfo(fd);
      const btf = info.btfId ? fetchBtf(info.btfId) : undefined;
      for (let n = 0; ; n++) {
        const entries = dumpOnce(fd, info, btf);
        if (flag(args, 'json')) io.out(json(entries));
        else {
          if (watch !== undefined) io.out(`--- ${info.name} (id ${info.id}) at ${new Date().toISOString()}\n`);
          for (const e of entries) {
            io.out(e.formatted ? `${JSON.stringify(e.formatted.key)}: ${JSON.stringify(e.formatted.value)}\n` : `key: ${e.key}  value: ${Array.isArray(e.value) ? e.value.join(' | ') : e.value}\n`);
          }
          io.out(`Found ${entries.length} element${entries.length === 1 ? '' : 's'}\n`);
        }
        if (watch === undefined || stop || (count !== undefined && n + 1 >= count)) break;
        await sleep(watch * 1000);
        if (stop) break;
      }
    } finally {
      process.off('SIGINT', onSignal);
      fd.close();
    }
    return 0;
  },
};

export const mapUpdate: Command = {
  path: ['map', 'update'],
  summary: 'Store one element in a map',
  usage: 'ID|PIN|--name NAME --key HEX --value HEX [--cpu N] [--flags any|noexist|exist]',
  details: `
For per-CPU maps the value is stored for every possible CPU, or with --cpu N for CPU N only (the
other CPUs keep what they hold, or zeros for a new element).`,
  options: {
    cpu: { type: 'string', valueName: 'N', description: 'per-CPU maps: set the value of CPU N only' },
    name: { type: 'string', valueName: 'NAME', description: 'the map with this name' },
    key: { type: 'string', valueName: 'HEX', description: 'key bytes in memory order, e.g. "0a 00 00 01"' },
    value: { type: 'string', valueName: 'HEX', description: 'value bytes in memory order' },
    flags: { type: 'string', valueName: 'F', description: 'any (default), noexist or exist' },
  },
  run(args, io) {
    const k = str(args, 'key');
    const v = str(args, 'value');
    if (k === undefined || v === undefined) throw new UsageError('--key and --value are required');
    const f = str(args, 'flags') ?? 'any';
    const flags = { any: 0, noexist: 1, exist: 2 }[f];
    if (flags === undefined) throw new UsageError(`--flags is any, noexist or exist, got '${f}'`);
    requirePrivilege('bpfts map update');
    const fd = openMap(args, mapUpdate);
    try {
      const info = mapGetInfo(fd);
      const key = parseHex(k, info.keySize, 'key');
      const value = parseHex(v, info.valueSize, 'value');
      const cpu = intOption(args, 'cpu');
      if (!PERCPU_MAP_TYPES.has(info.type)) {
        if (cpu !== undefined) throw new UsageError(`--cpu is for per-CPU maps; ${info.name} is a ${mapTypeName(info.type)} map`);
        mapUpdateElem(fd, key, value, flags);
      } else {
        // The kernel takes one 8-byte aligned slot per possible CPU.
        const cpus = possibleCpus();
        if (cpu !== undefined && cpu >= cpus) throw new UsageError(`--cpu ${cpu}: this machine has CPUs 0-${cpus - 1}`);
        const stride = Math.ceil(info.valueSize / 8) * 8;
        const all = new Uint8Array(stride * cpus);
        if (cpu !== undefined) {
          const current = mapLookupElem(fd, key);
          if (current) all.set(current);
        }
        for (let c = 0; c < cpus; c++) if (cpu === undefined || c === cpu) all.set(value, c * stride);
        mapUpdateElem(fd, key, all, flags);
      }
      io.out(`updated ${info.name} (id ${info.id})\n`);
    } finally {
      fd.close();
    }
    return 0;
  },
};

export const mapDelete: Command = {
  path: ['map', 'delete'],
  summary: 'Delete one element of a map',
  usage: 'ID|PIN|--name NAME --key HEX',
  options: {
    name: { type: 'string', valueName: 'NAME', description: 'the map with this name' },
    key: { type: 'string', valueName: 'HEX', description: 'key bytes in memory order' },
  },
  run(args, io) {
    const k = str(args, 'key');
    if (k === undefined) throw new UsageError('--key is required');
    requirePrivilege('bpfts map delete');
    const fd = openMap(args, mapDelete);
    try {
      const info = mapGetInfo(fd);
      if (!mapDeleteElem(fd, parseHex(k, info.keySize, 'key'))) throw new UsageError(`${info.name} has no element with key ${k}`);
      io.out(`deleted from ${info.name} (id ${info.id})\n`);
    } finally {
      fd.close();
    }
    return 0;
  },
};
