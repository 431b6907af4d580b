// Asking the running kernel which helpers each program type may call, and which helpers are
// GPL-only, the way libbpf_probe_bpf_helper() does: load `call ID; exit` with BPF_PROG_LOAD and
// read the verifier's answer. check_helper_call() looks the id up before anything else: an id past
// __BPF_FUNC_MAX_ID is "invalid func", a proto the type's get_func_proto() does not return is
// "program of this type cannot use helper" ("unknown func" before Linux 5.x), and a GPL-only proto
// in a program without a GPL-compatible license is "cannot call GPL-restricted function". Any
// other answer (bad arguments, r0 not set, success) means the type may call the helper.
import { release } from 'node:os';
import { BPF_FUNC_NAMES } from '../../uapi/index.js';
import { BPF_PROG_LOAD_FLAGS, bpf_attach_type, bpf_prog_type } from '../abi/index.js';
import { progLoad, SyscallError, VerifierError } from '../sys/index.js';
import { rejectionReason } from '../sys/verifier-log.js';

/**
 * What a probe run found; src/doctor/helper-data.ts is one, written by scripts/probe-helpers.mjs
 * (src/doctor declares the same shape as its HelperTables, so it need not import the loader).
 */
export interface HelperProbeData {
  /** The kernel release probed (uname -r). */
  kernel: string;
  /** __BPF_FUNC_MAX_ID of that kernel: the first id it calls "invalid func". */
  funcMaxId: number;
  /** Per bpf_prog_type name: the helpers (bpf_func_id names without bpf_) it may call. */
  progTypes: Record<string, { expectedAttachType?: string; flags?: number; helpers: string[] }>;
  /** Program types not probed, with the reason (not in this kernel, needs an attach_btf_id, ...). */
  notProbed: Record<string, string>;
  /** Helpers whose proto is gpl_only (probed in some program type that may call them). */
  gplOnly: string[];
}

/**
 * Load attributes a program type needs before its first instruction is looked at (libbpf's
 * probe_prog_load makes the same choices).
 */
const LOAD_ATTRS: Record<string, { expectedAttachType?: keyof typeof bpf_attach_type; flags?: number; skip?: string }> = {
  BPF_PROG_TYPE_CGROUP_SOCK_ADDR: { expectedAttachType: 'BPF_CGROUP_INET4_CONNECT' },
  BPF_PROG_TYPE_CGROUP_SOCKOPT: { expectedAttachType: 'BPF_CGROUP_GETSOCKOPT' },
  BPF_PROG_TYPE_SK_LOOKUP: { expectedAttachType: 'BPF_SK_LOOKUP' },
  BPF_PROG_TYPE_NETFILTER: { expectedAttachType: 'BPF_NETFILTER' },
  BPF_PROG_TYPE_SYSCALL: { flags: BPF_PROG_LOAD_FLAGS.BPF_F_SLEEPABLE },
  BPF_PROG_TYPE_TRACING: { skip: 'needs an attach_btf_id (the kernel function it traces)' },
  BPF_PROG_TYPE_EXT: { skip: 'needs an attach_prog_fd and attach_btf_id (the function it replaces)' },
  BPF_PROG_TYPE_LSM: { skip: 'needs an attach_btf_id (the LSM hook)' },
  BPF_PROG_TYPE_STRUCT_OPS: { skip: 'needs an attach_btf_id (the struct_ops member)' },
};

const MOV_R0_0_EXIT = Uint8Array.of(0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0);

function callExit(id: number): Uint8Array {
  const b = new Uint8Array(16);
  b[0] = 0x85;
  new DataView(b.buffer).setInt32(4, id, true);
  b[8] = 0x95;
  return b;
}

type Answer = { loaded: true } | { loaded: false; reason: string };

function tryLoad(type: number, insns: Uint8Array, license: string, attachType: number, flags: number): Answer {
  try {
    progLoad({ type, insns, license, expectedAttachType: attachType, flags, logLevel: 1, logSize: 4096 }).fd.close();
    return { loaded: true };
  } catch (e) {
    if (e instanceof VerifierError) return { loaded: false, reason: rejectionReason(e.log) ?? e.errnoName };
    if (e instanceof SyscallError) return { loaded: false, reason: `${e.errnoName} without a verifier log` };
    throw e;
  }
}

const NOT_ALLOWED = /^(invalid func |unknown func |program of this type cannot use helper )/;
const GPL_ONLY = /^cannot call GPL-restricted function/;

