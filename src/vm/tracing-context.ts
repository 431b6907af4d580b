// Contexts of tracing programs, laid out as the kernel hands them over and read under the kernel's
// rules for each program type (kernel/trace/bpf_trace.c *_prog_is_valid_access, kernel/bpf/btf.c
// btf_ctx_access): kprobe `struct pt_regs`, tracepoint records laid out from the tracepoint's
// tracefs format, raw tracepoint and tp_btf `u64 args[]`, fentry/fexit arguments (fexit's return
// value after them) and perf_event `struct bpf_perf_event_data`. The kernel rejects at load time
// what these rules refuse; the emulator, which has no verifier in front of it, faults at the access.
import {
  bpfPerfEventData,
  MAX_BPF_FUNC_ARGS,
  PT_REGS_LAYOUTS,
  type PtRegsArch,
  type PtRegsLayout,
} from '../uapi/index.js';
import type { Memory } from './memory.js';
import { EmulatorError } from './object.js';
import type { ContextAccess, Vm } from './vm.js';

/** A context value: a number, `"@object"` / `"@object+OFFSET"` (an object's address), or a decimal or 0x-hex string. */
export type CtxValue = number | bigint | string;

/** One field of a tracepoint record, as a tracefs `format` file lists it. */
export interface TracepointField {
  name: string;
  /** The C declaration's type, e.g. `void *`, `unsigned int`, `char[16]`; `__data_loc char[]` for dynamic strings. */
  type: string;
  offset: number;
  size: number;
  signed: boolean;
}

export interface TracepointFormat {
  name?: string;
  id?: number;
  fields: TracepointField[];
}

export type TracingCtxSpec =
  | { kind: 'pt_regs'; arch?: PtRegsArch; regs?: Record<string, CtxValue> }
  | { kind: 'raw_tp' | 'tp_btf' | 'fentry'; args?: readonly CtxValue[] }
  | { kind: 'fexit'; args?: readonly CtxValue[]; ret?: CtxValue }
  | { kind: 'tracepoint'; format?: string | TracepointFormat | TracepointField[]; fields?: Record<string, CtxValue> }
  | { kind: 'perf_event'; arch?: PtRegsArch; regs?: Record<string, CtxValue>; sample_period?: CtxValue; addr?: CtxValue };

export type TracingCtxKind = TracingCtxSpec['kind'];

/** What a program type's context is called in the memory file's `"ctx"`. */
export type TracingProgKind = 'kprobe' | 'tracepoint' | 'raw_tp' | 'tp_btf' | 'fentry' | 'fexit' | 'perf_event';

const CTX_KIND_OF: Record<TracingProgKind, TracingCtxKind> = {
  kprobe: 'pt_regs', tracepoint: 'tracepoint', raw_tp: 'raw_tp', tp_btf: 'tp_btf', fentry: 'fentry', fexit: 'fexit', perf_event: 'perf_event',
};

export function ctxKindFor(kind: TracingProgKind): TracingCtxKind {
  return CTX_KIND_OF[kind];
}

/** Resolves a context value to its 64-bit number. */
export type ValueResolver = (v: unknown, where: string) => bigint;

/** A laid-out context: its bytes and the check every load from it passes. */
export interface TracingCtxImage {
  bytes: Uint8Array;
  /** What the context is, for fault messages. */
  what: string;
  /** Why a load of `size` bytes at `offset` is refused, or undefined when the kernel allows it. */
  check(offset: number, size: number): string | undefined;
}

function layoutFor(arch: PtRegsArch | undefined): PtRegsLayout {
  const a = arch ?? (process.arch === 'arm64' ? 'arm64' : 'x86_64');
  const layout = PT_REGS_LAYOUTS[a];
  if (layout === undefined) throw new EmulatorError(`ctx: unknown architecture '${String(arch)}'`, { hint: 'x86_64 or arm64' });
  return layout;
}

/**
 * The byte offset of register `name` in `layout`: the kernel's member name (`di`, `x0`), the
 * x86_64 user-space spelling (`rdi`, `rax`, `rip`, `eflags`), or a bpf_tracing.h convention
 * (`parm1`..`parmN`, `rc`, `sp`, `fp`, `ip`).
 */
