// One fuzzing campaign: each iteration mutates one seed (an object, a capture, hex text or a JSON
// argument) and pushes it through every offline layer that takes untrusted input, over the built
// package (dist/). A layer may fail only with a BpfError; anything else, and any input that takes
// more than the time limit, is a failure reported with the seed and iteration that reproduce it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  BpfError, btfFromElf, disassemble, doctor, dumpC, dumpJson, dumpRaw, Emulator, fixObject, formatReport,
  formatVerifyReport, lineInfoLookup, matchSection, parseBtf, parseBtfExt, parseContextJson, parseElf, parseMapJson, readObject,
  sectionByName, summarizeObject, verify,
} from '../dist/index.js';
import {
  packet, parseHex, parseHexPackets, readCapture, readPacketsFile, readPcap, readPcapng, writePcap,
} from '../dist/testing/index.js';
import { iterationRng, layoutOf, mutateBytes, mutateHexText, mutateObject, randomJson } from './mutate.mjs';

/** Every layer, in the order an input reaches them. */
export const LAYERS = [
  'elf', 'btf', 'btf-ext', 'object', 'doctor', 'verify', 'disasm', 'btf-dump', 'fix', 'emulator', 'capture', 'hex', 'json',
];

/** Layers an object input goes through; capture, hex and json take inputs of their own. */
const OBJECT_LAYERS = new Set(LAYERS.slice(0, 10));

/** The .o files under `dirs`, smallest first, at most `maxSize` bytes each. */
export function findObjects(dirs, maxSize) {
  const out = [];
  const walk = (dir) => {
    let names;
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      const path = join(dir, name);
      const st = statSync(path);
      if (st.isDirectory()) walk(path);
      else if (name.endsWith('.o') && st.size <= maxSize) out.push({ path, size: st.size });
    }
  };
  for (const d of dirs) walk(d);
  return out.map(({ path }) => ({ path, bytes: new Uint8Array(readFileSync(path)) }));
}

function pcapng(frames) {
  const blocks = [];
  const block = (type, body) => {
    const len = 12 + body.length + ((4 - (body.length % 4)) % 4);
    const b = new Uint8Array(len);
    const v = new DataView(b.buffer);
    v.setUint32(0, type, true);
    v.setUint32(4, len, true);
    b.set(body, 8);
    v.setUint32(len - 4, len, true);
    blocks.push(b);
  };
  const shb = new Uint8Array(16);
  new DataView(shb.buffer).setUint32(0, 0x1a2b3c4d, true);
  new DataView(shb.buffer).setUint16(4, 1, true);
  new DataView(shb.buffer).setBigInt64(8, -1n, true);
  block(0x0a0d0d0a, shb);
  const idb = new Uint8Array(8);
  new DataView(idb.buffer).setUint16(0, 1, true);
  new DataView(idb.buffer).setUint32(4, 65535, true);
  block(1, idb);
  frames.forEach((f, i) => {
    const epb = new Uint8Array(20 + f.length);
    const v = new DataView(epb.buffer);
    v.setUint32(8, i * 1000, true);
    v.setUint32(12, f.length, true);
    v.setUint32(16, f.length, true);
    epb.set(f, 20);
    block(6, epb);
  });
  return Uint8Array.from(blocks.flatMap((b) => [...b]));
}

function sampleFrames() {
  return [
    packet().eth().ipv4({ dst: '10.0.0.2' }).tcp({ dport: 80, flags: 'S' }).build(),
    packet().eth().ipv6().udp({ dport: 53 }).payload(new Uint8Array(12)).build(),
    packet().eth().arp().build(),
  ];
}

/** Whether `e` is a typed error, the only kind a layer may throw. */
const typed = (e) => e instanceof BpfError;

/**
 * Runs `fn`, counting the layer as reached; returns its value, or undefined when it failed with a
 * typed error. A non-typed error propagates with the layer's name.
 */
function layer(stats, name, fn) {
  stats.reached[name]++;
  const start = performance.now();
  try {
    const v = fn();
    stats.passed[name]++;
    return v;
  } catch (e) {
    if (typed(e)) return undefined;
    throw Object.assign(new Error(`${name}: ${e?.stack ?? e}`), { layer: name, original: e });
  } finally {
    stats.spent[name] = (stats.spent[name] ?? 0) + performance.now() - start;
  }
}

/**
 * The offline verifier walks 10^5 to 10^6 instructions a second, so the kernel's limit of 10^6 per
 * program (which test/verify checks) would make a mutated loop a 10 s input, and an object of 19
 * programs gets 19 of them; the campaign stops each program's walk sooner.
 */
const VERIFY_LIMIT = 5_000;

