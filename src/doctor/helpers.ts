// Which helpers a program type may call, and which helpers need a GPL-compatible license. Facts
// from the kernel's get_func_proto callbacks (kernel/bpf/helpers.c bpf_base_func_proto,
// net/core/filter.c sk_filter_func_proto / tc_cls_act_func_proto / xdp_func_proto /
// cg_skb_func_proto / bpf_sk_base_func_proto, kernel/trace/bpf_trace.c bpf_tracing_func_proto /
// kprobe_prog_func_proto / tp_prog_func_proto) and the `.gpl_only = true` helper protos, as of
// Linux 6.x. Names are bpf_func_id names without the bpf_ prefix (src/uapi BPF_FUNC_NAMES).
import { BPF_FUNC_NAMES } from '../uapi/index.js';

/** bpf_base_func_proto: every program type gets these (some only with CAP_BPF/CAP_PERFMON). */
const BASE = [
  'map_lookup_elem', 'map_update_elem', 'map_delete_elem', 'map_push_elem', 'map_pop_elem', 'map_peek_elem',
  'map_lookup_percpu_elem', 'get_prandom_u32', 'get_smp_processor_id', 'get_numa_node_id', 'tail_call',
  'ktime_get_ns', 'ktime_get_boot_ns', 'ktime_get_coarse_ns', 'ktime_get_tai_ns', 'ringbuf_output',
  'ringbuf_reserve', 'ringbuf_submit', 'ringbuf_discard', 'ringbuf_query', 'ringbuf_reserve_dynptr',
  'ringbuf_submit_dynptr', 'ringbuf_discard_dynptr', 'for_each_map_elem', 'loop', 'strncmp', 'spin_lock',
  'spin_unlock', 'jiffies64', 'per_cpu_ptr', 'this_cpu_ptr', 'timer_init', 'timer_set_callback',
  'timer_start', 'timer_cancel', 'trace_printk', 'trace_vprintk', 'snprintf', 'snprintf_btf',
  'probe_read_user', 'probe_read_kernel', 'probe_read_user_str', 'probe_read_kernel_str', 'get_current_task',
  'get_current_task_btf', 'kptr_xchg', 'dynptr_from_mem', 'dynptr_read', 'dynptr_write', 'dynptr_data',
  'user_ringbuf_drain', 'cgrp_storage_get', 'cgrp_storage_delete', 'task_storage_get', 'task_storage_delete',
];

/** bpf_sk_base_func_proto: socket casts and cookies for networking programs. */
const SK_BASE = [
  'skc_to_tcp6_sock', 'skc_to_tcp_sock', 'skc_to_tcp_timewait_sock', 'skc_to_tcp_request_sock',
  'skc_to_udp6_sock', 'skc_to_unix_sock', 'skc_to_mptcp_sock', 'sock_from_file', 'get_socket_cookie',
  'ktime_get_coarse_ns',
];

const SK_FILTER = ['skb_load_bytes', 'skb_load_bytes_relative', 'get_socket_cookie', 'get_socket_uid', 'perf_event_output'];

const TC = [
  'skb_store_bytes', 'skb_load_bytes', 'skb_load_bytes_relative', 'skb_pull_data', 'csum_diff', 'csum_update',
  'csum_level', 'l3_csum_replace', 'l4_csum_replace', 'clone_redirect', 'get_cgroup_classid', 'skb_vlan_push',
  'skb_vlan_pop', 'skb_change_proto', 'skb_change_type', 'skb_adjust_room', 'skb_change_tail', 'skb_change_head',
  'skb_get_tunnel_key', 'skb_set_tunnel_key', 'skb_get_tunnel_opt', 'skb_set_tunnel_opt', 'redirect',
  'redirect_neigh', 'redirect_peer', 'get_route_realm', 'get_hash_recalc', 'set_hash_invalid', 'set_hash',
  'perf_event_output', 'skb_under_cgroup', 'get_socket_cookie', 'get_socket_uid', 'fib_lookup', 'check_mtu',
  'sk_fullsock', 'sk_storage_get', 'sk_storage_delete', 'skb_get_xfrm_state', 'skb_cgroup_classid',
  'skb_cgroup_id', 'skb_ancestor_cgroup_id', 'sk_lookup_tcp', 'sk_lookup_udp', 'sk_release', 'tcp_sock',
  'get_listener_sock', 'skc_lookup_tcp', 'tcp_check_syncookie', 'skb_ecn_set_ce', 'tcp_gen_syncookie',
  'sk_assign', 'skb_set_tstamp', 'tcp_raw_gen_syncookie_ipv4', 'tcp_raw_gen_syncookie_ipv6',
  'tcp_raw_check_syncookie_ipv4', 'tcp_raw_check_syncookie_ipv6', 'skb_output',
];

const XDP = [
  'perf_event_output', 'csum_diff', 'xdp_adjust_head', 'xdp_adjust_meta', 'redirect', 'redirect_map',
  'xdp_adjust_tail', 'fib_lookup', 'check_mtu', 'sk_lookup_udp', 'sk_lookup_tcp', 'sk_release', 'skc_lookup_tcp',
  'tcp_check_syncookie', 'tcp_gen_syncookie', 'xdp_get_buff_len', 'xdp_load_bytes', 'xdp_store_bytes',
  'tcp_raw_gen_syncookie_ipv4', 'tcp_raw_gen_syncookie_ipv6', 'tcp_raw_check_syncookie_ipv4',
  'tcp_raw_check_syncookie_ipv6', 'xdp_output',
];

