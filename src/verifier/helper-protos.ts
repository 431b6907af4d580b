// The struct bpf_func_proto of every helper as Linux 6.18 declares it (kernel/bpf/helpers.c,
// kernel/trace/bpf_trace.c, net/core/filter.c, kernel/bpf/stackmap.c, kernel/bpf/ringbuf.c,
// kernel/bpf/cgroup.c, net/core/sock_map.c, net/core/bpf_sk_storage.c, the local-storage maps,
// kernel/bpf/bpf_iter.c, kernel/bpf/task_iter.c, kernel/bpf/bpf_lsm.c, kernel/bpf/syscall.c,
// drivers/media/rc/bpf-lirc.c), with the per-program-type variants the *_func_proto callbacks pick,
// and the verifier's special cases that hang off a helper id (callbacks, return bounds, references,
// packet invalidation). Which helpers a type may call at all is the probed table in
// src/doctor/helper-data.ts; this module only says what a call's arguments and result are.
import { BPF_FUNC_NAMES, bpf_prog_type as P } from '../uapi/index.js';

/** enum bpf_arg_type base names (include/linux/bpf.h); flags are ArgSpec's booleans. */
export type ArgType =
  | 'ARG_DONTCARE' | 'ARG_CONST_MAP_PTR' | 'ARG_PTR_TO_MAP_KEY' | 'ARG_PTR_TO_MAP_VALUE' | 'ARG_PTR_TO_MEM'
  | 'ARG_PTR_TO_ARENA' | 'ARG_CONST_SIZE' | 'ARG_CONST_SIZE_OR_ZERO' | 'ARG_PTR_TO_CTX' | 'ARG_ANYTHING'
  | 'ARG_PTR_TO_SPIN_LOCK' | 'ARG_PTR_TO_SOCK_COMMON' | 'ARG_PTR_TO_SOCKET' | 'ARG_PTR_TO_BTF_ID'
  | 'ARG_PTR_TO_RINGBUF_MEM' | 'ARG_CONST_ALLOC_SIZE_OR_ZERO' | 'ARG_PTR_TO_BTF_ID_SOCK_COMMON'
  | 'ARG_PTR_TO_PERCPU_BTF_ID' | 'ARG_PTR_TO_FUNC' | 'ARG_PTR_TO_STACK' | 'ARG_PTR_TO_CONST_STR'
  | 'ARG_PTR_TO_TIMER' | 'ARG_KPTR_XCHG_DEST' | 'ARG_PTR_TO_DYNPTR';

export interface ArgSpec {
  type: ArgType;
  /** PTR_MAYBE_NULL: a register known to be 0 passes without a type check. */
  maybeNull?: boolean;
  /** MEM_RDONLY: the helper only reads, so read-only memory is fine. */
  rdonly?: boolean;
  /** MEM_UNINIT: the memory need not be initialized (the helper fills it). */
  uninit?: boolean;
  /** MEM_WRITE: the helper writes the memory, so read-only maps are refused. */
  write?: boolean;
  /** MEM_ALIGNED: the pointer must be aligned to the fixed size. */
  aligned?: boolean;
  /** OBJ_RELEASE: the call releases the reference this argument holds. */
  release?: boolean;
  /** MEM_FIXED_SIZE: bytes accessed (the proto's arg_size). */
  fixedSize?: number;
  /** The kernel struct an ARG_PTR_TO_BTF_ID must point to (arg_btf_id). */
  btfId?: string;
  /** The dynptr kind an ARG_PTR_TO_DYNPTR must be (DYNPTR_TYPE_*), when the helper requires one. */
  dynptr?: 'local' | 'ringbuf';
}

/** enum bpf_return_type base names. */
export type RetType =
  | 'RET_INTEGER' | 'RET_VOID' | 'RET_PTR_TO_MAP_VALUE' | 'RET_PTR_TO_SOCKET' | 'RET_PTR_TO_TCP_SOCK'
  | 'RET_PTR_TO_SOCK_COMMON' | 'RET_PTR_TO_MEM' | 'RET_PTR_TO_MEM_OR_BTF_ID' | 'RET_PTR_TO_BTF_ID';

