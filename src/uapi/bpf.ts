// Kernel uapi constants shared by the loader and the emulator, named exactly as in
// include/uapi/linux/bpf.h (enum bpf_map_type, enum bpf_func_id / ___BPF_FUNC_MAPPER, enum xdp_action, update, map and helper flags).
// Values up to Linux 6.1 come from that header; later additions are marked with their release.

/** enum bpf_map_type. */
export const BPF_MAP_TYPE_UNSPEC = 0;
export const BPF_MAP_TYPE_HASH = 1;
export const BPF_MAP_TYPE_ARRAY = 2;
export const BPF_MAP_TYPE_PROG_ARRAY = 3;
export const BPF_MAP_TYPE_PERF_EVENT_ARRAY = 4;
export const BPF_MAP_TYPE_PERCPU_HASH = 5;
export const BPF_MAP_TYPE_PERCPU_ARRAY = 6;
export const BPF_MAP_TYPE_STACK_TRACE = 7;
export const BPF_MAP_TYPE_CGROUP_ARRAY = 8;
export const BPF_MAP_TYPE_LRU_HASH = 9;
export const BPF_MAP_TYPE_LRU_PERCPU_HASH = 10;
export const BPF_MAP_TYPE_LPM_TRIE = 11;
export const BPF_MAP_TYPE_ARRAY_OF_MAPS = 12;
export const BPF_MAP_TYPE_HASH_OF_MAPS = 13;
export const BPF_MAP_TYPE_DEVMAP = 14;
export const BPF_MAP_TYPE_SOCKMAP = 15;
export const BPF_MAP_TYPE_CPUMAP = 16;
export const BPF_MAP_TYPE_XSKMAP = 17;
export const BPF_MAP_TYPE_SOCKHASH = 18;
export const BPF_MAP_TYPE_CGROUP_STORAGE = 19;
export const BPF_MAP_TYPE_REUSEPORT_SOCKARRAY = 20;
export const BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE = 21;
export const BPF_MAP_TYPE_QUEUE = 22;
export const BPF_MAP_TYPE_STACK = 23;
export const BPF_MAP_TYPE_SK_STORAGE = 24;
export const BPF_MAP_TYPE_DEVMAP_HASH = 25;
export const BPF_MAP_TYPE_STRUCT_OPS = 26;
export const BPF_MAP_TYPE_RINGBUF = 27;
export const BPF_MAP_TYPE_INODE_STORAGE = 28;
export const BPF_MAP_TYPE_TASK_STORAGE = 29;
export const BPF_MAP_TYPE_BLOOM_FILTER = 30;
export const BPF_MAP_TYPE_USER_RINGBUF = 31;
export const BPF_MAP_TYPE_CGRP_STORAGE = 32; // Linux 6.2
export const BPF_MAP_TYPE_ARENA = 33; // Linux 6.9

/** Names of enum bpf_map_type values, indexed by value. */
export const BPF_MAP_TYPE_NAMES: readonly string[] = [
  'BPF_MAP_TYPE_UNSPEC',
  'BPF_MAP_TYPE_HASH',
  'BPF_MAP_TYPE_ARRAY',
  'BPF_MAP_TYPE_PROG_ARRAY',
  'BPF_MAP_TYPE_PERF_EVENT_ARRAY',
  'BPF_MAP_TYPE_PERCPU_HASH',
  'BPF_MAP_TYPE_PERCPU_ARRAY',
  'BPF_MAP_TYPE_STACK_TRACE',
  'BPF_MAP_TYPE_CGROUP_ARRAY',
  'BPF_MAP_TYPE_LRU_HASH',
  'BPF_MAP_TYPE_LRU_PERCPU_HASH',
  'BPF_MAP_TYPE_LPM_TRIE',
  'BPF_MAP_TYPE_ARRAY_OF_MAPS',
  'BPF_MAP_TYPE_HASH_OF_MAPS',
  'BPF_MAP_TYPE_DEVMAP',
  'BPF_MAP_TYPE_SOCKMAP',
  'BPF_MAP_TYPE_CPUMAP',
  'BPF_MAP_TYPE_XSKMAP',
  'BPF_MAP_TYPE_SOCKHASH',
  'BPF_MAP_TYPE_CGROUP_STORAGE',
  'BPF_MAP_TYPE_REUSEPORT_SOCKARRAY',
  'BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE',
  'BPF_MAP_TYPE_QUEUE',
  'BPF_MAP_TYPE_STACK',
  'BPF_MAP_TYPE_SK_STORAGE',
  'BPF_MAP_TYPE_DEVMAP_HASH',
  'BPF_MAP_TYPE_STRUCT_OPS',
  'BPF_MAP_TYPE_RINGBUF',
  'BPF_MAP_TYPE_INODE_STORAGE',
  'BPF_MAP_TYPE_TASK_STORAGE',
  'BPF_MAP_TYPE_BLOOM_FILTER',
  'BPF_MAP_TYPE_USER_RINGBUF',
  'BPF_MAP_TYPE_CGRP_STORAGE',
  'BPF_MAP_TYPE_ARENA',
];