const FIX_OPTIONS = [
  {},
  { fixupDatasecs: false },
  { sanitizeFor: '5.4' },
  { sanitizeFor: '4.18' },
  { stripEhFrame: true },
];

/** The program type an entry program runs as: its section's, or sched_cls when that is not runnable. */
function runType(section) {
  const t = matchSection(section, { libbpf: 'upstream' })?.progType;
  return t === 1 || t === 3 || t === 4 || t === 6 || t === 8 ? undefined : 'sched_cls';
}

function objectLayers(stats, bytes, r, want) {
  const on = (name) => want === undefined || want === name;
  const elf = layer(stats, 'elf', () => parseElf(bytes));
  if (elf === undefined) return;
  let btf;
  if (on('btf') || on('btf-ext') || on('btf-dump')) {
    const data = sectionByName(elf, '.BTF')?.data;
    if (data) btf = layer(stats, 'btf', () => parseBtf(data));
    const ext = sectionByName(elf, '.BTF.ext')?.data;
    if (btf && ext && on('btf-ext')) layer(stats, 'btf-ext', () => parseBtfExt(ext, btf));
  }
  if (on('disasm')) {
    layer(stats, 'disasm', () => disassemble(elf));
    if (sectionByName(elf, '.BTF.ext')) {
      const ext = layer(stats, 'disasm', () => btfFromElf(bytes).ext);
      if (ext) layer(stats, 'disasm', () => disassemble(elf, { lineInfo: lineInfoLookup(ext.lineInfo) }));
    }
  }
  if (btf && on('btf-dump')) {
    layer(stats, 'btf-dump', () => {
      dumpRaw(btf);
      dumpJson(btf);
      dumpC(btf);
    });
  }
  if (on('fix')) {
    const options = r.pick(FIX_OPTIONS);
    const first = elf.sections.find((s) => s.name && s.name !== '.text' && (Number(s.flags) & 4));
    const renames = first && r.chance(0.3) ? [{ from: first.name, to: r.pick(['tc', 'xdp', 'classifier/x', 'socket']) }] : [];
    const fixed = layer(stats, 'fix', () => fixObject(bytes, { ...options, renames }));
    // What fix writes is an object the other layers must read back.
    if (fixed?.changed) layer(stats, 'fix', () => summarizeObject(readObject(fixed.bytes)));
  }
  const needsObject = ['object', 'doctor', 'verify', 'emulator'].some(on);
  if (!needsObject) return;
  const obj = layer(stats, 'object', () => {
    const o = readObject(bytes);
    summarizeObject(o);
    return o;
  });
  if (obj === undefined) return;
  if (on('doctor')) layer(stats, 'doctor', () => formatReport(doctor(obj)));
  if (on('verify')) layer(stats, 'verify', () => formatVerifyReport(verify(obj, { limit: VERIFY_LIMIT })));
  if (on('emulator')) {
    const frames = sampleFrames();
    for (const p of obj.programs.filter((x) => x.kind === 'entry')) {
      const type = runType(p.section);
      const emu = layer(stats, 'emulator', () => Emulator.fromObject(obj, { program: p.name, ...(type ? { type } : {}) }));
      if (emu === undefined) continue;
      // --ctx goes through its JSON reader, as the CLI takes it.
      const ctx = r.chance(0.2) ? layer(stats, 'json', () => parseContextJson(JSON.stringify(randomJson(r)))) : undefined;
      layer(stats, 'emulator', () => emu.run(r.pick(frames), ctx));
      if (obj.maps.length && r.chance(0.3)) {
        const m = r.pick(obj.maps);
        if (emu.maps.has(m.name)) {
          layer(stats, 'json', () => {
            const spec = { name: m.name, keySize: m.keySize, valueSize: m.valueSize, btf: obj.btf, keyTypeId: m.keyTypeId, valueTypeId: m.valueTypeId };
            for (const [k, v] of parseMapJson(JSON.stringify(randomJson(r)), spec)) emu.maps.get(m.name).update(k, v);
          });
        }
      }
    }
  }
}

function captureLayers(stats, r, seeds) {
  const frames = sampleFrames();
  const choice = r.int(3);
  if (choice === 0) {
    const bytes = mutateBytes(r, r.pick(seeds.captures));
    layer(stats, 'capture', () => readPcap(bytes));
    layer(stats, 'capture', () => readPcapng(bytes));
    layer(stats, 'capture', () => readCapture(bytes));
    layer(stats, 'capture', () => readPacketsFile(bytes));
  } else if (choice === 1) {
    const clean = new TextEncoder().encode(frames.map((f) => Buffer.from(f).toString('hex')).join(r.pick(['\n', ' ', ':', '\r\n'])));
    // Half the time only hex digits and separators change, so that the readers' accepting paths run too.
    const text = r.chance(0.5) ? mutateBytes(r, clean) : mutateHexText(r, clean);
    const s = Buffer.from(text).toString('latin1');
    layer(stats, 'hex', () => parseHex(s));
    layer(stats, 'hex', () => parseHexPackets(s));
    layer(stats, 'hex', () => readPacketsFile(text));
  } else {
    const text = r.chance(0.5) ? JSON.stringify(randomJson(r)) : Buffer.from(mutateBytes(r, Buffer.from(JSON.stringify(randomJson(r))))).toString('latin1');
    const keySize = r.pick([0, 1, 2, 4, 8, 16]);
    const valueSize = r.pick([1, 4, 8, 12, 64]);
    layer(stats, 'json', () => parseMapJson(text, { name: 'm', keySize, valueSize }));
  }
}