export function registerOffset(layout: PtRegsLayout, name: string): number | undefined {
  const lower = name.toLowerCase();
  const parm = /^parm(\d+)$/.exec(lower);
  let reg = lower;
  if (parm) reg = layout.parm[Number(parm[1]) - 1] ?? '';
  else if (lower === 'rc' || lower === 'ret') reg = layout.rc;
  else if (lower === 'fp') reg = layout.fp;
  else if (lower === 'ip') reg = layout.ip;
  else if (layout.arch === 'x86_64') {
    const alias: Record<string, string> = { eflags: 'flags', orig_rax: 'orig_ax' };
    reg = alias[lower] ?? (/^r(ax|bx|cx|dx|si|di|bp|sp|ip)$/.test(lower) ? lower.slice(1) : lower);
  } else if (/^regs\[(\d+)\]$/.test(lower)) reg = `x${/\d+/.exec(lower)![0]}`;
  return layout.regs[reg];
}

function put64(bytes: Uint8Array, offset: number, v: bigint): void {
  new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(offset, BigInt.asUintN(64, v), true);
}

function putInt(bytes: Uint8Array, offset: number, size: number, v: bigint, where: string): void {
  const bits = BigInt(size * 8);
  if (size < 8 && (v >= 1n << bits || v < -(1n << (bits - 1n)))) throw new EmulatorError(`ctx: ${where} = ${v} does not fit in ${size} bytes`);
  let u = BigInt.asUintN(size * 8, v);
  for (let i = 0; i < size; i++, u >>= 8n) bytes[offset + i] = Number(u & 0xffn);
}

function ptRegs(layout: PtRegsLayout, size: number, regs: Record<string, CtxValue> | undefined, resolve: ValueResolver): Uint8Array {
  const bytes = new Uint8Array(size);
  for (const [name, v] of Object.entries(regs ?? {})) {
    const off = registerOffset(layout, name);
    if (off === undefined || off + 8 > size) {
      throw new EmulatorError(`ctx: ${layout.arch} struct pt_regs has no register '${name}'`, {
        hint: `registers: ${Object.keys(layout.regs).join(', ')}, or parm1..parm${layout.parm.length}, rc, sp, fp, ip`,
      });
    }
    put64(bytes, off, resolve(v, `regs.${name}`));
  }
  return bytes;
}

const misaligned = (offset: number, size: number) => (offset % size !== 0 ? `offset ${offset} is not a multiple of the access size` : undefined);

/** kprobe_prog_is_valid_access: any aligned read inside struct pt_regs. */
function kprobeCtx(spec: { arch?: PtRegsArch; regs?: Record<string, CtxValue> }, resolve: ValueResolver): TracingCtxImage {
  const layout = layoutFor(spec.arch);
  return {
    bytes: ptRegs(layout, layout.size, spec.regs, resolve),
    what: `struct pt_regs (${layout.arch}, ${layout.size} bytes)`,
    check: (off, size) => (off < 0 || off + size > layout.size ? `outside the ${layout.size} bytes of struct pt_regs` : misaligned(off, size)),
  };
}

/** pe_prog_is_valid_access: regs read as whole registers, sample_period and addr also narrower. */
function perfEventCtx(spec: Extract<TracingCtxSpec, { kind: 'perf_event' }>, resolve: ValueResolver): TracingCtxImage {
  const layout = layoutFor(spec.arch);
  const data = bpfPerfEventData(layout);
  const bytes = new Uint8Array(data.size);
  bytes.set(ptRegs(layout, layout.userRegsSize, spec.regs, resolve));
  if (spec.sample_period !== undefined) put64(bytes, data.sample_period, resolve(spec.sample_period, 'sample_period'));
  if (spec.addr !== undefined) put64(bytes, data.addr, resolve(spec.addr, 'addr'));
  return {
    bytes,
    what: `struct bpf_perf_event_data (${layout.arch}, ${data.size} bytes)`,
    check: (off, size) => {
      if (off < 0 || off + size > data.size) return `outside the ${data.size} bytes of struct bpf_perf_event_data`;
      const bad = misaligned(off, size);
      if (bad) return bad;
      if (off < data.sample_period && size !== 8) return 'registers are read 8 bytes at a time';
      return undefined;
    },
  };
}

/**
 * raw_tp_prog_is_valid_access / btf_ctx_access: u64 slots; reading a slot the attach point does not
 * pass (the kernel checks max_ctx_offset against the tracepoint's arguments when it attaches, or
 * against ctx_size_in in BPF_PROG_TEST_RUN) is refused.
 */
