// src/verifier/helper-protos.ts against independent oracles: the helper ids of src/uapi, of the
// installed uapi header and of the running kernel's BTF; the probed tables of which helpers each
// type may call and which are GPL-only; and, as root, the verifier itself. For a sample of helpers
// a generated program passes every argument well-typed (the "twin", which must load, and whose
// MEM_UNINIT arguments point at stack never written), then one argument wrongly typed, and the
// kernel must name the expected types the table gives for that argument.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HELPER_DATA } from '../../src/doctor/index.js';
import { mapCreate, progLoad, VerifierError, type Fd } from '../../src/loader/raw.js';
import {
  bpf_attach_type as A, bpf_prog_type as P, BPF_FUNC_NAMES, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_CGROUP_ARRAY,
  BPF_MAP_TYPE_DEVMAP, BPF_MAP_TYPE_PERF_EVENT_ARRAY, BPF_MAP_TYPE_PROG_ARRAY, BPF_MAP_TYPE_QUEUE,
  BPF_MAP_TYPE_RINGBUF, BPF_MAP_TYPE_SOCKMAP, BPF_MAP_TYPE_STACK_TRACE,
} from '../../src/uapi/index.js';
import { EXPECTED_TYPES, helperIds, helperProto, wrongArgTypeMessage, type ArgSpec, type ArgType } from '../../src/verifier/helper-protos.js';
import { haveKernelBtf, haveLinuxHeaders, haveRoot, tool, VMLINUX } from '../helpers/env.js';
import { CALL, EXIT, ins, MOV_R0 } from '../verify/asm.js';

const root = haveRoot();
const bpftool = tool('bpftool');
const HEADER = '/usr/include/linux/bpf.h';

const typeOf = (name: string): number => P[`BPF_PROG_TYPE_${name}` as keyof typeof P];

