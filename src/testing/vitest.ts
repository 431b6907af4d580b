// bpfts/testing/vitest: matchers for runs of the emulator, registered with expect.extend when this
// module is imported. A failure shows the verdict, the C line of the exit that ended the run and the
// frame after it (its layers and its bytes). Only this entry point imports vitest; bpfts and
// bpfts/testing never do.
//
// Under bpfts/testing/vitest-coverage (BPFTS_COVERAGE set) it also collects the coverage of every
// emulator a test file creates and leaves it, after the file, for the global teardown to merge.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { TC_ACT_NAMES, TC_ACT_OK, TC_ACT_REDIRECT, TC_ACT_SHOT, XDP_ACTION_NAMES, XDP_DROP, XDP_PASS, XDP_REDIRECT } from '../uapi/index.js';
import { COVERAGE_COLLECTOR, mergeCoverage, parseMapJson, type CoverageCollector, type Emulator, type RunOutput } from '../vm/index.js';
import { COVERAGE_PARTS } from './coverage-files.js';
import { formatHex, parseHex } from './hex.js';
import type { ParsedLayer } from './packet/layers.js';
import { parsePacket } from './packet/parse.js';

/** Expected header fields of the output frame, by layer kind: `{ ipv4: { dst: '10.0.0.9' }, tcp: { dport: 8080 } }`. */
export type LayerExpectation = { [K in ParsedLayer['kind']]?: Partial<Omit<Extract<ParsedLayer, { kind: K }>, 'kind'>> };

/** A key or value as `bpfts run --map` takes it: a number, a hex string, bytes, or an object by BTF member name. */
export type MapDatum = number | string | number[] | Uint8Array | Record<string, unknown>;

export interface BpfMatchers<R = unknown> {
  /** The verdict drops the packet: TC_ACT_SHOT, XDP_DROP, 0 for a socket filter, bit 0 clear for cgroup_skb. */
  toDrop(): R;
  /** The verdict lets the packet on: TC_ACT_OK, XDP_PASS, non-zero for a socket filter, bit 0 set for cgroup_skb. */
  toPass(): R;
  /** TC_ACT_REDIRECT or XDP_REDIRECT, through bpf_redirect() to `ifindex`. */
  toRedirectTo(ifindex: number): R;
  /** The output frame's parsed layers have these field values. */
  toHaveRewritten(fields: LayerExpectation): R;
  /** Every IPv4 header and TCP/UDP/ICMP checksum of the output frame that can be checked is right. */
  toHaveValidChecksums(): R;
  /** The run submitted records to ring buffer or perf event array `map`: this many, or exactly these (bytes or hex). */
  toHaveEmitted(map: string, records?: number | (Uint8Array | string)[]): R;
  /** On an Emulator: map `map` holds `key` (with `value` when given), both encoded through the map's BTF as `--map` does. */
  toHaveMapEntry(map: string, key: MapDatum, value?: MapDatum): R;
}

declare module 'vitest' {
  interface Assertion<T = any> extends BpfMatchers<T> {
    /**
     * On a RunOutput: the return value, by number or by name (`'XDP_TX'`, `'TC_ACT_PIPE'`). On a mock
     * function, without an argument, vitest's own: it returned at least once.
     */
    toReturn: (code?: number | string) => void;
  }
  interface AsymmetricMatchersContaining extends BpfMatchers {}
}

interface Result {
  pass: boolean;
  message: () => string;
}

function isRun(x: unknown): x is RunOutput {
  return typeof x === 'object' && x !== null && 'retval' in x && 'packet' in x && 'kind' in x;
}

function verdictOf(r: RunOutput): string {
  switch (r.kind) {
    case 'tc': return `${TC_ACT_NAMES[r.retval | 0] ?? 'unknown tc action'} (${r.retval | 0})`;
    case 'xdp': return `${XDP_ACTION_NAMES[r.retval] ?? 'unknown XDP action'} (${r.retval})`;
    case 'socket': return r.retval === 0 ? 'drop (0)' : `keep ${r.retval} bytes`;
    case 'cgroup': return `${r.retval & 1 ? 'allow' : 'drop'} (${r.retval})`;
  }
}