/** Map types whose values user space reads and writes as one roundup(value_size, 8) slot per possible CPU (kernel/bpf/syscall.c bpf_map_value_size). */
export const PERCPU_MAP_TYPES: ReadonlySet<number> = new Set([
  BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_LRU_PERCPU_HASH, BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE,
]);

/** enum bpf_func_id: helper ids (BPF_FUNC_<name>). */
export const BPF_FUNC_unspec = 0;
export const BPF_FUNC_map_lookup_elem = 1;
export const BPF_FUNC_map_update_elem = 2;
export const BPF_FUNC_map_delete_elem = 3;
export const BPF_FUNC_probe_read = 4;
export const BPF_FUNC_ktime_get_ns = 5;
export const BPF_FUNC_trace_printk = 6;
export const BPF_FUNC_get_prandom_u32 = 7;
export const BPF_FUNC_get_smp_processor_id = 8;
export const BPF_FUNC_skb_store_bytes = 9;
export const BPF_FUNC_l3_csum_replace = 10;
export const BPF_FUNC_l4_csum_replace = 11;
export const BPF_FUNC_tail_call = 12;
export const BPF_FUNC_clone_redirect = 13;
export const BPF_FUNC_get_current_pid_tgid = 14;
export const BPF_FUNC_get_current_uid_gid = 15;
export const BPF_FUNC_get_current_comm = 16;
export const BPF_FUNC_get_cgroup_classid = 17;
export const BPF_FUNC_skb_vlan_push = 18;
export const BPF_FUNC_skb_vlan_pop = 19;
export const BPF_FUNC_skb_get_tunnel_key = 20;
export const BPF_FUNC_skb_set_tunnel_key = 21;
export const BPF_FUNC_perf_event_read = 22;
export const BPF_FUNC_redirect = 23;
export const BPF_FUNC_get_route_realm = 24;
export const BPF_FUNC_perf_event_output = 25;
export const BPF_FUNC_skb_load_bytes = 26;
export const BPF_FUNC_get_stackid = 27;
export const BPF_FUNC_csum_diff = 28;
export const BPF_FUNC_skb_get_tunnel_opt = 29;
export const BPF_FUNC_skb_set_tunnel_opt = 30;
export const BPF_FUNC_skb_change_proto = 31;
export const BPF_FUNC_skb_change_type = 32;
export const BPF_FUNC_skb_under_cgroup = 33;
export const BPF_FUNC_get_hash_recalc = 34;
export const BPF_FUNC_get_current_task = 35;
export const BPF_FUNC_probe_write_user = 36;
export const BPF_FUNC_current_task_under_cgroup = 37;
export const BPF_FUNC_skb_change_tail = 38;
export const BPF_FUNC_skb_pull_data = 39;
export const BPF_FUNC_csum_update = 40;
export const BPF_FUNC_set_hash_invalid = 41;
export const BPF_FUNC_get_numa_node_id = 42;
export const BPF_FUNC_skb_change_head = 43;
export const BPF_FUNC_xdp_adjust_head = 44;
export const BPF_FUNC_probe_read_str = 45;
export const BPF_FUNC_get_socket_cookie = 46;
export const BPF_FUNC_get_socket_uid = 47;
export const BPF_FUNC_set_hash = 48;
export const BPF_FUNC_setsockopt = 49;
export const BPF_FUNC_skb_adjust_room = 50;
export const BPF_FUNC_redirect_map = 51;
export const BPF_FUNC_sk_redirect_map = 52;
export const BPF_FUNC_sock_map_update = 53;
export const BPF_FUNC_xdp_adjust_meta = 54;
export const BPF_FUNC_perf_event_read_value = 55;
export const BPF_FUNC_perf_prog_read_value = 56;
export const BPF_FUNC_getsockopt = 57;
export const BPF_FUNC_override_return = 58;
export const BPF_FUNC_sock_ops_cb_flags_set = 59;
export const BPF_FUNC_msg_redirect_map = 60;
export const BPF_FUNC_msg_apply_bytes = 61;
export const BPF_FUNC_msg_cork_bytes = 62;
export const BPF_FUNC_msg_pull_data = 63;
export const BPF_FUNC_bind = 64;
export const BPF_FUNC_xdp_adjust_tail = 65;
export const BPF_FUNC_skb_get_xfrm_state = 66;
export const BPF_FUNC_get_stack = 67;
export const BPF_FUNC_skb_load_bytes_relative = 68;
export const BPF_FUNC_fib_lookup = 69;
export const BPF_FUNC_sock_hash_update = 70;
export const BPF_FUNC_msg_redirect_hash = 71;
export const BPF_FUNC_sk_redirect_hash = 72;
export const BPF_FUNC_lwt_push_encap = 73;
export const BPF_FUNC_lwt_seg6_store_bytes = 74;
export const BPF_FUNC_lwt_seg6_adjust_srh = 75;
export const BPF_FUNC_lwt_seg6_action = 76;
export const BPF_FUNC_rc_repeat = 77;
export const BPF_FUNC_rc_keydown = 78;
export const BPF_FUNC_skb_cgroup_id = 79;
export const BPF_FUNC_get_current_cgroup_id = 80;
export const BPF_FUNC_get_local_storage = 81;
export const BPF_FUNC_sk_select_reuseport = 82;
export const BPF_FUNC_skb_ancestor_cgroup_id = 83;
export const BPF_FUNC_sk_lookup_tcp = 84;
export const BPF_FUNC_sk_lookup_udp = 85;
export const BPF_FUNC_sk_release = 86;
export const BPF_FUNC_map_push_elem = 87;
export const BPF_FUNC_map_pop_elem = 88;
export const BPF_FUNC_map_peek_elem = 89;
export const BPF_FUNC_msg_push_data = 90;
export const BPF_FUNC_msg_pop_data = 91;
export const BPF_FUNC_rc_pointer_rel = 92;
export const BPF_FUNC_spin_lock = 93;
export const BPF_FUNC_spin_unlock = 94;
export const BPF_FUNC_sk_fullsock = 95;
export const BPF_FUNC_tcp_sock = 96;
export const BPF_FUNC_skb_ecn_set_ce = 97;
export const BPF_FUNC_get_listener_sock = 98;
export const BPF_FUNC_skc_lookup_tcp = 99;
export const BPF_FUNC_tcp_check_syncookie = 100;
export const BPF_FUNC_sysctl_get_name = 101;
export const BPF_FUNC_sysctl_get_current_value = 102;
export const BPF_FUNC_sysctl_get_new_value = 103;
export const BPF_FUNC_sysctl_set_new_value = 104;
export const BPF_FUNC_strtol = 105;
export const BPF_FUNC_strtoul = 106;
export const BPF_FUNC_sk_storage_get = 107;
export const BPF_FUNC_sk_storage_delete = 108;
export const BPF_FUNC_send_signal = 109;
export const BPF_FUNC_tcp_gen_syncookie = 110;
export const BPF_FUNC_skb_output = 111;
export const BPF_FUNC_probe_read_user = 112;
export const BPF_FUNC_probe_read_kernel = 113;
export const BPF_FUNC_probe_read_user_str = 114;
export const BPF_FUNC_probe_read_kernel_str = 115;
export const BPF_FUNC_tcp_send_ack = 116;
export const BPF_FUNC_send_signal_thread = 117;
export const BPF_FUNC_jiffies64 = 118;
export const BPF_FUNC_read_branch_records = 119;
export const BPF_FUNC_get_ns_current_pid_tgid = 120;
export const BPF_FUNC_xdp_output = 121;
export const BPF_FUNC_get_netns_cookie = 122;
export const BPF_FUNC_get_current_ancestor_cgroup_id = 123;
export const BPF_FUNC_sk_assign = 124;
export const BPF_FUNC_ktime_get_boot_ns = 125;
export const BPF_FUNC_seq_printf = 126;
export const BPF_FUNC_seq_write = 127;
export const BPF_FUNC_sk_cgroup_id = 128;
export const BPF_FUNC_sk_ancestor_cgroup_id = 129;
export const BPF_FUNC_ringbuf_output = 130;
export const BPF_FUNC_ringbuf_reserve = 131;
export const BPF_FUNC_ringbuf_submit = 132;
export const BPF_FUNC_ringbuf_discard = 133;
export const BPF_FUNC_ringbuf_query = 134;
export const BPF_FUNC_csum_level = 135;
export const BPF_FUNC_skc_to_tcp6_sock = 136;
export const BPF_FUNC_skc_to_tcp_sock = 137;
export const BPF_FUNC_skc_to_tcp_timewait_sock = 138;
export const BPF_FUNC_skc_to_tcp_request_sock = 139;
export const BPF_FUNC_skc_to_udp6_sock = 140;
export const BPF_FUNC_get_task_stack = 141;
export const BPF_FUNC_load_hdr_opt = 142;
export const BPF_FUNC_store_hdr_opt = 143;
export const BPF_FUNC_reserve_hdr_opt = 144;
export const BPF_FUNC_inode_storage_get = 145;
export const BPF_FUNC_inode_storage_delete = 146;
export const BPF_FUNC_d_path = 147;
export const BPF_FUNC_copy_from_user = 148;
export const BPF_FUNC_snprintf_btf = 149;
export const BPF_FUNC_seq_printf_btf = 150;
export const BPF_FUNC_skb_cgroup_classid = 151;
export const BPF_FUNC_redirect_neigh = 152;
export const BPF_FUNC_per_cpu_ptr = 153;
export const BPF_FUNC_this_cpu_ptr = 154;
export const BPF_FUNC_redirect_peer = 155;
export const BPF_FUNC_task_storage_get = 156;
export const BPF_FUNC_task_storage_delete = 157;
export const BPF_FUNC_get_current_task_btf = 158;
export const BPF_FUNC_bprm_opts_set = 159;
export const BPF_FUNC_ktime_get_coarse_ns = 160;
export const BPF_FUNC_ima_inode_hash = 161;
export const BPF_FUNC_sock_from_file = 162;
export const BPF_FUNC_check_mtu = 163;
export const BPF_FUNC_for_each_map_elem = 164;
export const BPF_FUNC_snprintf = 165;
export const BPF_FUNC_sys_bpf = 166;
export const BPF_FUNC_btf_find_by_name_kind = 167;
export const BPF_FUNC_sys_close = 168;
export const BPF_FUNC_timer_init = 169;
export const BPF_FUNC_timer_set_callback = 170;
export const BPF_FUNC_timer_start = 171;
export const BPF_FUNC_timer_cancel = 172;
export const BPF_FUNC_get_func_ip = 173;
export const BPF_FUNC_get_attach_cookie = 174;
export const BPF_FUNC_task_pt_regs = 175;
export const BPF_FUNC_get_branch_snapshot = 176;
export const BPF_FUNC_trace_vprintk = 177;
export const BPF_FUNC_skc_to_unix_sock = 178;
export const BPF_FUNC_kallsyms_lookup_name = 179;
export const BPF_FUNC_find_vma = 180;
export const BPF_FUNC_loop = 181;
export const BPF_FUNC_strncmp = 182;
export const BPF_FUNC_get_func_arg = 183;
export const BPF_FUNC_get_func_ret = 184;
export const BPF_FUNC_get_func_arg_cnt = 185;
export const BPF_FUNC_get_retval = 186;
export const BPF_FUNC_set_retval = 187;
export const BPF_FUNC_xdp_get_buff_len = 188;
export const BPF_FUNC_xdp_load_bytes = 189;
export const BPF_FUNC_xdp_store_bytes = 190;
export const BPF_FUNC_copy_from_user_task = 191;
export const BPF_FUNC_skb_set_tstamp = 192;
export const BPF_FUNC_ima_file_hash = 193;
export const BPF_FUNC_kptr_xchg = 194;
export const BPF_FUNC_map_lookup_percpu_elem = 195;
export const BPF_FUNC_skc_to_mptcp_sock = 196;
export const BPF_FUNC_dynptr_from_mem = 197;
export const BPF_FUNC_ringbuf_reserve_dynptr = 198;
export const BPF_FUNC_ringbuf_submit_dynptr = 199;
export const BPF_FUNC_ringbuf_discard_dynptr = 200;
export const BPF_FUNC_dynptr_read = 201;
export const BPF_FUNC_dynptr_write = 202;
export const BPF_FUNC_dynptr_data = 203;
export const BPF_FUNC_tcp_raw_gen_syncookie_ipv4 = 204;
export const BPF_FUNC_tcp_raw_gen_syncookie_ipv6 = 205;
export const BPF_FUNC_tcp_raw_check_syncookie_ipv4 = 206;
export const BPF_FUNC_tcp_raw_check_syncookie_ipv6 = 207;
export const BPF_FUNC_ktime_get_tai_ns = 208;
export const BPF_FUNC_user_ringbuf_drain = 209;
export const BPF_FUNC_cgrp_storage_get = 210; // Linux 6.2
export const BPF_FUNC_cgrp_storage_delete = 211; // Linux 6.2