describe('helper ids and names', () => {
  it('cover every helper of src/uapi, with its name', () => {
    const ids = helperIds();
    expect(ids).toEqual(Array.from({ length: BPF_FUNC_NAMES.length - 1 }, (_, i) => i + 1));
    for (const id of ids) expect(helperProto(id, P.BPF_PROG_TYPE_KPROBE)!.name).toBe(BPF_FUNC_NAMES[id]);
  });

  it.skipIf(!haveLinuxHeaders())('match the installed header\'s ___BPF_FUNC_MAPPER', () => {
    // Up to Linux 6.1 the mapper lists FN(name) in id order; later headers spell FN(name, id, ##ctx).
    const text = readFileSync(HEADER, 'utf8');
    const mapper = text.slice(text.search(/#define _{2,3}BPF_FUNC_MAPPER\(/));
    const entries = [...mapper.slice(0, mapper.search(/\n\s*\n/)).matchAll(/\bFN\((\w+)(?:, (\d+), ##ctx)?\)/g)]
      .map(([, name, id], i) => [name!, id === undefined ? i : Number(id)] as const);
    expect(entries.length).toBeGreaterThan(200);
    for (const [name, id] of entries) if (id !== 0) expect(helperProto(id, P.BPF_PROG_TYPE_XDP)?.name, name).toBe(name);
  });

  it.skipIf(!bpftool || !haveKernelBtf())('match the running kernel\'s enum bpf_func_id', () => {
    const c = execFileSync(bpftool!, ['btf', 'dump', 'file', VMLINUX, 'format', 'c'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const body = c.slice(c.indexOf('enum bpf_func_id {'), c.indexOf('};', c.indexOf('enum bpf_func_id {')));
    const entries = [...body.matchAll(/\sBPF_FUNC_(\w+) = (\d+),/g)].filter(([, n]) => n !== 'unspec');
    expect(entries.length).toBe(helperIds().length);
    for (const [, name, id] of entries) expect(helperProto(Number(id), P.BPF_PROG_TYPE_XDP)?.name, name).toBe(name);
  });
});

describe('the probed helper tables', () => {
  it('find a proto for every helper every type may call', () => {
    for (const [type, t] of Object.entries(HELPER_DATA.progTypes)) {
      for (const name of t.helpers) expect(helperProto(BPF_FUNC_NAMES.indexOf(name), P[type as keyof typeof P]), `${type} ${name}`).toBeDefined();
    }
  });

  it('agree on which helpers are GPL-only', () => {
    const callable = new Set(Object.values(HELPER_DATA.progTypes).flatMap((t) => t.helpers));
    for (const name of callable) {
      expect(helperProto(BPF_FUNC_NAMES.indexOf(name), P.BPF_PROG_TYPE_KPROBE)!.gplOnly, name).toBe(HELPER_DATA.gplOnly.includes(name));
    }
  });

  it('mark the packet-changing and reference-acquiring helpers', () => {
    const xdp = P.BPF_PROG_TYPE_XDP;
    expect(helperProto(44, xdp)!.changesPktData).toBe(true);
    expect(helperProto(1, xdp)!.changesPktData).toBe(false);
    expect(helperProto(131, xdp)).toMatchObject({ ret: 'RET_PTR_TO_MEM', retRingbuf: true, retMaybeNull: true, acquires: true, retSizeArg: 2 });
    expect(helperProto(181, xdp)!.callback).toMatchObject({ funcArg: 2, ret: { min: 0, max: 1 } });
    expect(helperProto(107, P.BPF_PROG_TYPE_CGROUP_SOCK)!.args[1]!.type).toBe('ARG_PTR_TO_CTX');
    expect(helperProto(107, P.BPF_PROG_TYPE_SCHED_CLS)!.args[1]!.type).toBe('ARG_PTR_TO_BTF_ID_SOCK_COMMON');
  });
});

// ---------------------------------------------------------------------------------------------
// Programs generated from a proto

const LD_IMM64 = (reg: number, src: number, imm: number): number[][] => [ins(0x18, reg, src, 0, imm), ins(0, 0, 0, 0, 0)];
const MOV = (reg: number, imm: number): number[] => ins(0xb7, reg, 0, 0, imm);
const MOVR = (dst: number, src: number): number[] => ins(0xbf, dst, src, 0, 0);
const ADD = (reg: number, imm: number): number[] => ins(0x07, reg, 0, 0, imm);
/** Stack the program initializes (fp-64..fp-1) and stack it never writes (fp-192..fp-129). */
const INIT = -64;
const UNINIT = -192;
const BPF_PSEUDO_MAP_FD = 1;

const SCALAR_ARGS: ReadonlySet<ArgType> = new Set(['ARG_CONST_SIZE', 'ARG_CONST_SIZE_OR_ZERO', 'ARG_CONST_ALLOC_SIZE_OR_ZERO']);
const MEMORY_ARGS: ReadonlySet<ArgType> = new Set(['ARG_PTR_TO_MEM', 'ARG_PTR_TO_MAP_KEY', 'ARG_PTR_TO_MAP_VALUE']);

/** A well-typed value for `a` in register `reg`, or undefined when no plain value is one. */
function validArg(a: ArgSpec, reg: number, mapFd: number): number[][] | undefined {
  if (a.type === 'ARG_ANYTHING') return [MOV(reg, 0)];
  if (a.type === 'ARG_PTR_TO_CTX') return [MOVR(reg, 6)];
  if (a.type === 'ARG_CONST_MAP_PTR') return LD_IMM64(reg, BPF_PSEUDO_MAP_FD, mapFd);
  if (SCALAR_ARGS.has(a.type)) return [MOV(reg, 8)];
  if (MEMORY_ARGS.has(a.type)) return [MOVR(reg, 10), ADD(reg, a.uninit ? UNINIT : INIT)];
  return a.maybeNull ? [MOV(reg, 0)] : undefined;
}

/** A wrongly typed value: a stack pointer where a scalar is expected, else the scalar 1. */
function wrongArg(a: ArgSpec, reg: number): { code: number[][]; actual: string } {
  return SCALAR_ARGS.has(a.type) ? { code: [MOVR(reg, 10), ADD(reg, INIT)], actual: 'fp' } : { code: [MOV(reg, 1)], actual: 'scalar' };
}

/** r6 = ctx; zero fp-64..fp-1; the arguments; call; r0 = 0; exit. */
function callProgram(id: number, args: number[][][]): number[][] {
  const zero = Array.from({ length: 8 }, (_, i) => ins(0x7a, 10, 0, INIT + 8 * i, 0));
  return [MOVR(6, 1), ...zero, ...args.flat(), CALL(id), MOV_R0(0), EXIT];
}

interface Case {
  type: string;
  attach?: number;
  helper: string;
  /** The map type passed as ARG_CONST_MAP_PTR (an array map when not given). */
  map?: number;
  /** Whether the all-valid twin can load (not for helpers that return a reference to release). */
  twin?: boolean;
}

const C = (type: string, helper: string, o: Omit<Case, 'type' | 'helper'> = {}): Case => ({ type, helper, twin: true, ...o });
const WRONG_ONLY = { twin: false };

const CASES: Case[] = [
  C('XDP', 'map_lookup_elem'), C('XDP', 'map_update_elem'), C('XDP', 'map_delete_elem'),
  C('XDP', 'map_push_elem', { map: BPF_MAP_TYPE_QUEUE }), C('XDP', 'map_pop_elem', { map: BPF_MAP_TYPE_QUEUE }),
  C('XDP', 'map_peek_elem', { map: BPF_MAP_TYPE_QUEUE }), C('XDP', 'trace_printk'),
  C('XDP', 'tail_call', { map: BPF_MAP_TYPE_PROG_ARRAY }), C('XDP', 'csum_diff'), C('XDP', 'xdp_adjust_head'),
  C('XDP', 'xdp_adjust_tail'), C('XDP', 'xdp_adjust_meta'), C('XDP', 'perf_event_output', { map: BPF_MAP_TYPE_PERF_EVENT_ARRAY }),
  C('XDP', 'redirect_map', { map: BPF_MAP_TYPE_DEVMAP }), C('XDP', 'fib_lookup'), C('XDP', 'xdp_load_bytes'),
  C('XDP', 'xdp_store_bytes'), C('XDP', 'check_mtu'), C('XDP', 'ringbuf_output', { map: BPF_MAP_TYPE_RINGBUF }),
  C('XDP', 'ringbuf_query', { map: BPF_MAP_TYPE_RINGBUF }), C('XDP', 'probe_read_kernel'), C('XDP', 'probe_read_kernel_str'),
  C('XDP', 'get_current_comm'), C('XDP', 'strtol'), C('XDP', 'strtoul'), C('XDP', 'get_ns_current_pid_tgid'),
  C('XDP', 'snprintf', WRONG_ONLY), C('XDP', 'strncmp', WRONG_ONLY), C('XDP', 'timer_init', WRONG_ONLY),
  C('XDP', 'spin_lock', WRONG_ONLY), C('XDP', 'kptr_xchg', WRONG_ONLY), C('XDP', 'dynptr_read', WRONG_ONLY),
  C('XDP', 'dynptr_from_mem', WRONG_ONLY), C('XDP', 'ringbuf_reserve', { map: BPF_MAP_TYPE_RINGBUF, twin: false }),
  C('XDP', 'ringbuf_submit', WRONG_ONLY), C('XDP', 'loop', WRONG_ONLY), C('XDP', 'for_each_map_elem', WRONG_ONLY),
  C('XDP', 'sk_lookup_tcp', WRONG_ONLY), C('XDP', 'skc_lookup_tcp', WRONG_ONLY), C('XDP', 'this_cpu_ptr', WRONG_ONLY),
  C('SCHED_CLS', 'skb_store_bytes'), C('SCHED_CLS', 'skb_load_bytes'), C('SCHED_CLS', 'skb_load_bytes_relative'),
  C('SCHED_CLS', 'l3_csum_replace'), C('SCHED_CLS', 'l4_csum_replace'), C('SCHED_CLS', 'clone_redirect'),
  C('SCHED_CLS', 'skb_vlan_push'), C('SCHED_CLS', 'skb_vlan_pop'), C('SCHED_CLS', 'skb_get_tunnel_key'),
  C('SCHED_CLS', 'skb_set_tunnel_key'), C('SCHED_CLS', 'skb_get_tunnel_opt'), C('SCHED_CLS', 'skb_set_tunnel_opt'),
  C('SCHED_CLS', 'skb_change_proto'), C('SCHED_CLS', 'skb_change_type'), C('SCHED_CLS', 'skb_change_tail'),
  C('SCHED_CLS', 'skb_change_head'), C('SCHED_CLS', 'skb_pull_data'), C('SCHED_CLS', 'skb_adjust_room'),
  C('SCHED_CLS', 'csum_update'), C('SCHED_CLS', 'csum_level'), C('SCHED_CLS', 'set_hash'),
  C('SCHED_CLS', 'get_hash_recalc'), C('SCHED_CLS', 'skb_under_cgroup', { map: BPF_MAP_TYPE_CGROUP_ARRAY }),
  C('SCHED_CLS', 'skb_cgroup_id'), C('SCHED_CLS', 'skb_ancestor_cgroup_id'), C('SCHED_CLS', 'get_socket_cookie'),
  C('SCHED_CLS', 'get_cgroup_classid'), C('SCHED_CLS', 'redirect_neigh'), C('SCHED_CLS', 'skb_ecn_set_ce'),
  C('SCHED_CLS', 'skb_set_tstamp'), C('SCHED_CLS', 'fib_lookup'), C('SCHED_CLS', 'check_mtu'),
  C('SCHED_CLS', 'sk_release', WRONG_ONLY), C('SCHED_CLS', 'sk_fullsock', WRONG_ONLY), C('SCHED_CLS', 'tcp_sock', WRONG_ONLY),
  C('SCHED_CLS', 'get_listener_sock', WRONG_ONLY), C('SCHED_CLS', 'skc_to_tcp_sock', WRONG_ONLY),
  C('SCHED_CLS', 'sk_storage_get', WRONG_ONLY), C('SCHED_CLS', 'sk_assign', WRONG_ONLY),
  C('SCHED_CLS', 'tcp_check_syncookie', WRONG_ONLY),
  C('KPROBE', 'probe_read_user'), C('KPROBE', 'probe_read_user_str'), C('KPROBE', 'probe_read'), C('KPROBE', 'probe_read_str'),
  C('KPROBE', 'get_stackid', { map: BPF_MAP_TYPE_STACK_TRACE }), C('KPROBE', 'get_stack'),
  C('KPROBE', 'perf_event_read', { map: BPF_MAP_TYPE_PERF_EVENT_ARRAY }),
  C('KPROBE', 'perf_event_read_value', { map: BPF_MAP_TYPE_PERF_EVENT_ARRAY }), C('KPROBE', 'get_func_ip'),
  C('KPROBE', 'get_attach_cookie'), C('KPROBE', 'get_branch_snapshot'), C('KPROBE', 'trace_vprintk'),
  C('KPROBE', 'current_task_under_cgroup', { map: BPF_MAP_TYPE_CGROUP_ARRAY }), C('KPROBE', 'task_pt_regs', WRONG_ONLY),
  C('KPROBE', 'get_task_stack', WRONG_ONLY), C('KPROBE', 'find_vma', WRONG_ONLY), C('KPROBE', 'task_storage_get', WRONG_ONLY),
  C('PERF_EVENT', 'perf_prog_read_value'),
  C('SK_SKB', 'sk_redirect_map', { map: BPF_MAP_TYPE_SOCKMAP }), C('SK_SKB', 'skb_pull_data'), C('SK_SKB', 'skb_change_tail'),
  C('SK_MSG', 'msg_redirect_map', { map: BPF_MAP_TYPE_SOCKMAP }), C('SK_MSG', 'msg_apply_bytes'), C('SK_MSG', 'msg_pull_data'),
  C('SK_MSG', 'msg_push_data'), C('SK_MSG', 'msg_pop_data'), C('SK_MSG', 'get_cgroup_classid'),
  C('SOCK_OPS', 'sock_map_update', { map: BPF_MAP_TYPE_SOCKMAP }), C('SOCK_OPS', 'setsockopt'), C('SOCK_OPS', 'getsockopt'),
  C('SOCK_OPS', 'sock_ops_cb_flags_set'), C('SOCK_OPS', 'load_hdr_opt'), C('SOCK_OPS', 'store_hdr_opt'),
  C('SOCK_OPS', 'get_netns_cookie'), C('SOCK_OPS', 'get_socket_cookie'),
  C('CGROUP_SOCK_ADDR', 'bind', { attach: A.BPF_CGROUP_INET4_CONNECT }),
  C('CGROUP_SOCK_ADDR', 'setsockopt', { attach: A.BPF_CGROUP_INET4_CONNECT }),
  C('CGROUP_SOCK_ADDR', 'sk_lookup_udp', { attach: A.BPF_CGROUP_INET4_CONNECT, twin: false }),
  C('CGROUP_SOCK', 'sk_storage_get', WRONG_ONLY), C('CGROUP_SOCK', 'get_cgroup_classid'), C('CGROUP_SOCK', 'get_socket_cookie'),
  C('CGROUP_SYSCTL', 'sysctl_get_name'), C('CGROUP_SYSCTL', 'sysctl_get_current_value'),
  C('CGROUP_SYSCTL', 'sysctl_get_new_value'), C('CGROUP_SYSCTL', 'sysctl_set_new_value'),
  C('CGROUP_SKB', 'get_local_storage', WRONG_ONLY), C('CGROUP_SKB', 'sk_storage_delete', WRONG_ONLY),
  C('SK_REUSEPORT', 'sk_select_reuseport', { attach: A.BPF_SK_REUSEPORT_SELECT, map: BPF_MAP_TYPE_SOCKMAP }),
  C('SK_REUSEPORT', 'get_socket_cookie', { attach: A.BPF_SK_REUSEPORT_SELECT }),
  C('SK_LOOKUP', 'sk_assign', { attach: A.BPF_SK_LOOKUP }),
  C('FLOW_DISSECTOR', 'skb_load_bytes'),
];

interface Kernel {
  ok: boolean;
  log: string;
}

function kernel(c: Case, code: number[][]): Kernel {
  try {
    progLoad({ type: typeOf(c.type), expectedAttachType: c.attach, insns: Uint8Array.from(code.flat()), license: 'GPL', logLevel: 1 }).fd.close();
    return { ok: true, log: '' };
  } catch (e) {
    if (e instanceof VerifierError) return { ok: false, log: e.log };
    throw e;
  }
}

/** The log's last line before the statistics. */
const reason = (log: string): string | undefined => log.trim().split('\n').filter((l) => !/^(processed|verification time|stack depth)/.test(l)).pop();

/**
 * Argument types the sample cannot reach with plain values: a stack argument comes after a
 * callback, and a callback needs BTF func_info, which hand-assembled programs do not carry.
 */
const UNPROBED: ReadonlySet<ArgType> = new Set(['ARG_PTR_TO_STACK']);

describe.skipIf(!root)('the protos agree with the kernel', () => {
  const probed = new Set<ArgType>();
  const maps = new Map<number, Fd>();
  const mapFd = (type: number): number => {
    if (!maps.has(type)) {
      const o = type === BPF_MAP_TYPE_RINGBUF ? { keySize: 0, valueSize: 0, maxEntries: 4096 }
        : type === BPF_MAP_TYPE_QUEUE ? { keySize: 0, valueSize: 8, maxEntries: 4 }
          : [BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_STACK_TRACE].includes(type) ? { keySize: 4, valueSize: 8, maxEntries: 4 }
            : { keySize: 4, valueSize: 4, maxEntries: 4 };
      maps.set(type, mapCreate({ type, ...o }));
    }
    return maps.get(type)!.value;
  };

  it('on a sample of helpers: the well-typed twin loads, each wrong argument is named as the table says', () => {
    const wrong: string[] = [];
    let twins = 0;
    let acquired = 0;
    let args = 0;
    const helpers = new Set<string>();
    const argTypes = new Set<ArgType>();
    for (const c of CASES) {
      const id = BPF_FUNC_NAMES.indexOf(c.helper);
      const proto = helperProto(id, typeOf(c.type))!;
      const allowed = HELPER_DATA.progTypes[`BPF_PROG_TYPE_${c.type}`]?.helpers.includes(c.helper);
      if (!allowed) {
        wrong.push(`${c.type} ${c.helper}: not callable here by the probed tables`);
        continue;
      }
      helpers.add(c.helper);
      const fd = mapFd(c.map ?? BPF_MAP_TYPE_ARRAY);
      const valid = proto.args.map((a, i) => validArg(a, i + 1, fd));
      if (c.twin) {
        const k = kernel(c, callProgram(id, valid.map((v, i) => v ?? wrongArg(proto.args[i]!, i + 1).code)));
        twins++;
        if (!k.ok) wrong.push(`${c.type} ${c.helper}: the well-typed call is rejected: ${reason(k.log)}`);
      } else if (proto.acquires === true && valid.every((v) => v !== undefined)) {
        // A reference the program never releases: the kernel refuses it at exit.
        const k = kernel(c, callProgram(id, valid as number[][][]));
        acquired++;
        if (k.ok || !/^Unreleased reference id=\d+ alloc_insn=\d+$/m.test(k.log)) wrong.push(`${c.type} ${c.helper}: acquires no reference: ${reason(k.log)}`);
      }
      for (const [i, a] of proto.args.entries()) {
        if (a.type === 'ARG_ANYTHING' || valid.slice(0, i).some((v) => v === undefined)) continue;
        const bad = wrongArg(a, i + 1);
        const k = kernel(c, callProgram(id, [...valid.slice(0, i) as number[][][], bad.code]));
        const expected = wrongArgTypeMessage(i + 1, bad.actual, a.type);
        args++;
        argTypes.add(a.type);
        probed.add(a.type);
        if (k.ok || !k.log.includes(expected)) wrong.push(`${c.type} ${c.helper} arg${i + 1}: kernel "${k.ok ? 'accepts' : reason(k.log)}", table "${expected}"`);
      }
    }
    for (const m of maps.values()) m.close();
    console.log(`helper protos: ${helpers.size} helpers, ${twins} well-typed calls, ${acquired} unreleased references, ${args} wrong arguments of ${argTypes.size} argument types`);
    expect(wrong).toEqual([]);
    expect(helpers.size).toBeGreaterThanOrEqual(30);
  });

  it('on the no-argument variant of bpf_get_cgroup_classid', () => {
    const call = [MOV(1, 1), CALL(17), MOV_R0(0), EXIT];
    expect(kernel({ type: 'CGROUP_SOCK', helper: 'get_cgroup_classid' }, call).ok).toBe(true);
    expect(helperProto(17, P.BPF_PROG_TYPE_CGROUP_SOCK)!.args).toEqual([]);
    expect(reason(kernel({ type: 'SCHED_CLS', helper: 'get_cgroup_classid' }, call).log)).toBe(wrongArgTypeMessage(1, 'scalar', 'ARG_PTR_TO_CTX'));
  });

  it('probe every argument type the helpers use, so that each expected= text is the kernel\'s', () => {
    const used = new Set(helperIds().flatMap((id) => helperProto(id, P.BPF_PROG_TYPE_KPROBE)!.args.map((a) => a.type)));
    for (const t of used) {
      if (t === 'ARG_ANYTHING') continue;
      expect(EXPECTED_TYPES[t], t).toBeDefined();
      if (!UNPROBED.has(t)) expect(probed.has(t), t).toBe(true);
    }
  });
});