function layerSummary(l: ParsedLayer): string {
  switch (l.kind) {
    case 'eth': return `eth ${l.src} > ${l.dst} type 0x${l.type.toString(16).padStart(4, '0')}`;
    case 'vlan': return `vlan ${l.vid}`;
    case 'arp': return `arp ${typeof l.op === 'number' ? `op ${l.op}` : l.op} ${l.spa} > ${l.tpa}`;
    case 'ipv4': return `ipv4 ${l.src} > ${l.dst} proto ${l.protocol} ttl ${l.ttl}${l.checksumValid ? '' : ' (bad header checksum)'}`;
    case 'ipv6': return `ipv6 ${l.src} > ${l.dst}`;
    case 'tcp': return `tcp ${l.sport} > ${l.dport}${l.checksumValid === false ? ' (bad checksum)' : ''}`;
    case 'udp': return `udp ${l.sport} > ${l.dport}${l.checksumValid === false ? ' (bad checksum)' : ''}`;
    case 'icmp':
    case 'icmpv6': return `${l.kind} type ${l.type} code ${l.code}${l.checksumValid === false ? ' (bad checksum)' : ''}`;
    case 'payload': return `payload ${l.bytes.length} bytes`;
  }
}

function layersOf(r: RunOutput): ParsedLayer[] {
  return parsePacket(r.packet).layers;
}

/** The verdict, the exit's C line and the frame, for every failure message. */
function describeRun(r: RunOutput): string {
  const layers = layersOf(r).map(layerSummary).join(' | ');
  return [
    `  verdict: ${verdictOf(r)}`,
    `  exit:    ${r.exitLine ?? '(no BTF line_info)'}`,
    ...(r.decisionLine !== undefined ? [`  decided: ${r.decisionLine}`] : []),
    `  frame:   ${layers}`,
    `           ${formatHex(r.packet)} (${r.packet.length} bytes)`,
  ].join('\n');
}

function notRun(name: string, received: unknown): Result {
  return { pass: false, message: () => `${name} expects the RunOutput of emu.run(), got ${typeof received === 'object' ? String(received?.constructor?.name) : typeof received}` };
}

function verdictResult(isNot: boolean, r: RunOutput, pass: boolean, wanted: string): Result {
  return { pass, message: () => `expected the run ${isNot ? 'not ' : ''}to ${wanted}\n${describeRun(r)}` };
}

const DROP: Record<RunOutput['kind'], (retval: number) => boolean> = {
  tc: (v) => (v | 0) === TC_ACT_SHOT,
  xdp: (v) => v === XDP_DROP,
  socket: (v) => v === 0,
  cgroup: (v) => (v & 1) === 0,
};
const PASS: Record<RunOutput['kind'], (retval: number) => boolean> = {
  tc: (v) => (v | 0) === TC_ACT_OK,
  xdp: (v) => v === XDP_PASS,
  socket: (v) => v !== 0,
  cgroup: (v) => (v & 1) === 1,
};

function codeByName(kind: RunOutput['kind'], name: string): number | undefined {
  const table = kind === 'tc' ? TC_ACT_NAMES : kind === 'xdp' ? XDP_ACTION_NAMES : {};
  for (const [code, n] of Object.entries(table)) if (n === name) return Number(code);
  return undefined;
}

const same = (a: unknown, b: unknown): boolean =>
  a instanceof Uint8Array && b instanceof Uint8Array ? formatHex(a) === formatHex(b) : a === b;

const show = (v: unknown): string => (v instanceof Uint8Array ? formatHex(v) : JSON.stringify(v));

function recordBytes(x: Uint8Array | string): Uint8Array {
  return typeof x === 'string' ? parseHex(x) : x;
}

