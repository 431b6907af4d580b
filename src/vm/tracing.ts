// Tracing programs in the emulator: which context a program type and section take, the input of one
// run (the memory file: kernel objects, the context, the current task), and the state that ties the
// context, the synthetic kernel memory and the tracing helpers together.
import type { Btf } from '../btf/index.js';
import { CORE_POISON_HELPER, matchSection } from '../object/index.js';
import { bpf_attach_type, bpf_prog_type } from '../uapi/index.js';
import { KernelMemory, type KernelObjectSpec } from './kernel-memory.js';
import type { MapRegistry } from './maps/registry.js';
import type { Memory } from './memory.js';
import { EmulatorError } from './object.js';
import { buildTracingCtx, TracingContext, type TracingCtxSpec, type TracingProgKind } from './tracing-context.js';
import { TracingEnv, type CurrentTask, type TracingEnvOptions } from './tracing-helpers.js';
import type { HelperFn } from './vm.js';

/** One run of a tracing program: the `--memory` file's contents. */
export interface TracingInput {
  /** Kernel (and user) objects by name; `"@name"` anywhere is the address of one. */
  objects?: Record<string, KernelObjectSpec>;
  ctx: TracingCtxSpec;
  /** The current task for this run, over the Emulator's `current` option. */
  current?: CurrentTask;
  stacks?: TracingEnvOptions['stacks'];
  funcIp?: TracingEnvOptions['funcIp'];
  cookie?: TracingEnvOptions['cookie'];
}

/** Whether a program type is one of the tracing types the emulator runs. */
export function isTracingType(progType: number): boolean {
  switch (progType) {
    case bpf_prog_type.BPF_PROG_TYPE_KPROBE:
    case bpf_prog_type.BPF_PROG_TYPE_TRACEPOINT:
    case bpf_prog_type.BPF_PROG_TYPE_RAW_TRACEPOINT:
    case bpf_prog_type.BPF_PROG_TYPE_TRACING:
    case bpf_prog_type.BPF_PROG_TYPE_PERF_EVENT:
      return true;
    default:
      return false;
  }
}

/** The context a tracing program of `progType` in `section` gets; tracing programs by their attach type. */
export function tracingKind(progType: number, section: string): TracingProgKind {
  switch (progType) {
    case bpf_prog_type.BPF_PROG_TYPE_KPROBE:
      return 'kprobe';
    case bpf_prog_type.BPF_PROG_TYPE_TRACEPOINT:
      return 'tracepoint';
    case bpf_prog_type.BPF_PROG_TYPE_RAW_TRACEPOINT:
      return 'raw_tp';
    case bpf_prog_type.BPF_PROG_TYPE_PERF_EVENT:
      return 'perf_event';
    default: {
      const attach = matchSection(section, { libbpf: 'upstream' })?.expectedAttachType;
      if (attach === bpf_attach_type.BPF_TRACE_FEXIT) return 'fexit';
      if (attach === bpf_attach_type.BPF_TRACE_RAW_TP) return 'tp_btf';
      if (attach === bpf_attach_type.BPF_TRACE_FENTRY || attach === bpf_attach_type.BPF_MODIFY_RETURN) return 'fentry';
      throw new EmulatorError(`section '${section}' is a tracing program the emulator does not run`, {
        hint: 'the emulator runs fentry/, fexit/, fmod_ret/ and tp_btf/ tracing programs',
      });
    }
  }
}