/** Helper names (without the bpf_ prefix), indexed by id. */
export const BPF_FUNC_NAMES: readonly string[] = [
  'unspec',
  'map_lookup_elem',
  'map_update_elem',
  'map_delete_elem',
  'probe_read',
  'ktime_get_ns',
  'trace_printk',
  'get_prandom_u32',
  'get_smp_processor_id',
  'skb_store_bytes',
  'l3_csum_replace',
  'l4_csum_replace',
  'tail_call',
  'clone_redirect',
  'get_current_pid_tgid',
  'get_current_uid_gid',
  'get_current_comm',
  'get_cgroup_classid',
  'skb_vlan_push',
  'skb_vlan_pop',
  'skb_get_tunnel_key',
  'skb_set_tunnel_key',
  'perf_event_read',
  'redirect',
  'get_route_realm',
  'perf_event_output',
  'skb_load_bytes',
  'get_stackid',
  'csum_diff',
  'skb_get_tunnel_opt',
  'skb_set_tunnel_opt',
  'skb_change_proto',
  'skb_change_type',
  'skb_under_cgroup',
  'get_hash_recalc',
  'get_current_task',
  'probe_write_user',
  'current_task_under_cgroup',
  'skb_change_tail',
  'skb_pull_data',
  'csum_update',
  'set_hash_invalid',
  'get_numa_node_id',
  'skb_change_head',
  'xdp_adjust_head',
  'probe_read_str',
  'get_socket_cookie',
  'get_socket_uid',
  'set_hash',
  'setsockopt',
  'skb_adjust_room',
  'redirect_map',
  'sk_redirect_map',
  'sock_map_update',
  'xdp_adjust_meta',
  'perf_event_read_value',
  'perf_prog_read_value',
  'getsockopt',
  'override_return',
  'sock_ops_cb_flags_set',
  'msg_redirect_map',
  'msg_apply_bytes',
  'msg_cork_bytes',
  'msg_pull_data',
  'bind',
  'xdp_adjust_tail',
  'skb_get_xfrm_state',
  'get_stack',
  'skb_load_bytes_relative',
  'fib_lookup',
  'sock_hash_update',
  'msg_redirect_hash',
  'sk_redirect_hash',
  'lwt_push_encap',
  'lwt_seg6_store_bytes',
  'lwt_seg6_adjust_srh',
  'lwt_seg6_action',
  'rc_repeat',
  'rc_keydown',
  'skb_cgroup_id',
  'get_current_cgroup_id',
  'get_local_storage',
  'sk_select_reuseport',
  'skb_ancestor_cgroup_id',
  'sk_lookup_tcp',
  'sk_lookup_udp',
  'sk_release',
  'map_push_elem',
  'map_pop_elem',
  'map_peek_elem',
  'msg_push_data',
  'msg_pop_data',
  'rc_pointer_rel',
  'spin_lock',
  'spin_unlock',
  'sk_fullsock',
  'tcp_sock',
  'skb_ecn_set_ce',
  'get_listener_sock',
  'skc_lookup_tcp',
  'tcp_check_syncookie',
  'sysctl_get_name',
  'sysctl_get_current_value',
  'sysctl_get_new_value',
  'sysctl_set_new_value',
  'strtol',
  'strtoul',
  'sk_storage_get',
  'sk_storage_delete',
  'send_signal',
  'tcp_gen_syncookie',
  'skb_output',
  'probe_read_user',
  'probe_read_kernel',
  'probe_read_user_str',
  'probe_read_kernel_str',
  'tcp_send_ack',
  'send_signal_thread',
  'jiffies64',
  'read_branch_records',
  'get_ns_current_pid_tgid',
  'xdp_output',
  'get_netns_cookie',
  'get_current_ancestor_cgroup_id',
  'sk_assign',
  'ktime_get_boot_ns',
  'seq_printf',
  'seq_write',
  'sk_cgroup_id',
  'sk_ancestor_cgroup_id',
  'ringbuf_output',
  'ringbuf_reserve',
  'ringbuf_submit',
  'ringbuf_discard',
  'ringbuf_query',
  'csum_level',
  'skc_to_tcp6_sock',
  'skc_to_tcp_sock',
  'skc_to_tcp_timewait_sock',
  'skc_to_tcp_request_sock',
  'skc_to_udp6_sock',
  'get_task_stack',
  'load_hdr_opt',
  'store_hdr_opt',
  'reserve_hdr_opt',
  'inode_storage_get',
  'inode_storage_delete',
  'd_path',
  'copy_from_user',
  'snprintf_btf',
  'seq_printf_btf',
  'skb_cgroup_classid',
  'redirect_neigh',
  'per_cpu_ptr',
  'this_cpu_ptr',
  'redirect_peer',
  'task_storage_get',
  'task_storage_delete',
  'get_current_task_btf',
  'bprm_opts_set',
  'ktime_get_coarse_ns',
  'ima_inode_hash',
  'sock_from_file',
  'check_mtu',
  'for_each_map_elem',
  'snprintf',
  'sys_bpf',
  'btf_find_by_name_kind',
  'sys_close',
  'timer_init',
  'timer_set_callback',
  'timer_start',
  'timer_cancel',
  'get_func_ip',
  'get_attach_cookie',
  'task_pt_regs',
  'get_branch_snapshot',
  'trace_vprintk',
  'skc_to_unix_sock',
  'kallsyms_lookup_name',
  'find_vma',
  'loop',
  'strncmp',
  'get_func_arg',
  'get_func_ret',
  'get_func_arg_cnt',
  'get_retval',
  'set_retval',
  'xdp_get_buff_len',
  'xdp_load_bytes',
  'xdp_store_bytes',
  'copy_from_user_task',
  'skb_set_tstamp',
  'ima_file_hash',
  'kptr_xchg',
  'map_lookup_percpu_elem',
  'skc_to_mptcp_sock',
  'dynptr_from_mem',
  'ringbuf_reserve_dynptr',
  'ringbuf_submit_dynptr',
  'ringbuf_discard_dynptr',
  'dynptr_read',
  'dynptr_write',
  'dynptr_data',
  'tcp_raw_gen_syncookie_ipv4',
  'tcp_raw_gen_syncookie_ipv6',
  'tcp_raw_check_syncookie_ipv4',
  'tcp_raw_check_syncookie_ipv6',
  'ktime_get_tai_ns',
  'user_ringbuf_drain',
  'cgrp_storage_get',
  'cgrp_storage_delete',
];