/** The register a callback receives, as the verifier sets it up in set_*_callback_state. */
export type CallbackArg =
  | { kind: 'scalar' }
  | { kind: 'map_ptr' }
  | { kind: 'map_key' }
  | { kind: 'map_value' }
  | { kind: 'btf_id'; struct: string }
  /** The helper's own argument number `arg` (1-based), passed through (the callback's ctx). */
  | { kind: 'helper_arg'; arg: number }
  | { kind: 'dynptr' }
  | { kind: 'not_init' };

export interface Callback {
  /** The 1-based helper argument that holds the callback (ARG_PTR_TO_FUNC). */
  funcArg: number;
  /** R1..R5 of the callback. */
  args: CallbackArg[];
  /** callback_ret_range: what the callback must return. */
  ret: { min: number; max: number };
}

export interface HelperProto {
  id: number;
  /** The helper's name without bpf_, as in BPF_FUNC_NAMES. */
  name: string;
  ret: RetType;
  /** PTR_MAYBE_NULL on the return type: the result must be checked against NULL. */
  retMaybeNull?: boolean;
  /** MEM_RINGBUF on RET_PTR_TO_MEM: a ring buffer record (bpf_ringbuf_reserve). */
  retRingbuf?: boolean;
  /** MEM_RDONLY on the return type (per_cpu_ptr, this_cpu_ptr). */
  retRdonly?: boolean;
  /** PTR_TRUSTED on RET_PTR_TO_BTF_ID (get_current_task_btf). */
  retTrusted?: boolean;
  /** The kernel struct a RET_PTR_TO_BTF_ID points to; 'kptr' means the map field's own type. */
  retBtfId?: string;
  /** For RET_PTR_TO_MEM: the 1-based ARG_CONST_ALLOC_SIZE_OR_ZERO argument giving its size. */
  retSizeArg?: number;
  args: ArgSpec[];
  gplOnly: boolean;
  /** pkt_access: packet pointers may be passed as memory arguments. */
  pktAccess?: boolean;
  /** might_sleep: only sleepable programs may call it. */
  mightSleep?: boolean;
  /**
   * is_acquire_function: the result is a new reference the program must release;
   * 'sockmap' means only when the map argument is a sockmap or sockhash.
   */
  acquires?: true | 'sockmap';
  /** is_ptr_cast_function: the result shares the argument's reference (sk_fullsock, skc_to_*). */
  ptrCast?: boolean;
  /** is_dynptr_ref_function: the result lives as long as the dynptr argument (dynptr_data). */
  dynptrRef?: boolean;
  /** bpf_helper_changes_pkt_data: every packet pointer is invalidated by the call. */
  changesPktData: boolean;
  /** The helper calls back into the program. */
  callback?: Callback;
  /**
   * do_refine_retval_range for RET_INTEGER: 'size-arg' bounds R0 to [-MAX_ERRNO, the size
   * argument's umax] (meta->msize_max_value); 'cpu-id' to [0, nr_cpu_ids - 1].
   */
  retBounds?: { kind: 'size-arg'; sizeArg: number } | { kind: 'cpu-id' };
}

// ---------------------------------------------------------------------------------------------
// Argument shorthands, named after the kernel's spelling of each combination