/** cgroup_common_func_proto plus the current-task helpers cgroup programs get. */
const CGROUP_COMMON = [
  'get_local_storage', 'get_retval', 'set_retval', 'get_current_uid_gid', 'get_current_pid_tgid',
  'get_current_comm', 'get_current_cgroup_id', 'get_current_ancestor_cgroup_id', 'get_cgroup_classid',
  'perf_event_output',
];

const CGROUP_SKB = [
  ...SK_FILTER, ...CGROUP_COMMON, 'sk_fullsock', 'sk_storage_get', 'sk_storage_delete', 'skb_cgroup_id',
  'skb_ancestor_cgroup_id', 'sk_cgroup_id', 'sk_ancestor_cgroup_id', 'tcp_sock', 'get_listener_sock',
  'skb_ecn_set_ce', 'skb_cgroup_classid',
];

/** bpf_tracing_func_proto: kprobes, tracepoints, perf events and raw tracepoints share it. */
const TRACING = [
  'probe_read', 'probe_read_str', 'get_current_pid_tgid', 'get_current_uid_gid', 'get_current_comm',
  'perf_event_read', 'perf_event_output', 'get_stackid', 'get_stack', 'probe_write_user',
  'current_task_under_cgroup', 'perf_event_read_value', 'get_current_cgroup_id',
  'get_current_ancestor_cgroup_id', 'send_signal', 'send_signal_thread', 'get_ns_current_pid_tgid',
  'get_task_stack', 'copy_from_user', 'copy_from_user_task', 'get_func_ip', 'get_attach_cookie',
  'get_branch_snapshot', 'find_vma', 'task_pt_regs', 'get_current_task', 'get_current_task_btf',
  'sk_storage_get', 'sk_storage_delete', 'ringbuf_output', 'get_func_arg', 'get_func_ret', 'get_func_arg_cnt',
  'read_branch_records', 'get_cgroup_classid',
];

/**
 * Helpers whose proto returns RET_VOID: r0 holds nothing after the call (a later `exit` without
 * setting r0 is "R0 !read_ok").
 */
export const VOID_HELPERS: ReadonlySet<string> = new Set([
  'tail_call', 'spin_lock', 'spin_unlock', 'ringbuf_submit', 'ringbuf_discard', 'ringbuf_submit_dynptr',
  'ringbuf_discard_dynptr', 'set_hash_invalid',
]);

/**
 * Helper names each program type may call, by the bpf_prog_type name. bpf_override_return is left
 * out: kprobes get it only from kernels built with CONFIG_BPF_KPROBE_OVERRIDE (Debian's are not).
 */
export const HELPERS_BY_PROG_TYPE: Readonly<Record<string, ReadonlySet<string>>> = {
  BPF_PROG_TYPE_SOCKET_FILTER: new Set([...BASE, ...SK_BASE, ...SK_FILTER]),
  BPF_PROG_TYPE_SCHED_CLS: new Set([...BASE, ...SK_BASE, ...TC]),
  BPF_PROG_TYPE_SCHED_ACT: new Set([...BASE, ...SK_BASE, ...TC]),
  BPF_PROG_TYPE_XDP: new Set([...BASE, ...SK_BASE, ...XDP]),
  BPF_PROG_TYPE_CGROUP_SKB: new Set([...BASE, ...SK_BASE, ...CGROUP_SKB]),
  BPF_PROG_TYPE_KPROBE: new Set([...BASE, ...TRACING]),
  BPF_PROG_TYPE_TRACEPOINT: new Set([...BASE, ...TRACING]),
};

/** Helpers whose proto has `.gpl_only = true`: a non-GPL program may not call them. */
export const GPL_ONLY_HELPERS: ReadonlySet<string> = new Set([
  'probe_read', 'trace_printk', 'perf_event_read', 'perf_event_output', 'get_stackid', 'get_current_task',
  'probe_write_user', 'probe_read_str', 'perf_event_read_value', 'perf_prog_read_value', 'override_return',
  'get_stack', 'skb_output', 'probe_read_user', 'probe_read_kernel', 'probe_read_user_str',
  'probe_read_kernel_str', 'read_branch_records', 'xdp_output', 'seq_printf', 'seq_write', 'seq_printf_btf',
  'get_task_stack', 'copy_from_user', 'get_current_task_btf', 'task_pt_regs', 'get_branch_snapshot',
  'trace_vprintk', 'copy_from_user_task',
]);

/** include/linux/license.h: license_is_gpl_compatible. */
export const GPL_COMPATIBLE_LICENSES: ReadonlySet<string> = new Set([
  'GPL', 'GPL v2', 'GPL and additional rights', 'Dual BSD/GPL', 'Dual MIT/GPL', 'Dual MPL/GPL',
]);

/** The helper's name for an id (without bpf_), or undefined when the id is unknown. */
export function helperByID(id: number): string | undefined {
  return id > 0 ? BPF_FUNC_NAMES[id] : undefined;
}

/** Whether `progType` may call helper `id`; undefined when bpfts has no table for the type. */
export function helperAllowed(progType: string, id: number): boolean | undefined {
  const allowed = HELPERS_BY_PROG_TYPE[progType];
  const name = helperByID(id);
  if (!allowed || name === undefined) return undefined;
  return allowed.has(name);
}