/** Name of helper `id` as C code spells it (bpf_map_lookup_elem), or a placeholder for unknown ids. */
export function helperName(id: number): string {
  const name = BPF_FUNC_NAMES[id];
  return name === undefined || id === 0 ? `unknown helper #${id}` : `bpf_${name}`;
}

/** Flags of BPF_MAP_UPDATE_ELEM and bpf_map_update_elem(). */
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;
export const BPF_F_LOCK = 4;

/** map_flags of BPF_MAP_CREATE. */
export const BPF_F_NO_PREALLOC = 1 << 0;
export const BPF_F_NO_COMMON_LRU = 1 << 1;
export const BPF_F_NUMA_NODE = 1 << 2;
export const BPF_F_RDONLY = 1 << 3;
export const BPF_F_WRONLY = 1 << 4;
export const BPF_F_STACK_BUILD_ID = 1 << 5;
export const BPF_F_ZERO_SEED = 1 << 6;
export const BPF_F_RDONLY_PROG = 1 << 7;
export const BPF_F_WRONLY_PROG = 1 << 8;
export const BPF_F_CLONE = 1 << 9;
export const BPF_F_MMAPABLE = 1 << 10;
/** An inner array map of a map of maps whose max_entries may differ from the template's. */
export const BPF_F_INNER_MAP = 1 << 12;

