// Which maps a helper may be given and which helpers a map type may be given to
// (check_map_func_compatibility in kernel/bpf/verifier.c): both directions are checked, the map's
// type first. Helper names as in src/uapi BPF_FUNC_NAMES (no bpf_ prefix).
import * as U from '../uapi/index.js';

/** Map types that only some helpers may take (the first switch of check_map_func_compatibility). */
const MAP_ONLY: ReadonlyMap<number, readonly string[]> = new Map([
  [U.BPF_MAP_TYPE_PROG_ARRAY, ['tail_call']],
  [U.BPF_MAP_TYPE_PERF_EVENT_ARRAY, ['perf_event_read', 'perf_event_output', 'perf_event_read_value', 'skb_output', 'xdp_output']],
  [U.BPF_MAP_TYPE_RINGBUF, ['ringbuf_output', 'ringbuf_reserve', 'ringbuf_query', 'ringbuf_reserve_dynptr', 'ringbuf_submit_dynptr', 'ringbuf_discard_dynptr']],
  [U.BPF_MAP_TYPE_USER_RINGBUF, ['user_ringbuf_drain']],
  [U.BPF_MAP_TYPE_STACK_TRACE, ['get_stackid']],
  [U.BPF_MAP_TYPE_CGROUP_ARRAY, ['skb_under_cgroup', 'current_task_under_cgroup']],
  [U.BPF_MAP_TYPE_CGROUP_STORAGE, ['get_local_storage']],
  [U.BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE, ['get_local_storage']],
  [U.BPF_MAP_TYPE_DEVMAP, ['redirect_map', 'map_lookup_elem']],
  [U.BPF_MAP_TYPE_DEVMAP_HASH, ['redirect_map', 'map_lookup_elem']],
  [U.BPF_MAP_TYPE_CPUMAP, ['redirect_map']],
  [U.BPF_MAP_TYPE_XSKMAP, ['redirect_map', 'map_lookup_elem']],
  [U.BPF_MAP_TYPE_ARRAY_OF_MAPS, ['map_lookup_elem']],
  [U.BPF_MAP_TYPE_HASH_OF_MAPS, ['map_lookup_elem']],
  [U.BPF_MAP_TYPE_SOCKMAP, ['sk_redirect_map', 'sock_map_update', 'msg_redirect_map', 'sk_select_reuseport', 'map_lookup_elem', 'map_update_elem', 'map_delete_elem']],
  [U.BPF_MAP_TYPE_SOCKHASH, ['sk_redirect_hash', 'sock_hash_update', 'msg_redirect_hash', 'sk_select_reuseport', 'map_lookup_elem', 'map_update_elem', 'map_delete_elem']],
  [U.BPF_MAP_TYPE_REUSEPORT_SOCKARRAY, ['sk_select_reuseport']],
  [U.BPF_MAP_TYPE_QUEUE, ['map_peek_elem', 'map_pop_elem', 'map_push_elem']],
  [U.BPF_MAP_TYPE_STACK, ['map_peek_elem', 'map_pop_elem', 'map_push_elem']],
  [U.BPF_MAP_TYPE_BLOOM_FILTER, ['map_peek_elem', 'map_push_elem']],
  [U.BPF_MAP_TYPE_SK_STORAGE, ['sk_storage_get', 'sk_storage_delete', 'map_lookup_elem', 'map_update_elem', 'map_delete_elem']],
  [U.BPF_MAP_TYPE_INODE_STORAGE, ['inode_storage_get', 'inode_storage_delete', 'map_lookup_elem', 'map_update_elem', 'map_delete_elem']],
  [U.BPF_MAP_TYPE_TASK_STORAGE, ['task_storage_get', 'task_storage_delete', 'map_lookup_elem', 'map_update_elem', 'map_delete_elem']],
  [U.BPF_MAP_TYPE_CGRP_STORAGE, ['cgrp_storage_get', 'cgrp_storage_delete', 'map_lookup_elem', 'map_update_elem', 'map_delete_elem']],
]);