/** The attach function's argument count from the target BTF, for fentry/fexit (`fentry/FUNC`). */
function functionArgs(btf: Btf | undefined, kind: TracingProgKind, section: string): number | undefined {
  if (btf === undefined || (kind !== 'fentry' && kind !== 'fexit')) return undefined;
  const name = section.slice(section.indexOf('/') + 1);
  const fn = btf.find(name, 'FUNC');
  if (fn?.kind !== 'FUNC') return undefined;
  const proto = btf.type(fn.type);
  return proto.kind === 'FUNC_PROTO' ? proto.params.length : undefined;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function check(ok: boolean, what: string, hint?: string): void {
  if (!ok) throw new EmulatorError(`--memory: ${what}`, hint ? { hint } : {});
}

function onlyKeys(o: Record<string, unknown>, where: string, keys: readonly string[]): void {
  for (const k of Object.keys(o)) check(keys.includes(k), `${where} has no key '${k}'`, `keys: ${keys.join(', ')}`);
}

const OBJECT_TYPES: Record<string, (v: unknown) => boolean> = {
  type: (v) => typeof v === 'string',
  value: () => true,
  bytes: (v) => typeof v === 'string' || (Array.isArray(v) && v.every((b) => typeof b === 'number')),
  string: (v) => typeof v === 'string',
  size: (v) => typeof v === 'number',
  user: (v) => typeof v === 'boolean',
};

const CTX_KEYS: Record<string, readonly string[]> = {
  pt_regs: ['arch', 'regs'],
  perf_event: ['arch', 'regs', 'sample_period', 'addr'],
  tracepoint: ['format', 'fields'],
  raw_tp: ['args'],
  tp_btf: ['args'],
  fentry: ['args'],
  fexit: ['args', 'ret'],
};

/** Check the shape of a parsed memory file, so that what is wrong in it is said in its terms. */
export function tracingInput(v: unknown): TracingInput {
  check(isObject(v), 'the file must hold a JSON object {"objects": {...}, "ctx": {...}}');
  const o = v as Record<string, unknown>;
  onlyKeys(o, 'the file', ['objects', 'ctx', 'current', 'stacks', 'funcIp', 'cookie']);
  if (o.objects !== undefined) {
    check(isObject(o.objects), '"objects" must be an object of named objects');
    for (const [name, spec] of Object.entries(o.objects as Record<string, unknown>)) {
      check(isObject(spec), `object '${name}' must be a JSON object`);
      for (const [k, x] of Object.entries(spec as Record<string, unknown>)) {
        const ok = OBJECT_TYPES[k];
        check(ok !== undefined, `object '${name}' has no key '${k}'`, `keys: ${Object.keys(OBJECT_TYPES).join(', ')}`);
        check(ok!(x), `object '${name}': "${k}" has the wrong type`);
      }
    }
  }
  const ctx = o.ctx;
  check(isObject(ctx) && typeof ctx.kind === 'string', '"ctx" must be an object with a "kind"', 'e.g. "ctx": {"kind": "raw_tp", "args": ["@skb"]}');
  const c = ctx as Record<string, unknown>;
  const keys = CTX_KEYS[c.kind as string];
  check(keys !== undefined, `unknown "ctx" kind '${String(c.kind)}'`, `kinds: ${Object.keys(CTX_KEYS).join(', ')}`);
  onlyKeys(c, `a "${String(c.kind)}" ctx`, ['kind', ...keys!]);
  check(c.args === undefined || Array.isArray(c.args), '"ctx.args" must be an array');
  check(c.regs === undefined || isObject(c.regs), '"ctx.regs" must be an object of registers');
  check(c.fields === undefined || isObject(c.fields), '"ctx.fields" must be an object of field values');
  check(c.arch === undefined || typeof c.arch === 'string', '"ctx.arch" must be "x86_64" or "arm64"');
  const f = c.format;
  const field = (x: unknown) => isObject(x) && typeof x.name === 'string' && typeof x.type === 'string' && typeof x.offset === 'number' && typeof x.size === 'number';
  check(f === undefined || typeof f === 'string' || (Array.isArray(f) && f.every(field)) || (isObject(f) && Array.isArray(f.fields) && f.fields.every(field)),
    '"ctx.format" must be the text of a tracefs format file or a list of {name, type, offset, size, signed} fields');
  if (o.current !== undefined) {
    check(isObject(o.current), '"current" must be an object');
    const cur = o.current as Record<string, unknown>;
    onlyKeys(cur, '"current"', ['pid', 'tgid', 'uid', 'gid', 'comm', 'task', 'cgroupId']);
    for (const k of ['pid', 'tgid', 'uid', 'gid']) check(cur[k] === undefined || Number.isInteger(cur[k]), `"current.${k}" must be an integer`);
    check(cur.comm === undefined || typeof cur.comm === 'string', '"current.comm" must be a string');
  }
  if (o.stacks !== undefined) {
    check(isObject(o.stacks), '"stacks" must be an object {"kernel": [...], "user": [...]}');
    const st = o.stacks as Record<string, unknown>;
    onlyKeys(st, '"stacks"', ['kernel', 'user']);
    for (const k of ['kernel', 'user']) check(st[k] === undefined || Array.isArray(st[k]), `"stacks.${k}" must be an array of addresses`);
  }
  return o as unknown as TracingInput;
}

/** The per-emulator state of a tracing program. */
export class TracingSupport {
  readonly context: TracingContext;
  readonly kmem: KernelMemory;
  readonly env: TracingEnv;
  private readonly nargs: number | undefined;

  constructor(
    memory: Memory,
    btf: Btf | undefined,
    readonly kind: TracingProgKind,
    section: string,
    private readonly defaults: TracingEnvOptions,
  ) {
    this.context = new TracingContext(memory);
    this.kmem = new KernelMemory(memory, btf);
    this.env = new TracingEnv(this.kmem, defaults);
    this.nargs = functionArgs(btf, kind, section);
  }

  /** Whether the program reads through BTF-typed pointers, whose faulting loads the kernel turns into zeros. */
  get btfPointers(): boolean {
    return this.kind === 'fentry' || this.kind === 'fexit' || this.kind === 'tp_btf';
  }

  helpers(maps: MapRegistry): Map<number, HelperFn> {
    const m = this.env.helpers(maps);
    m.set(CORE_POISON_HELPER, (vm) => {
      throw vm.fault('helper', 'this instruction needs a CO-RE relocation the target BTF has no match for (libbpf poisons it the same way)');
    });
    return m;
  }

  /** Map the run's objects and lay out its context. */
  prepare(input: TracingInput): void {
    this.kmem.load(input.objects);
    this.env.options = {
      ...this.defaults,
      ...(input.current ? { current: { ...this.defaults.current, ...input.current } } : {}),
      ...(input.stacks ? { stacks: input.stacks } : {}),
      ...(input.funcIp !== undefined ? { funcIp: input.funcIp } : {}),
      ...(input.cookie !== undefined ? { cookie: input.cookie } : {}),
    };
    this.context.reset(buildTracingCtx(this.kind, input.ctx, this.kmem.resolve, this.nargs));
  }
}