/** flags of bpf_perf_event_output() and friends. */
export const BPF_F_INDEX_MASK = 0xffffffff;
export const BPF_F_CURRENT_CPU = BPF_F_INDEX_MASK;
/** flags of bpf_get_stackid() and bpf_get_stack(). */
export const BPF_F_SKIP_FIELD_MASK = 0xff;
export const BPF_F_USER_STACK = 1 << 8;
export const BPF_F_FAST_STACK_CMP = 1 << 9;
export const BPF_F_REUSE_STACKID = 1 << 10;
export const BPF_F_USER_BUILD_ID = 1 << 11;
/** Upper 32 bits of bpf_perf_event_output()'s flags for skb programs: packet bytes to append. */
export const BPF_F_CTXLEN_MASK = 0xfffff00000000n;

/** flags of bpf_skb_store_bytes(), bpf_l3_csum_replace() and bpf_l4_csum_replace(). */
export const BPF_F_RECOMPUTE_CSUM = 1 << 0;
export const BPF_F_INVALIDATE_HASH = 1 << 1;
export const BPF_F_HDR_FIELD_MASK = 0xf;
export const BPF_F_PSEUDO_HDR = 1 << 4;
export const BPF_F_MARK_MANGLED_0 = 1 << 5;
export const BPF_F_MARK_ENFORCE = 1 << 6;
export const BPF_F_IPV6 = 1 << 7;
/** flags of bpf_clone_redirect() and bpf_redirect(). */
export const BPF_F_INGRESS = 1 << 0;