/** The first helper id the kernel does not know: ids below it are looked up, ids from it on are invalid. */
function probeFuncMaxId(): number {
  const invalid = (id: number): boolean => {
    const a = tryLoad(bpf_prog_type.BPF_PROG_TYPE_SOCKET_FILTER, callExit(id), 'GPL', 0, 0);
    return !a.loaded && a.reason.startsWith('invalid func ');
  };
  let lo = 1;
  let hi = 1 << 16;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (invalid(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Probes the running kernel (needs root or CAP_BPF+CAP_PERFMON+CAP_NET_ADMIN). Takes a few seconds. */
export function probeHelpers(): HelperProbeData {
  const funcMaxId = probeFuncMaxId();
  const progTypes: HelperProbeData['progTypes'] = {};
  const notProbed: Record<string, string> = {};
  const gplOnly = new Set<string>();
  const name = (id: number): string => (id < BPF_FUNC_NAMES.length ? BPF_FUNC_NAMES[id]! : `unknown#${id}`);
  for (const [typeName, type] of Object.entries(bpf_prog_type)) {
    if (type === 0) continue;
    const attrs = LOAD_ATTRS[typeName] ?? {};
    if (attrs.skip) {
      notProbed[typeName] = attrs.skip;
      continue;
    }
    const attachType = attrs.expectedAttachType ? bpf_attach_type[attrs.expectedAttachType] : 0;
    const flags = attrs.flags ?? 0;
    const base = tryLoad(type, MOV_R0_0_EXIT, 'GPL', attachType, flags);
    if (!base.loaded) {
      notProbed[typeName] = `this kernel refuses even "r0 = 0; exit" (${base.reason})`;
      continue;
    }
    const helpers: string[] = [];
    for (let id = 1; id < funcMaxId; id++) {
      const a = tryLoad(type, callExit(id), 'GPL', attachType, flags);
      if (!a.loaded && NOT_ALLOWED.test(a.reason)) continue;
      helpers.push(name(id));
      if (gplOnly.has(name(id))) continue;
      const nonGpl = tryLoad(type, callExit(id), 'Proprietary', attachType, flags);
      if (!nonGpl.loaded && GPL_ONLY.test(nonGpl.reason)) gplOnly.add(name(id));
    }
    progTypes[typeName] = {
      ...(attrs.expectedAttachType ? { expectedAttachType: attrs.expectedAttachType } : {}),
      ...(flags ? { flags } : {}),
      helpers,
    };
  }
  return { kernel: release(), funcMaxId, progTypes, notProbed, gplOnly: [...gplOnly].sort((a, b) => BPF_FUNC_NAMES.indexOf(a) - BPF_FUNC_NAMES.indexOf(b)) };
}

function wrap(names: readonly string[], indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const n of names.map((x) => `'${x}',`)) {
    if (line && indent.length + line.length + n.length + 1 > 110) {
      lines.push(line);
      line = '';
    }
    line += line ? ` ${n}` : n;
  }
  if (line) lines.push(line);
  return lines.map((l) => `${indent}${l}\n`).join('');
}

/** The TypeScript source of src/doctor/helper-data.ts for a probe result. */
export function formatHelperData(d: HelperProbeData): string {
  let out = '// Generated by scripts/probe-helpers.mjs (src/loader/probe/helpers.ts) from the kernel itself: do not\n' +
    '// edit. Regenerate as root after a kernel upgrade: npm run build && node scripts/probe-helpers.mjs\n' +
    "import type { HelperTables } from './helper-tables.js';\n\n" +
    'export const HELPER_DATA: HelperTables = {\n' +
    `  kernel: '${d.kernel}',\n  funcMaxId: ${d.funcMaxId},\n  progTypes: {\n`;
  for (const [type, t] of Object.entries(d.progTypes)) {
    out += `    ${type}: {\n`;
    if (t.expectedAttachType) out += `      expectedAttachType: '${t.expectedAttachType}',\n`;
    if (t.flags) out += `      flags: ${t.flags},\n`;
    out += `      helpers: [\n${wrap(t.helpers, '        ')}      ],\n    },\n`;
  }
  out += '  },\n  notProbed: {\n';
  for (const [type, why] of Object.entries(d.notProbed)) out += `    ${type}: ${JSON.stringify(why).replace(/^"|"$/g, "'")},\n`;
  out += `  },\n  gplOnly: [\n${wrap(d.gplOnly, '    ')}  ],\n};\n`;
  return out;
}