function argsCtx(kind: 'raw_tp' | 'tp_btf' | 'fentry' | 'fexit', args: readonly CtxValue[], ret: CtxValue | undefined, resolve: ValueResolver, nargs?: number): TracingCtxImage {
  if (args.length > MAX_BPF_FUNC_ARGS) throw new EmulatorError(`ctx: ${args.length} arguments given; the kernel passes at most ${MAX_BPF_FUNC_ARGS}`);
  const n = Math.max(nargs ?? args.length, args.length);
  const slots = n + (kind === 'fexit' ? 1 : 0);
  const bytes = new Uint8Array(slots * 8);
  args.forEach((v, i) => put64(bytes, i * 8, resolve(v, `args[${i}]`)));
  if (kind === 'fexit' && ret !== undefined) put64(bytes, n * 8, resolve(ret, 'ret'));
  const btfCtx = kind !== 'raw_tp';
  return {
    bytes,
    what: kind === 'fexit' ? `fexit arguments (${n} and the return value)` : `${kind} arguments (${n})`,
    check: (off, size) => {
      if (off < 0 || off >= 8 * MAX_BPF_FUNC_ARGS) return `outside the ${MAX_BPF_FUNC_ARGS} u64 argument slots`;
      if (btfCtx && off % 8 !== 0) return `offset ${off} is not a multiple of 8`;
      const bad = misaligned(off, size);
      if (bad) return bad;
      if (off + size > slots * 8) {
        return kind === 'fexit' ? `the function has ${n} arguments, so slot ${Math.floor(off / 8)} is past its return value` : `reads args[${Math.floor(off / 8)}], but only ${n} arguments are passed`;
      }
      return undefined;
    },
  };
}

/** Parse a tracefs `events/CATEGORY/NAME/format` file. */
export function parseTracepointFormat(text: string): TracepointFormat {
  const out: TracepointFormat = { fields: [] };
  for (const line of text.split('\n')) {
    const name = /^name:\s*(\S+)/.exec(line);
    if (name) out.name = name[1]!;
    const id = /^ID:\s*(\d+)/.exec(line);
    if (id) out.id = Number(id[1]);
    const f = /^\s*field:(.*);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d+);/.exec(line);
    if (!f) continue;
    const decl = f[1]!.trim();
    const m = /^(.*?)\s*\b([A-Za-z_]\w*)\s*(\[[^\]]*\])?$/.exec(decl);
    if (!m) throw new EmulatorError(`tracepoint format: cannot read the field declaration '${decl}'`);
    const array = m[3] ?? '';
    out.fields.push({ name: m[2]!, type: `${m[1]!.trim()}${array}`, offset: Number(f[2]), size: Number(f[3]), signed: f[4] === '1' });
  }
  if (out.fields.length === 0) throw new EmulatorError('tracepoint format: no fields (not a tracefs format file?)');
  return out;
}

function formatOf(f: Extract<TracingCtxSpec, { kind: 'tracepoint' }>['format']): TracepointFormat {
  if (f === undefined) {
    throw new EmulatorError('ctx: a tracepoint context needs the tracepoint\'s format', {
      hint: 'give "format": the text of /sys/kernel/tracing/events/CATEGORY/NAME/format, or its fields',
    });
  }
  if (typeof f === 'string') return parseTracepointFormat(f);
  return Array.isArray(f) ? { fields: f } : f;
}

const isCharArray = (type: string) => /^(unsigned\s+|signed\s+)?char\s*\[\d*\]$/.test(type) || /^(u8|__u8|s8)\s*\[\d*\]$/.test(type);

/**
 * A tracepoint record as perf_trace_##call builds it: the fields at their format offsets (the first
 * 8 bytes, struct trace_entry, are the kernel's), `__data_loc` strings appended after the fixed
 * part with their u32 location ((length << 16) | offset).
 */