/**
 * The inputs every iteration starts from. Objects whose unmutated pass through every layer takes
 * more than `calibrateMs` are left out (and listed in `slow`): they are slow by size (the offline
 * verifier over many programs), and a mutation of them would be over the time limit for that
 * reason alone, hiding the inputs that are slow because a layer loops or explodes.
 */
export function prepareSeeds(objects, calibrateMs = Infinity) {
  const frames = sampleFrames();
  const kept = [];
  const slow = [];
  for (const o of objects) {
    const start = performance.now();
    try {
      objectLayers(emptyStats(), o.bytes, iterationRng(0, 0), undefined);
    } catch {
      // A seed that fails untyped stays in: the campaign reports it on its first draw.
    }
    const ms = performance.now() - start;
    if (ms > calibrateMs) slow.push({ path: o.path, ms });
    else kept.push({ ...o, layout: layoutOf(o.bytes) });
  }
  return { objects: kept, slow, captures: [writePcap(frames), pcapng(frames)] };
}

export function emptyStats() {
  return {
    iterations: 0,
    reached: Object.fromEntries(LAYERS.map((l) => [l, 0])),
    passed: Object.fromEntries(LAYERS.map((l) => [l, 0])),
    objectInputs: 0,
    failures: [],
    slowest: { ms: 0, iteration: -1 },
  };
}

/**
 * Runs iteration `i` of the campaign with `seed`; returns the failure, or undefined. `want` limits
 * the run to one layer (and the layers it needs).
 */
export function runIteration(stats, seeds, seed, i, { want, timeLimitMs = 1000 } = {}) {
  const r = iterationRng(seed, i);
  // The draw is made with --layer too, so that an iteration mutates the same input either way.
  const objectDraw = r.chance(0.9);
  const objectInput = want === undefined ? objectDraw : OBJECT_LAYERS.has(want);
  const start = performance.now();
  stats.spent = {};
  let failure;
  let what;
  try {
    if (objectInput) {
      stats.objectInputs++;
      const s = r.pick(seeds.objects);
      const { bytes, edits } = mutateObject(r, s.bytes, s.layout);
      what = `${s.path} ${edits.join(' ')}`;
      stats.lastInput = bytes;
      objectLayers(stats, bytes, r, want);
    } else {
      what = 'capture/hex/json input';
      captureLayers(stats, r, seeds);
    }
  } catch (e) {
    failure = { seed, iteration: i, input: what, layer: e.layer ?? '?', error: String(e.original?.stack ?? e.stack ?? e) };
  }
  const ms = performance.now() - start;
  stats.iterations++;
  if (ms > stats.slowest.ms) stats.slowest = { ms, iteration: i, input: what };
  if (failure === undefined && ms > timeLimitMs) {
    failure = { seed, iteration: i, input: what, layer: 'time', error: `took ${ms.toFixed(0)} ms (limit ${timeLimitMs} ms): ${Object.entries(stats.spent).map(([l, t]) => `${l} ${t.toFixed(0)} ms`).join(', ')}` };
  }
  if (failure) stats.failures.push(failure);
  return failure;
}

/** The figures of a campaign as lines of text. */
export function formatStats(stats, seconds) {
  const lines = [`${stats.iterations} iterations in ${seconds.toFixed(1)} s, ${stats.failures.length} failures, slowest input ${stats.slowest.ms.toFixed(0)} ms (iteration ${stats.slowest.iteration})`];
  const objects = Math.max(1, stats.objectInputs);
  lines.push(`object inputs: ${stats.objectInputs}; reaching the program model: ${stats.reached.object} (${((100 * stats.reached.object) / objects).toFixed(1)}%), read by it: ${stats.passed.object} (${((100 * stats.passed.object) / objects).toFixed(1)}%)`);
  lines.push('layer       reached    passed');
  for (const l of LAYERS) lines.push(`${l.padEnd(10)} ${String(stats.reached[l]).padStart(8)}  ${String(stats.passed[l]).padStart(8)}`);
  return lines;
}