const any: ArgSpec = { type: 'ARG_ANYTHING' };
const ctx: ArgSpec = { type: 'ARG_PTR_TO_CTX' };
const ctxOrNull: ArgSpec = { type: 'ARG_PTR_TO_CTX', maybeNull: true };
const map: ArgSpec = { type: 'ARG_CONST_MAP_PTR' };
const key: ArgSpec = { type: 'ARG_PTR_TO_MAP_KEY' };
const value: ArgSpec = { type: 'ARG_PTR_TO_MAP_VALUE' };
const valueOrNull: ArgSpec = { type: 'ARG_PTR_TO_MAP_VALUE', maybeNull: true };
const uninitValue: ArgSpec = { type: 'ARG_PTR_TO_MAP_VALUE', uninit: true, write: true };
/** ARG_PTR_TO_MEM: read, and possibly written, by the helper. */
const mem: ArgSpec = { type: 'ARG_PTR_TO_MEM' };
const memWrite: ArgSpec = { type: 'ARG_PTR_TO_MEM', write: true };
const memOrNull: ArgSpec = { type: 'ARG_PTR_TO_MEM', maybeNull: true };
const memRo: ArgSpec = { type: 'ARG_PTR_TO_MEM', rdonly: true };
const memRoOrNull: ArgSpec = { type: 'ARG_PTR_TO_MEM', rdonly: true, maybeNull: true };
/** ARG_PTR_TO_UNINIT_MEM = ARG_PTR_TO_MEM | MEM_UNINIT | MEM_WRITE. */
const uninit: ArgSpec = { type: 'ARG_PTR_TO_MEM', uninit: true, write: true };
const fixed = (n: number, more: Partial<ArgSpec> = {}): ArgSpec => ({ type: 'ARG_PTR_TO_MEM', fixedSize: n, ...more });
/** ARG_PTR_TO_FIXED_SIZE_MEM | MEM_UNINIT | MEM_WRITE | MEM_ALIGNED: an output slot (was ARG_PTR_TO_LONG/INT). */
const out = (n: number, initialized = false): ArgSpec =>
  fixed(n, initialized ? { write: true, aligned: true } : { uninit: true, write: true, aligned: true });
const size: ArgSpec = { type: 'ARG_CONST_SIZE' };
const size0: ArgSpec = { type: 'ARG_CONST_SIZE_OR_ZERO' };
const allocSize0: ArgSpec = { type: 'ARG_CONST_ALLOC_SIZE_OR_ZERO' };
const sockCommon: ArgSpec = { type: 'ARG_PTR_TO_SOCK_COMMON' };
const btfSockCommon: ArgSpec = { type: 'ARG_PTR_TO_BTF_ID_SOCK_COMMON' };
const socketOrNull: ArgSpec = { type: 'ARG_PTR_TO_SOCKET', maybeNull: true };
const btf = (struct: string, more: Partial<ArgSpec> = {}): ArgSpec => ({ type: 'ARG_PTR_TO_BTF_ID', btfId: struct, ...more });
const percpuBtf: ArgSpec = { type: 'ARG_PTR_TO_PERCPU_BTF_ID' };
const func: ArgSpec = { type: 'ARG_PTR_TO_FUNC' };
const stackOrNull: ArgSpec = { type: 'ARG_PTR_TO_STACK', maybeNull: true };
const constStr: ArgSpec = { type: 'ARG_PTR_TO_CONST_STR' };
const timer: ArgSpec = { type: 'ARG_PTR_TO_TIMER' };
const spinLock: ArgSpec = { type: 'ARG_PTR_TO_SPIN_LOCK' };
const dynptr = (more: Partial<ArgSpec> = {}): ArgSpec => ({ type: 'ARG_PTR_TO_DYNPTR', ...more });

/** bpf_helper_changes_pkt_data (net/core/filter.c), by helper id in 6.18. */
const CHANGES_PKT_DATA: ReadonlySet<string> = new Set([
  'skb_vlan_push', 'skb_vlan_pop', 'skb_store_bytes', 'skb_change_proto', 'skb_change_head',
  'skb_change_tail', 'skb_adjust_room', 'skb_pull_data', 'clone_redirect', 'l3_csum_replace',
  'l4_csum_replace', 'xdp_adjust_head', 'xdp_adjust_meta', 'msg_pull_data', 'msg_push_data',
  'msg_pop_data', 'xdp_adjust_tail', 'lwt_seg6_store_bytes', 'lwt_seg6_adjust_srh', 'lwt_seg6_action',
  'store_hdr_opt', 'lwt_push_encap',
]);

type Extra = Omit<Partial<HelperProto>, 'id' | 'name' | 'ret' | 'args' | 'changesPktData'>;

function h(id: number, ret: RetType, args: ArgSpec[], extra: Extra = {}): HelperProto {
  const name = BPF_FUNC_NAMES[id]!;
  return { id, name, ret, args, gplOnly: false, changesPktData: CHANGES_PKT_DATA.has(name), ...extra };
}
const int = (id: number, args: ArgSpec[] = [], extra: Extra = {}): HelperProto => h(id, 'RET_INTEGER', args, extra);
const gpl = (id: number, args: ArgSpec[] = [], extra: Extra = {}): HelperProto => int(id, args, { gplOnly: true, ...extra });
const btfRet = (id: number, struct: string, args: ArgSpec[], extra: Extra = {}): HelperProto =>
  h(id, 'RET_PTR_TO_BTF_ID', args, { retBtfId: struct, retMaybeNull: true, ...extra });