/** enum xdp_action: what an XDP program returns. */
export const XDP_ABORTED = 0;
export const XDP_DROP = 1;
export const XDP_PASS = 2;
export const XDP_TX = 3;
export const XDP_REDIRECT = 4;
export const XDP_ACTION_NAMES: Readonly<Record<number, string>> = {
  [XDP_ABORTED]: 'XDP_ABORTED', [XDP_DROP]: 'XDP_DROP', [XDP_PASS]: 'XDP_PASS', [XDP_TX]: 'XDP_TX', [XDP_REDIRECT]: 'XDP_REDIRECT',
};
/** Bytes before the packet in an XDP buffer. */
export const XDP_PACKET_HEADROOM = 256;

/** flags of the bpf_ringbuf_*() helpers. */
export const BPF_RB_NO_WAKEUP = 1 << 0;
export const BPF_RB_FORCE_WAKEUP = 1 << 1;
/** bpf_ringbuf_query() flags. */
export const BPF_RB_AVAIL_DATA = 0;
export const BPF_RB_RING_SIZE = 1;
export const BPF_RB_CONS_POS = 2;
export const BPF_RB_PROD_POS = 3;
/** Ring buffer record header: length word flags and size. */
export const BPF_RINGBUF_BUSY_BIT = 2 ** 31;
export const BPF_RINGBUF_DISCARD_BIT = 2 ** 30;
export const BPF_RINGBUF_HDR_SZ = 8;

/** Tail calls allowed in one chain (include/linux/bpf.h MAX_TAIL_CALL_CNT, since Linux 5.17). */
export const MAX_TAIL_CALL_CNT = 33;