function tracepointCtx(spec: Extract<TracingCtxSpec, { kind: 'tracepoint' }>, resolve: ValueResolver): TracingCtxImage {
  const format = formatOf(spec.format);
  const fixed = format.fields.reduce((n, f) => Math.max(n, f.offset + f.size), 0);
  const dynamic: { field: TracepointField; bytes: Uint8Array }[] = [];
  const values = spec.fields ?? {};
  for (const name of Object.keys(values)) {
    if (!format.fields.some((f) => f.name === name)) {
      throw new EmulatorError(`ctx: tracepoint ${format.name ?? ''} has no field '${name}'`, { hint: `fields: ${format.fields.map((f) => f.name).join(', ')}` });
    }
  }
  for (const f of format.fields) {
    if (f.type.startsWith('__data_loc') && values[f.name] !== undefined) {
      dynamic.push({ field: f, bytes: new TextEncoder().encode(`${String(values[f.name])}\0`) });
    }
  }
  const size = dynamic.reduce((n, d) => n + d.bytes.length, fixed);
  const bytes = new Uint8Array(size);
  let at = fixed;
  for (const d of dynamic) {
    bytes.set(d.bytes, at);
    putInt(bytes, d.field.offset, 4, BigInt((d.bytes.length << 16) | at), d.field.name);
    at += d.bytes.length;
  }
  for (const f of format.fields) {
    const v = values[f.name];
    if (v === undefined || f.type.startsWith('__data_loc')) continue;
    if (isCharArray(f.type) && typeof v === 'string' && !v.startsWith('@')) {
      const text = new TextEncoder().encode(v);
      if (text.length > f.size) throw new EmulatorError(`ctx: field '${f.name}' holds ${f.size} bytes, '${v}' is longer`);
      bytes.set(text, f.offset);
      continue;
    }
    if (![1, 2, 4, 8].includes(f.size)) throw new EmulatorError(`ctx: field '${f.name}' (${f.type}, ${f.size} bytes) takes a string, not a number`);
    putInt(bytes, f.offset, f.size, resolve(v, f.name), f.name);
  }
  const name = format.name ? `tracepoint ${format.name}` : 'the tracepoint';
  return {
    bytes,
    what: `the record of ${name} (${size} bytes)`,
    check: (off, sz) => {
      // tp_prog_is_valid_access: the first sizeof(void *) bytes are the common fields.
      if (off < 8) return 'the common fields (the first 8 bytes) are not readable';
      if (off + sz > size) return `past the end of the ${size}-byte record of ${name}`;
      return misaligned(off, sz);
    },
  };
}

/** Lays out `spec` for a program of kind `kind`; `nargs` is the attach function's argument count when known (fentry/fexit). */
export function buildTracingCtx(kind: TracingProgKind, spec: TracingCtxSpec, resolve: ValueResolver, nargs?: number): TracingCtxImage {
  const want = ctxKindFor(kind);
  if (spec.kind !== want) {
    throw new EmulatorError(`ctx: a ${kind} program takes a "${want}" context, not "${spec.kind}"`, { hint: `"ctx": {"kind": "${want}", ...}` });
  }
  switch (spec.kind) {
    case 'pt_regs':
      return kprobeCtx(spec, resolve);
    case 'perf_event':
      return perfEventCtx(spec, resolve);
    case 'tracepoint':
      return tracepointCtx(spec, resolve);
    case 'fexit':
      return argsCtx('fexit', spec.args ?? [], spec.ret, resolve, nargs);
    case 'raw_tp':
    case 'tp_btf':
    case 'fentry':
      return argsCtx(spec.kind, spec.args ?? [], undefined, resolve, spec.kind === 'fentry' ? nargs : undefined);
    default:
      throw new EmulatorError(`ctx: unknown kind '${(spec as { kind: string }).kind}'`);
  }
}

/**
 * The context of a tracing program: its bytes mapped read-only (helpers such as
 * bpf_probe_read_kernel() may read them like any kernel memory) and loads through the context
 * pointer checked as the kernel's verifier checks them.
 */
export class TracingContext implements ContextAccess {
  readonly pointer: bigint;
  readonly region: number;
  private image: TracingCtxImage | undefined;
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

  constructor(private readonly memory: Memory) {
    this.pointer = memory.map(new Uint8Array(0), 'ctx', false);
    this.region = Number(this.pointer >> 32n);
  }

  reset(image: TracingCtxImage): void {
    this.image = image;
    this.view = new DataView(image.bytes.buffer, image.bytes.byteOffset, image.bytes.byteLength);
    this.memory.remap(this.pointer, image.bytes, false);
  }

  load(vm: Vm, dst: number, offset: number, size: number): void {
    const image = this.image!;
    const why = image.check(offset, size);
    if (why !== undefined) throw vm.fault('memory', `invalid read of ${size} bytes from ${image.what} at offset ${offset}: ${why}`);
    const v = this.view;
    if (size === 8) vm.setReg(dst, v.getBigUint64(offset, true));
    else vm.setReg(dst, size === 4 ? v.getUint32(offset, true) : size === 2 ? v.getUint16(offset, true) : v.getUint8(offset));
  }

  store(vm: Vm, offset: number, size: number): void {
    throw vm.fault('memory', `invalid write of ${size} bytes to ${this.image!.what} at offset ${offset}: the context of tracing programs is read-only`);
  }
}