const skc = (id: number, struct: string, arg: ArgSpec = btfSockCommon): HelperProto =>
  btfRet(id, struct, [arg], { ptrCast: true });

const strBounds = (sizeArg: number): HelperProto['retBounds'] => ({ kind: 'size-arg', sizeArg });
const cb = (funcArg: number, args: CallbackArg[], max = 1): Callback => ({ funcArg, args, ret: { min: 0, max } });

/** The proto most program types get, by helper id. */
const PROTOS: readonly HelperProto[] = [
  h(1, 'RET_PTR_TO_MAP_VALUE', [map, key], { retMaybeNull: true, pktAccess: true, acquires: 'sockmap' }),
  int(2, [map, key, value, any], { pktAccess: true }),
  int(3, [map, key], { pktAccess: true }),
  gpl(4, [uninit, size0, any]),
  int(5),
  gpl(6, [memRo, size]),
  int(7),
  int(8, [], { retBounds: { kind: 'cpu-id' } }),
  int(9, [ctx, any, memRo, size, any]),
  int(10, [ctx, any, any, any, any]),
  int(11, [ctx, any, any, any, any]),
  h(12, 'RET_VOID', [ctx, map, any]),
  int(13, [ctx, any, any]),
  int(14),
  int(15),
  int(16, [uninit, size]),
  int(17, [ctx]),
  int(18, [ctx, any, any]),
  int(19, [ctx]),
  int(20, [ctx, uninit, size, any]),
  int(21, [ctx, memRo, size, any]),
  gpl(22, [map, any]),
  int(23, [any, any]),
  int(24, [ctx]),
  gpl(25, [ctx, map, any, memRo, size0]),
  int(26, [ctx, any, uninit, size]),
  gpl(27, [ctx, map, any]),
  int(28, [memRoOrNull, size0, memRoOrNull, size0, any], { pktAccess: true }),
  int(29, [ctx, uninit, size]),
  int(30, [ctx, memRo, size]),
  int(31, [ctx, any, any]),
  int(32, [ctx, any]),
  int(33, [ctx, map, any]),
  int(34, [ctx]),
  gpl(35),
  gpl(36, [any, memRo, size]),
  int(37, [map, any]),
  int(38, [ctx, any, any]),
  int(39, [ctx, any]),
  int(40, [ctx, any]),
  int(41, [ctx]),
  int(42),
  int(43, [ctx, any, any]),
  int(44, [ctx, any]),
  gpl(45, [uninit, size0, any], { retBounds: strBounds(2) }),
  int(46, [ctx]),
  int(47, [ctx]),
  int(48, [ctx, any]),
  int(49, [ctx, any, any, memRo, size]),
  int(50, [ctx, any, any, any]),
  int(51, [map, any, any]),
  int(52, [ctx, map, any, any]),
  int(53, [ctx, map, key, any]),
  int(54, [ctx, any]),
  gpl(55, [map, any, uninit, size]),
  gpl(56, [ctx, uninit, size]),
  int(57, [ctx, any, any, uninit, size]),
  gpl(58, [ctx, any]),
  int(59, [ctx, any]),
  int(60, [ctx, map, any, any]),
  int(61, [ctx, any]),
  int(62, [ctx, any]),
  int(63, [ctx, any, any, any]),
  int(64, [ctx, memRo, size]),
  int(65, [ctx, any]),
  int(66, [ctx, any, uninit, size, any]),
  gpl(67, [ctx, uninit, size0, any], { retBounds: strBounds(3) }),
  int(68, [ctx, any, uninit, size, any]),
  gpl(69, [ctx, mem, size, any]),
  int(70, [ctx, map, key, any]),
  int(71, [ctx, map, key, any]),
  int(72, [ctx, map, key, any]),
  int(73, [ctx, any, memRo, size]),
  int(74, [ctx, any, memRo, size]),
  int(75, [ctx, any, any]),
  int(76, [ctx, any, memRo, size]),
  gpl(77, [ctx]),
  gpl(78, [ctx, any, any, any]),
  int(79, [ctx]),
  int(80),
  h(81, 'RET_PTR_TO_MAP_VALUE', [map, any]),
  int(82, [ctx, map, key, any]),
  int(83, [ctx, any]),
  h(84, 'RET_PTR_TO_SOCKET', [ctx, memRo, size, any, any], { retMaybeNull: true, pktAccess: true, acquires: true }),
  h(85, 'RET_PTR_TO_SOCKET', [ctx, memRo, size, any, any], { retMaybeNull: true, pktAccess: true, acquires: true }),
  int(86, [{ ...btfSockCommon, release: true }]),
  int(87, [map, value, any], { pktAccess: true }),
  int(88, [map, uninitValue]),
  int(89, [map, uninitValue]),
  int(90, [ctx, any, any, any]),
  int(91, [ctx, any, any, any]),
  gpl(92, [ctx, any, any]),
  h(93, 'RET_VOID', [spinLock]),
  h(94, 'RET_VOID', [spinLock]),
  h(95, 'RET_PTR_TO_SOCKET', [sockCommon], { retMaybeNull: true, ptrCast: true }),
  h(96, 'RET_PTR_TO_TCP_SOCK', [sockCommon], { retMaybeNull: true, ptrCast: true }),
  int(97, [ctx]),
  h(98, 'RET_PTR_TO_SOCKET', [sockCommon], { retMaybeNull: true }),
  h(99, 'RET_PTR_TO_SOCK_COMMON', [ctx, memRo, size, any, any], { retMaybeNull: true, pktAccess: true, acquires: true }),
  gpl(100, [btfSockCommon, memRo, size, memRo, size], { pktAccess: true }),
  int(101, [ctx, memWrite, size, any]),
  int(102, [ctx, memWrite, size]),
  int(103, [ctx, memWrite, size]),
  int(104, [ctx, memRo, size]),
  int(105, [memRo, size, any, out(8)]),
  int(106, [memRo, size, any, out(8)]),
  h(107, 'RET_PTR_TO_MAP_VALUE', [map, btfSockCommon, valueOrNull, any], { retMaybeNull: true }),
  int(108, [map, btfSockCommon]),
  int(109, [any]),
  gpl(110, [btfSockCommon, memRo, size, memRo, size], { pktAccess: true }),
  gpl(111, [btf('sk_buff'), map, any, memRo, size0]),
  gpl(112, [uninit, size0, any]),
  gpl(113, [uninit, size0, any]),
  gpl(114, [uninit, size0, any], { retBounds: strBounds(2) }),
  gpl(115, [uninit, size0, any], { retBounds: strBounds(2) }),
  int(116, [btf('tcp_sock'), any]),
  int(117, [any]),
  int(118),
  gpl(119, [ctx, memOrNull, size0, any]),
  int(120, [any, any, uninit, size]),
  gpl(121, [btf('xdp_buff'), map, any, memRo, size0]),
  int(122, [ctxOrNull]),
  int(123, [any]),
  int(124, [ctx, btfSockCommon, any]),
  int(125),
  gpl(126, [btf('seq_file'), memRo, size, memRoOrNull, size0]),
  gpl(127, [btf('seq_file'), memRo, size0]),
  int(128, [btfSockCommon]),
  int(129, [btfSockCommon, any]),
  int(130, [map, memRo, size0, any]),
  h(131, 'RET_PTR_TO_MEM', [map, allocSize0, any], { retMaybeNull: true, retRingbuf: true, retSizeArg: 2, acquires: true }),
  h(132, 'RET_VOID', [{ type: 'ARG_PTR_TO_RINGBUF_MEM', release: true }, any]),
  h(133, 'RET_VOID', [{ type: 'ARG_PTR_TO_RINGBUF_MEM', release: true }, any]),
  int(134, [map, any]),
  int(135, [ctx, any]),
  skc(136, 'tcp6_sock'),
  skc(137, 'tcp_sock'),
  skc(138, 'tcp_timewait_sock'),
  skc(139, 'tcp_request_sock'),
  skc(140, 'udp6_sock'),
  int(141, [btf('task_struct'), uninit, size0, any], { retBounds: strBounds(3) }),
  int(142, [ctx, memWrite, size, any]),
  int(143, [ctx, memRo, size, any]),
  int(144, [ctx, any, any]),
  h(145, 'RET_PTR_TO_MAP_VALUE', [map, btf('inode', { maybeNull: true }), valueOrNull, any], { retMaybeNull: true }),
  int(146, [map, btf('inode', { maybeNull: true })]),
  int(147, [btf('path'), memWrite, size0]),
  int(148, [uninit, size0, any], { mightSleep: true }),
  int(149, [memWrite, size, memRo, size, any]),
  gpl(150, [btf('seq_file'), memRo, size0, any]),
  int(151, [ctx]),
  int(152, [any, memRoOrNull, size0, any]),
  h(153, 'RET_PTR_TO_MEM_OR_BTF_ID', [percpuBtf, any], { retMaybeNull: true, retRdonly: true }),
  h(154, 'RET_PTR_TO_MEM_OR_BTF_ID', [percpuBtf], { retRdonly: true }),
  int(155, [any, any]),
  h(156, 'RET_PTR_TO_MAP_VALUE', [map, btf('task_struct', { maybeNull: true }), valueOrNull, any], { retMaybeNull: true }),
  int(157, [map, btf('task_struct', { maybeNull: true })]),
  h(158, 'RET_PTR_TO_BTF_ID', [], { gplOnly: true, retBtfId: 'task_struct', retTrusted: true }),
  int(159, [btf('linux_binprm'), any]),
  int(160),
  int(161, [btf('inode'), uninit, size], { mightSleep: true }),
  btfRet(162, 'socket', [btf('file')]),
  gpl(163, [ctx, any, out(4, true), any, any]),
  int(164, [map, func, stackOrNull, any], {
    callback: cb(2, [{ kind: 'map_ptr' }, { kind: 'map_key' }, { kind: 'map_value' }, { kind: 'helper_arg', arg: 3 }, { kind: 'not_init' }]),
  }),
  gpl(165, [memOrNull, size0, constStr, memRoOrNull, size0]),
  int(166, [any, memRo, size]),
  int(167, [memRo, size, any, any]),
  int(168, [any]),
  gpl(169, [timer, map, any]),
  gpl(170, [timer, func], {
    callback: cb(2, [{ kind: 'map_ptr' }, { kind: 'map_key' }, { kind: 'map_value' }, { kind: 'not_init' }, { kind: 'not_init' }], 0),
  }),
  gpl(171, [timer, any, any]),
  gpl(172, [timer]),
  gpl(173, [ctx]),
  int(174, [ctx]),
  h(175, 'RET_PTR_TO_BTF_ID', [btf('task_struct')], { gplOnly: true, retBtfId: 'pt_regs' }),
  gpl(176, [uninit, size0, any]),
  gpl(177, [memRo, size, memRoOrNull, size0]),
  skc(178, 'unix_sock'),
  int(179, [mem, size0, any, out(8)]),
  int(180, [btf('task_struct'), any, func, stackOrNull, any], {
    callback: cb(3, [{ kind: 'btf_id', struct: 'task_struct' }, { kind: 'btf_id', struct: 'vm_area_struct' }, { kind: 'helper_arg', arg: 4 }, { kind: 'not_init' }, { kind: 'not_init' }]),
  }),
  int(181, [any, func, stackOrNull, any], {
    callback: cb(2, [{ kind: 'scalar' }, { kind: 'helper_arg', arg: 3 }, { kind: 'not_init' }, { kind: 'not_init' }, { kind: 'not_init' }]),
  }),
  int(182, [memRo, size, constStr]),
  gpl(183, [ctx, any, out(8)]),
  gpl(184, [ctx, out(8)]),
  gpl(185, [ctx]),
  int(186),
  int(187, [any]),
  int(188, [ctx]),
  int(189, [ctx, any, uninit, size]),
  int(190, [ctx, any, uninit, size]),
  gpl(191, [uninit, size0, any, btf('task_struct'), any], { mightSleep: true }),
  int(192, [ctx, any, any]),
  int(193, [btf('file'), uninit, size], { mightSleep: true }),
  h(194, 'RET_PTR_TO_BTF_ID', [{ type: 'ARG_KPTR_XCHG_DEST' }, btf('kptr', { maybeNull: true, release: true })], {
    retMaybeNull: true, retBtfId: 'kptr', acquires: true,
  }),
  h(195, 'RET_PTR_TO_MAP_VALUE', [map, key, any], { retMaybeNull: true, pktAccess: true }),
  btfRet(196, 'mptcp_sock', [sockCommon], { ptrCast: true }),
  int(197, [uninit, size0, any, dynptr({ dynptr: 'local', uninit: true, write: true })]),
  int(198, [map, any, any, dynptr({ dynptr: 'ringbuf', uninit: true, write: true })]),
  h(199, 'RET_VOID', [dynptr({ dynptr: 'ringbuf', release: true }), any]),
  h(200, 'RET_VOID', [dynptr({ dynptr: 'ringbuf', release: true }), any]),
  int(201, [uninit, size0, dynptr({ rdonly: true }), any, any]),
  int(202, [dynptr({ rdonly: true }), any, memRo, size0, any]),
  h(203, 'RET_PTR_TO_MEM', [dynptr({ rdonly: true }), any, allocSize0], { retMaybeNull: true, retSizeArg: 3, dynptrRef: true }),
  gpl(204, [fixed(20), mem, size0], { pktAccess: true }),
  gpl(205, [fixed(40), mem, size0], { pktAccess: true }),
  gpl(206, [fixed(20), fixed(20)], { pktAccess: true }),
  gpl(207, [fixed(40), fixed(20)], { pktAccess: true }),
  int(208),
  int(209, [map, func, stackOrNull, any], {
    callback: cb(2, [{ kind: 'dynptr' }, { kind: 'helper_arg', arg: 3 }, { kind: 'not_init' }, { kind: 'not_init' }, { kind: 'not_init' }]),
  }),
  h(210, 'RET_PTR_TO_MAP_VALUE', [map, btf('cgroup', { maybeNull: true }), valueOrNull, any], { retMaybeNull: true }),
  int(211, [map, btf('cgroup', { maybeNull: true })]),
];

