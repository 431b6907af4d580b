// uprobes and uretprobes through the uprobe PMU: `BINARY:SYMBOL[+OFFSET]` (or `BINARY:0xOFFSET`) is
// resolved to a file offset from the binary's ELF symbols (.symtab, else .dynsym for stripped
// files and shared libraries) through the PT_LOAD segment that maps the symbol, as the PMU wants.
import { accessSync, constants, existsSync, readFileSync, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileOffsetOf, readNativeElf } from '../../elf/index.js';
import { addressOf, pinnedCopy } from '../sys/libc.js';
import type { FdLike } from '../sys/fd.js';
import { perfEventAttr } from '../sys/perf.js';
import { AmbiguousSymbolError, TracingError } from './tracing-errors.js';
import { TracingLink, guarded, bindPerfEvent, openPerfEvent, type BindOptions } from './tracing.js';

const PMU_DIR = '/sys/bus/event_source/devices';

/** A dynamic PMU's type number and the config bit its `format/retprobe` names ("config:0"). */
export function probePmu(name: 'uprobe' | 'kprobe'): { type: number; retprobeBit: number } | undefined {
  const dir = `${PMU_DIR}/${name}`;
  if (!existsSync(`${dir}/type`)) return undefined;
  const type = Number(readFileSync(`${dir}/type`, 'utf8').trim());
  const format = existsSync(`${dir}/format/retprobe`) ? readFileSync(`${dir}/format/retprobe`, 'utf8').trim() : 'config:0';
  const m = /^config:(\d+)$/.exec(format);
  if (!m) throw new TracingError(`cannot read ${dir}/format/retprobe ('${format}')`);
  return { type, retprobeBit: Number(m[1]) };
}

/** Where a bare library name (libc.so.6) is looked for, after LD_LIBRARY_PATH. */
const LIBRARY_DIRS = ['/lib64', '/usr/lib64', '/lib', '/usr/lib', `/lib/${process.arch === 'x64' ? 'x86_64' : 'aarch64'}-linux-gnu`,
  `/usr/lib/${process.arch === 'x64' ? 'x86_64' : 'aarch64'}-linux-gnu`];

/** The binary a uprobe names: a path, a library name (`libc.so.6`) or a command on PATH. */
export function resolveBinary(binary: string): string {
  const candidates = binary.includes('/')
    ? [binary]
    : binary.includes('.so')
      ? [...(process.env.LD_LIBRARY_PATH ?? '').split(delimiter).filter(Boolean), ...LIBRARY_DIRS].map((d) => join(d, binary))
      : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, binary));
  for (const c of candidates) {
    try {
      accessSync(c, constants.R_OK);
      return realpathSync(c);
    } catch {
      continue;
    }
  }
  throw new TracingError(`cannot find the binary '${binary}' to probe`, {
    hint: binary.includes('/') ? 'give a path to an existing executable or shared library' : `searched: ${candidates.slice(0, 6).join(', ')}${candidates.length > 6 ? ', ...' : ''}`,
  });
}

export interface UprobeTarget {
  /** The binary's real path. */
  path: string;
  /** The symbol, when the target named one. */
  symbol?: string;
  /** The byte offset added to the symbol. */
  offset: number;
  /** The file offset the PMU is given. */
  fileOffset: number;
}

/** Parses and resolves `BINARY:SYMBOL[+OFFSET]` or `BINARY:0xFILEOFFSET`. */
export function resolveUprobe(spec: string): UprobeTarget {
  const colon = spec.lastIndexOf(':');
  if (colon <= 0 || colon === spec.length - 1) {
    throw new TracingError(`'${spec}' is not a uprobe target`, { hint: 'uprobes are BINARY:SYMBOL[+OFFSET] or BINARY:0xOFFSET, e.g. /usr/bin/bash:readline or libc.so.6:malloc' });
  }
  const path = resolveBinary(spec.slice(0, colon));
  const where = spec.slice(colon + 1);
  if (/^0x[0-9a-f]+$/i.test(where)) return { path, offset: 0, fileOffset: Number(where) };
  const m = /^([A-Za-z_.$][\w.$@]*)(?:\+(0x[0-9a-f]+|\d+))?$/i.exec(where);
  if (!m) throw new TracingError(`'${where}' is not SYMBOL[+OFFSET] or 0xOFFSET`, { hint: 'e.g. main, h_sum+4, 0x1139' });
  const symbol = m[1]!;
  const offset = m[2] === undefined ? 0 : Number(m[2]);
  const native = readNativeElf(readFileSync(path));
  const bare = symbol.replace(/@.*$/, '');
  const found = native.functions.filter((s) => s.name === bare);
  const addresses = [...new Set(found.map((s) => s.value))];
  if (addresses.length === 0) {
    const near = [...new Set(native.functions.filter((s) => s.name.includes(bare)).map((s) => s.name))].slice(0, 8);
    throw new TracingError(`${path} has no function '${bare}' in its symbol tables`, {
      hint: near.length > 0 ? `functions with similar names: ${near.join(', ')}` : native.functions.length === 0 ? 'the binary has no function symbols (stripped?): give BINARY:0xOFFSET' : 'check the name with: nm -D or readelf -s',
    });
  }
  if (addresses.length > 1) {
    const candidates = addresses.map((a) => `${bare} at 0x${a.toString(16)}`);
    throw new AmbiguousSymbolError(`'${bare}' names ${addresses.length} functions in ${path}: ${candidates.join(', ')}`, candidates, {
      hint: 'give the file offset instead: BINARY:0xOFFSET',
    });
  }
  const fileOffset = fileOffsetOf(native, addresses[0]! + offset);
  if (fileOffset === undefined) throw new TracingError(`${bare}+${offset} (0x${(addresses[0]! + offset).toString(16)}) is not in a loadable segment of ${path}`);
  return { path, symbol: bare, offset, fileOffset };
}

export interface UprobeOptions extends BindOptions {
  retprobe?: boolean;
  /** Only this process (default: every process that maps the binary). */
  pid?: number;
}

/** Attaches a kprobe-type program to a uprobe or uretprobe through the uprobe PMU. */
export function attachUprobe(prog: FdLike, spec: string, o: UprobeOptions = {}): TracingLink {
  const pmu = probePmu('uprobe');
  if (!pmu) {
    throw new TracingError('this kernel has no uprobe PMU (/sys/bus/event_source/devices/uprobe)', { hint: 'uprobes need CONFIG_UPROBE_EVENTS' });
  }
  const t = resolveUprobe(spec);
  return guarded((cleanup) => {
    const path = pinnedCopy(new TextEncoder().encode(`${t.path}\0`));
    const attr = perfEventAttr()
      .set('type', pmu.type)
      .set('config', o.retprobe ? 2 ** pmu.retprobeBit : 0)
      .set('uprobe_path', addressOf(path))
      .set('probe_offset', t.fileOffset)
      .set('sample_period', 1)
      .set('wakeup_events', 1);
    const pfd = openPerfEvent(attr, o.pid === undefined ? 0 : -1, cleanup, o.pid ?? -1);
    const bound = bindPerfEvent(prog, pfd, cleanup, o);
    const label = `${t.path}:${t.symbol ?? ''}${t.symbol ? (t.offset ? `+${t.offset}` : '') : `0x${t.fileOffset.toString(16)}`}`;
    return new TracingLink({
      kind: o.retprobe ? 'uretprobe' : 'uprobe', target: label, perfEvent: pfd, cleanup, ...bound,
      notes: [`${label} is at file offset 0x${t.fileOffset.toString(16)}`],
    });
  });
}