/** Helpers that take only some map types (the second switch). */
const HELPER_ONLY: ReadonlyMap<string, readonly number[]> = new Map([
  ['tail_call', [U.BPF_MAP_TYPE_PROG_ARRAY]],
  ['perf_event_read', [U.BPF_MAP_TYPE_PERF_EVENT_ARRAY]],
  ['perf_event_output', [U.BPF_MAP_TYPE_PERF_EVENT_ARRAY]],
  ['perf_event_read_value', [U.BPF_MAP_TYPE_PERF_EVENT_ARRAY]],
  ['skb_output', [U.BPF_MAP_TYPE_PERF_EVENT_ARRAY]],
  ['xdp_output', [U.BPF_MAP_TYPE_PERF_EVENT_ARRAY]],
  ['ringbuf_output', [U.BPF_MAP_TYPE_RINGBUF]],
  ['ringbuf_reserve', [U.BPF_MAP_TYPE_RINGBUF]],
  ['ringbuf_query', [U.BPF_MAP_TYPE_RINGBUF]],
  ['ringbuf_reserve_dynptr', [U.BPF_MAP_TYPE_RINGBUF]],
  ['user_ringbuf_drain', [U.BPF_MAP_TYPE_USER_RINGBUF]],
  ['get_stackid', [U.BPF_MAP_TYPE_STACK_TRACE]],
  ['current_task_under_cgroup', [U.BPF_MAP_TYPE_CGROUP_ARRAY]],
  ['skb_under_cgroup', [U.BPF_MAP_TYPE_CGROUP_ARRAY]],
  ['redirect_map', [U.BPF_MAP_TYPE_DEVMAP, U.BPF_MAP_TYPE_DEVMAP_HASH, U.BPF_MAP_TYPE_CPUMAP, U.BPF_MAP_TYPE_XSKMAP]],
  ['sk_redirect_map', [U.BPF_MAP_TYPE_SOCKMAP]],
  ['msg_redirect_map', [U.BPF_MAP_TYPE_SOCKMAP]],
  ['sock_map_update', [U.BPF_MAP_TYPE_SOCKMAP]],
  ['sk_redirect_hash', [U.BPF_MAP_TYPE_SOCKHASH]],
  ['msg_redirect_hash', [U.BPF_MAP_TYPE_SOCKHASH]],
  ['sock_hash_update', [U.BPF_MAP_TYPE_SOCKHASH]],
  ['get_local_storage', [U.BPF_MAP_TYPE_CGROUP_STORAGE, U.BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE]],
  ['sk_select_reuseport', [U.BPF_MAP_TYPE_REUSEPORT_SOCKARRAY, U.BPF_MAP_TYPE_SOCKMAP, U.BPF_MAP_TYPE_SOCKHASH]],
  ['map_pop_elem', [U.BPF_MAP_TYPE_QUEUE, U.BPF_MAP_TYPE_STACK]],
  ['map_push_elem', [U.BPF_MAP_TYPE_QUEUE, U.BPF_MAP_TYPE_STACK, U.BPF_MAP_TYPE_BLOOM_FILTER]],
  ['map_peek_elem', [U.BPF_MAP_TYPE_QUEUE, U.BPF_MAP_TYPE_STACK, U.BPF_MAP_TYPE_BLOOM_FILTER]],
  ['map_lookup_percpu_elem', [U.BPF_MAP_TYPE_PERCPU_ARRAY, U.BPF_MAP_TYPE_PERCPU_HASH, U.BPF_MAP_TYPE_LRU_PERCPU_HASH]],
  ['sk_storage_get', [U.BPF_MAP_TYPE_SK_STORAGE]],
  ['sk_storage_delete', [U.BPF_MAP_TYPE_SK_STORAGE]],
  ['inode_storage_get', [U.BPF_MAP_TYPE_INODE_STORAGE]],
  ['inode_storage_delete', [U.BPF_MAP_TYPE_INODE_STORAGE]],
  ['task_storage_get', [U.BPF_MAP_TYPE_TASK_STORAGE]],
  ['task_storage_delete', [U.BPF_MAP_TYPE_TASK_STORAGE]],
  ['cgrp_storage_get', [U.BPF_MAP_TYPE_CGRP_STORAGE]],
  ['cgrp_storage_delete', [U.BPF_MAP_TYPE_CGRP_STORAGE]],
]);

/** True when the kernel refuses to pass a map of `mapType` to helper `helper`. */
export function mapHelperConflict(mapType: number, helper: string): boolean {
  const only = MAP_ONLY.get(mapType);
  if (only && !only.includes(helper)) return true;
  const maps = HELPER_ONLY.get(helper);
  return maps !== undefined && !maps.includes(mapType);
}