const BY_ID: ReadonlyMap<number, HelperProto> = new Map(PROTOS.map((p) => [p.id, p]));

// ---------------------------------------------------------------------------------------------
// Per-type variants: where a *_func_proto callback returns a different proto for the same id

const BTF_CTX_TYPES = [P.BPF_PROG_TYPE_TRACING, P.BPF_PROG_TYPE_LSM, P.BPF_PROG_TYPE_STRUCT_OPS, P.BPF_PROG_TYPE_EXT];
/** Types whose get_cgroup_classid reads the current task (bpf_get_cgroup_classid_curr_proto). */
const CLASSID_OF_CURRENT = [
  P.BPF_PROG_TYPE_SK_MSG, P.BPF_PROG_TYPE_CGROUP_SOCK, P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
  P.BPF_PROG_TYPE_CGROUP_SOCKOPT, P.BPF_PROG_TYPE_CGROUP_SYSCTL, P.BPF_PROG_TYPE_CGROUP_DEVICE,
];

interface Variant {
  types: readonly number[];
  proto: HelperProto;
}

const VARIANTS: ReadonlyMap<number, readonly Variant[]> = new Map([
  [17, [{ types: CLASSID_OF_CURRENT, proto: int(17) }]],
  // bpf_get_socket_ptr_cookie_proto: any socket pointer, or NULL.
  [46, [{ types: [P.BPF_PROG_TYPE_SK_REUSEPORT, ...BTF_CTX_TYPES], proto: int(46, [{ ...btfSockCommon, maybeNull: true }]) }]],
  // bpf_sk_setsockopt_proto / bpf_sk_getsockopt_proto where the ctx is not the socket.
  [49, [{ types: BTF_CTX_TYPES, proto: int(49, [btfSockCommon, any, any, memRo, size]) }]],
  [57, [{ types: BTF_CTX_TYPES, proto: int(57, [btfSockCommon, any, any, uninit, size]) }]],
  // The cgroup/sock_addr lookups run without a packet (bpf_sock_addr_sk_lookup_*_proto).
  ...([84, 85, 99] as const).map((id): [number, Variant[]] => [id, [{
    types: [P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR], proto: { ...BY_ID.get(id)!, pktAccess: undefined },
  }]]),
  [107, [
    { types: [P.BPF_PROG_TYPE_CGROUP_SOCK], proto: h(107, 'RET_PTR_TO_MAP_VALUE', [map, ctx, valueOrNull, any], { retMaybeNull: true }) },
    { types: BTF_CTX_TYPES, proto: h(107, 'RET_PTR_TO_MAP_VALUE', [map, btf('sock_common', { maybeNull: true }), valueOrNull, any], { retMaybeNull: true }) },
  ]],
  [108, [{ types: BTF_CTX_TYPES, proto: int(108, [map, btf('sock_common', { maybeNull: true })]) }]],
  // bpf_sk_lookup_assign_proto.
  [124, [{ types: [P.BPF_PROG_TYPE_SK_LOOKUP], proto: int(124, [ctx, socketOrNull, any]) }]],
  // bpf_xdp_get_buff_len_trace_proto.
  [188, [{ types: BTF_CTX_TYPES, proto: int(188, [btf('xdp_buff')]) }]],
]);