export const bpfMatchers = {
  toDrop(this: { isNot: boolean }, received: unknown): Result {
    if (!isRun(received)) return notRun('toDrop()', received);
    return verdictResult(this.isNot, received, DROP[received.kind](received.retval), 'drop the packet');
  },

  toPass(this: { isNot: boolean }, received: unknown): Result {
    if (!isRun(received)) return notRun('toPass()', received);
    return verdictResult(this.isNot, received, PASS[received.kind](received.retval), 'pass the packet');
  },

  toRedirectTo(this: { isNot: boolean }, received: unknown, ifindex: number): Result {
    if (!isRun(received)) return notRun('toRedirectTo()', received);
    const action = received.kind === 'tc' ? TC_ACT_REDIRECT : received.kind === 'xdp' ? XDP_REDIRECT : undefined;
    const pass = action !== undefined && (received.retval | 0) === action && received.redirect?.ifindex === ifindex;
    const target = received.redirect ? `; bpf_redirect() went to ifindex ${received.redirect.ifindex}${received.redirect.ingress ? ' (ingress)' : ''}` : '; no bpf_redirect()';
    return {
      pass,
      message: () => `expected the run ${this.isNot ? 'not ' : ''}to redirect to ifindex ${ifindex}${target}\n${describeRun(received)}`,
    };
  },

  toReturn(this: { isNot: boolean }, received: unknown, code?: number | string): Result {
    if (code === undefined && typeof received === 'function' && 'mock' in received) {
      // This matcher takes the name of vitest's alias of toHaveReturned(), which mocks keep.
      const results = (received as { mock: { results: { type: string }[] } }).mock.results;
      return { pass: results.some((r) => r.type === 'return'), message: () => `expected the mock ${this.isNot ? 'not ' : ''}to have returned` };
    }
    if (!isRun(received)) return notRun('toReturn()', received);
    if (code === undefined) return { pass: false, message: () => 'toReturn() on a run wants the return code, e.g. toReturn(\'XDP_TX\') or toReturn(3)' };
    const wanted = typeof code === 'number' ? code : codeByName(received.kind, code);
    if (wanted === undefined) {
      return { pass: false, message: () => `toReturn('${code}'): no such return code for a ${received.kind} program` };
    }
    const pass = (received.retval | 0) === (wanted | 0);
    return verdictResult(this.isNot, received, pass, `return ${typeof code === 'string' ? `${code} (${wanted})` : code}`);
  },

  toHaveRewritten(this: { isNot: boolean }, received: unknown, fields: LayerExpectation): Result {
    if (!isRun(received)) return notRun('toHaveRewritten()', received);
    const layers = layersOf(received);
    const wrong: string[] = [];
    for (const [kind, want] of Object.entries(fields) as [string, Record<string, unknown>][]) {
      const layer = layers.find((l) => l.kind === kind) as Record<string, unknown> | undefined;
      if (layer === undefined) {
        wrong.push(`${kind}: no such layer in the frame`);
        continue;
      }
      for (const [field, value] of Object.entries(want)) {
        if (!same(layer[field], value)) wrong.push(`${kind}.${field}: expected ${show(value)}, got ${show(layer[field])}`);
      }
    }
    return {
      pass: wrong.length === 0,
      message: () => this.isNot
        ? `expected the frame not to have ${JSON.stringify(fields)}\n${describeRun(received)}`
        : `expected the frame to have ${JSON.stringify(fields)}:\n${wrong.map((w) => `  ${w}`).join('\n')}\n${describeRun(received)}`,
    };
  },

  toHaveValidChecksums(this: { isNot: boolean }, received: unknown): Result {
    if (!isRun(received)) return notRun('toHaveValidChecksums()', received);
    const bad = layersOf(received).filter((l) => 'checksumValid' in l && l.checksumValid === false)
      .map((l) => `${l.kind} checksum 0x${(l as { checksum: number }).checksum.toString(16).padStart(4, '0')} is wrong`);
    return {
      pass: bad.length === 0,
      message: () => `expected the frame ${this.isNot ? 'to have a wrong checksum' : 'to have valid checksums'}${bad.length ? `:\n${bad.map((b) => `  ${b}`).join('\n')}` : ''}\n${describeRun(received)}`,
    };
  },

  toHaveEmitted(this: { isNot: boolean }, received: unknown, map: string, records?: number | (Uint8Array | string)[]): Result {
    if (!isRun(received)) return notRun('toHaveEmitted()', received);
    const got = received.ringbuf[map] ?? received.perf[map]?.map((p) => p.data);
    if (got === undefined) {
      const known = [...Object.keys(received.ringbuf), ...Object.keys(received.perf)];
      return { pass: false, message: () => `toHaveEmitted(): no ring buffer or perf event array '${map}' (there are: ${known.join(', ') || 'none'})` };
    }
    let pass: boolean;
    let wanted: string;
    if (records === undefined) {
      pass = got.length > 0;
      wanted = 'records';
    } else if (typeof records === 'number') {
      pass = got.length === records;
      wanted = `${records} record(s)`;
    } else {
      const want = records.map((r) => formatHex(recordBytes(r)));
      pass = want.length === got.length && want.every((w, i) => w === formatHex(got[i]!));
      wanted = `records [${want.join(', ')}]`;
    }
    return {
      pass,
      message: () => `expected ${map} ${this.isNot ? 'not ' : ''}to receive ${wanted}; it received ${got.length ? `[${got.map((g) => formatHex(g)).join(', ')}]` : 'none'}\n${describeRun(received)}`,
    };
  },

  toHaveMapEntry(this: { isNot: boolean }, received: unknown, map: string, key: MapDatum, value?: MapDatum): Result {
    const emu = received as Emulator;
    if (typeof emu?.maps?.get !== 'function' || emu.object === undefined) {
      return { pass: false, message: () => 'toHaveMapEntry() expects an Emulator' };
    }
    const def = emu.object.maps.find((m) => m.name === map);
    const m = emu.maps.get(map);
    const spec = def
      ? { name: map, keySize: m.keySize, valueSize: m.valueSize, btf: emu.object.btf, keyTypeId: def.keyTypeId, valueTypeId: def.valueTypeId }
      : { name: map, keySize: m.keySize, valueSize: m.valueSize };
    const bytes = (d: MapDatum) => (d instanceof Uint8Array ? Array.from(d) : d);
    const [[k, v]] = parseMapJson(JSON.stringify([[bytes(key), value === undefined ? 0 : bytes(value)]]), spec) as [[Uint8Array, Uint8Array]];
    const found = m.lookup(k);
    const valueMatches = found !== undefined && (value === undefined || formatHex(found.subarray(0, v.length)) === formatHex(v));
    const entries = m.entries();
    const listing = entries.slice(0, 16).map(([ek, ev]) => `  ${formatHex(ek)} = ${formatHex(ev)}`).join('\n') +
      (entries.length > 16 ? `\n  ... ${entries.length - 16} more` : '');
    return {
      pass: valueMatches,
      message: () => `expected map ${map} ${this.isNot ? 'not ' : ''}to hold ${formatHex(k)}${value === undefined ? '' : ` = ${formatHex(v)}`}; ` +
        `${found === undefined ? 'the key is absent' : `it holds ${formatHex(found)}`}. Entries (${entries.length}):\n${listing || '  (none)'}`,
    };
  },
};

expect.extend(bpfMatchers);

const coverageDir = process.env.BPFTS_COVERAGE;
if (coverageDir) {
  const emulators: Emulator[] = [];
  const collector: CoverageCollector = { add: (emu) => emulators.push(emu) };
  (globalThis as { [COVERAGE_COLLECTOR]?: CoverageCollector })[COVERAGE_COLLECTOR] = collector;
  afterAll(() => {
    if (emulators.length === 0) return;
    const parts = join(coverageDir, COVERAGE_PARTS);
    mkdirSync(parts, { recursive: true });
    const report = mergeCoverage(...emulators.splice(0).map((e) => e.coverage()));
    writeFileSync(join(parts, `${process.pid}-${randomBytes(6).toString('hex')}.json`), JSON.stringify(report));
  });
}