/** The proto the verifier uses for helper `id` called from a program of type `progType`. */
export function helperProto(id: number, progType: number): HelperProto | undefined {
  for (const v of VARIANTS.get(id) ?? []) if (v.types.includes(progType)) return v.proto;
  return BY_ID.get(id);
}

/** Every helper id with a proto (all of enum bpf_func_id but BPF_FUNC_unspec). */
export function helperIds(): number[] {
  return PROTOS.map((p) => p.id);
}

// ---------------------------------------------------------------------------------------------
// The verifier's wording of a wrong argument (check_reg_type)

/**
 * compatible_reg_types: what check_reg_type lists after "expected=" for each argument type, as
 * reg_type_str prints the compatible register types.
 */
export const EXPECTED_TYPES: Readonly<Partial<Record<ArgType, string>>> = {
  ARG_PTR_TO_MAP_KEY: 'fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_',
  ARG_PTR_TO_MAP_VALUE: 'fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_',
  ARG_PTR_TO_MEM: 'fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_',
  ARG_CONST_SIZE: 'scalar',
  ARG_CONST_SIZE_OR_ZERO: 'scalar',
  ARG_CONST_ALLOC_SIZE_OR_ZERO: 'scalar',
  ARG_CONST_MAP_PTR: 'map_ptr',
  ARG_PTR_TO_CTX: 'ctx',
  ARG_PTR_TO_SOCK_COMMON: 'sock_common, sock, tcp_sock, xdp_sock',
  ARG_PTR_TO_BTF_ID_SOCK_COMMON: 'sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_',
  ARG_PTR_TO_SOCKET: 'sock',
  ARG_PTR_TO_BTF_ID: 'ptr_, trusted_ptr_, rcu_ptr_',
  ARG_PTR_TO_SPIN_LOCK: 'map_value, ptr_',
  ARG_PTR_TO_RINGBUF_MEM: 'ringbuf_mem',
  ARG_PTR_TO_PERCPU_BTF_ID: 'percpu_ptr_, percpu_rcu_ptr_, percpu_trusted_ptr_',
  ARG_PTR_TO_FUNC: 'func',
  ARG_PTR_TO_STACK: 'fp',
  ARG_PTR_TO_CONST_STR: 'map_value',
  ARG_PTR_TO_TIMER: 'map_value',
  ARG_KPTR_XCHG_DEST: 'map_value, ptr_',
  ARG_PTR_TO_DYNPTR: 'fp, dynptr_ptr',
};

/**
 * check_reg_type's message for register `regno` of type `actual` (reg_type_str, e.g. "scalar",
 * "fp", "ctx") passed where `arg` is expected.
 */
export function wrongArgTypeMessage(regno: number, actual: string, arg: ArgType): string {
  return `R${regno} type=${actual} expected=${EXPECTED_TYPES[arg]}`;
}
