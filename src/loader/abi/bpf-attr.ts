// union bpf_attr, one layout per group of commands, and the info structs BPF_OBJ_GET_INFO_BY_FD
// fills in: include/uapi/linux/bpf.h. Only the fields the loader uses are listed; each layout's
// size ends after its last listed field, which the kernel accepts (it zero-extends shorter attrs
// and requires unknown trailing bytes to be zero).
import { layout } from './layout.js';

/** BPF_MAP_CREATE: the first anonymous struct of union bpf_attr. */
export const MAP_CREATE_ATTR = layout('union bpf_attr', {
  map_type: [0, 4],
  key_size: [4, 4],
  value_size: [8, 4],
  max_entries: [12, 4],
  map_flags: [16, 4],
  inner_map_fd: [20, 4],
  numa_node: [24, 4],
  map_name: [28, 16],
  map_ifindex: [44, 4],
  btf_fd: [48, 4],
  btf_key_type_id: [52, 4],
  btf_value_type_id: [56, 4],
  btf_vmlinux_value_type_id: [60, 4],
  map_extra: [64, 8],
});

/** BPF_MAP_LOOKUP_ELEM, BPF_MAP_UPDATE_ELEM, BPF_MAP_DELETE_ELEM, BPF_MAP_GET_NEXT_KEY, BPF_MAP_FREEZE. */
export const MAP_ELEM_ATTR = layout('union bpf_attr', {
  map_fd: [0, 4],
  key: [8, 8],
  value: [16, 8],
  next_key: [16, 8],
  flags: [24, 8],
});

/** BPF_MAP_LOOKUP_BATCH and the other batch commands: union bpf_attr's `batch` struct. */
export const MAP_BATCH_ATTR = layout('union bpf_attr', {
  in_batch: [0, 8],
  out_batch: [8, 8],
  keys: [16, 8],
  values: [24, 8],
  count: [32, 4],
  map_fd: [36, 4],
  elem_flags: [40, 8],
  flags: [48, 8],
});

/** BPF_PROG_LOAD. */
export const PROG_LOAD_ATTR = layout('union bpf_attr', {
  prog_type: [0, 4],
  insn_cnt: [4, 4],
  insns: [8, 8],
  license: [16, 8],
  log_level: [24, 4],
  log_size: [28, 4],
  log_buf: [32, 8],
  kern_version: [40, 4],
  prog_flags: [44, 4],
  prog_name: [48, 16],
  prog_ifindex: [64, 4],
  expected_attach_type: [68, 4],
  prog_btf_fd: [72, 4],
  func_info_rec_size: [76, 4],
  func_info: [80, 8],
  func_info_cnt: [88, 4],
  line_info_rec_size: [92, 4],
  line_info: [96, 8],
  line_info_cnt: [104, 4],
  attach_btf_id: [108, 4],
  attach_prog_fd: [112, 4],
  attach_btf_obj_fd: [112, 4],
  core_relo_cnt: [116, 4],
  fd_array: [120, 8],
  core_relos: [128, 8],
  core_relo_rec_size: [136, 4],
  // Filled by the kernel (Linux 6.4+) with the log size the whole verifier log needs.
  log_true_size: [140, 4],
});

/** BPF_OBJ_PIN, BPF_OBJ_GET. */
export const OBJ_ATTR = layout('union bpf_attr', {
  pathname: [0, 8],
  bpf_fd: [8, 4],
  file_flags: [12, 4],
});

/** BPF_PROG_TEST_RUN: bpf_attr.test. */
export const TEST_RUN_ATTR = layout(
  'union bpf_attr',
  {
    prog_fd: [0, 4],
    retval: [4, 4],
    data_size_in: [8, 4],
    data_size_out: [12, 4],
    data_in: [16, 8],
    data_out: [24, 8],
    repeat: [32, 4],
    duration: [36, 4],
    ctx_size_in: [40, 4],
    ctx_size_out: [44, 4],
    ctx_in: [48, 8],
    ctx_out: [56, 8],
    flags: [64, 4],
    cpu: [68, 4],
    batch_size: [72, 4],
  },
  { cMember: 'test' },
);

/** BPF_PROG_GET_NEXT_ID, BPF_MAP_GET_NEXT_ID, BPF_PROG_GET_FD_BY_ID, BPF_MAP_GET_FD_BY_ID. */
export const GET_ID_ATTR = layout('union bpf_attr', {
  start_id: [0, 4],
  prog_id: [0, 4],
  map_id: [0, 4],
  btf_id: [0, 4],
  link_id: [0, 4],
  next_id: [4, 4],
  open_flags: [8, 4],
});

/** BPF_OBJ_GET_INFO_BY_FD: bpf_attr.info. */
export const INFO_ATTR = layout(
  'union bpf_attr',
  {
    bpf_fd: [0, 4],
    info_len: [4, 4],
    info: [8, 8],
  },
  { cMember: 'info' },
);

/** BPF_BTF_LOAD. */
export const BTF_LOAD_ATTR = layout('union bpf_attr', {
  btf: [0, 8],
  btf_log_buf: [8, 8],
  btf_size: [16, 4],
  btf_log_size: [20, 4],
  btf_log_level: [24, 4],
  // Filled by the kernel (Linux 6.4+) with the log size the whole BTF log needs.
  btf_log_true_size: [28, 4],
});

/** BPF_LINK_CREATE: bpf_attr.link_create, with the tcx, perf_event and tracing members of its trailing union. */
export const LINK_CREATE_ATTR = layout(
  'union bpf_attr',
  {
    prog_fd: [0, 4],
    target_fd: [4, 4],
    target_ifindex: [4, 4],
    attach_type: [8, 4],
    flags: [12, 4],
    target_btf_id: [16, 4],
    'tcx.relative_fd': [16, 4],
    'tcx.relative_id': [16, 4],
    'tcx.expected_revision': [24, 8],
    'perf_event.bpf_cookie': [16, 8],
    'tracing.target_btf_id': [16, 4],
    'tracing.cookie': [24, 8],
  },
  { cMember: 'link_create' },
);

/** BPF_RAW_TRACEPOINT_OPEN: bpf_attr.raw_tracepoint (cookie: Linux 6.10+). */
export const RAW_TRACEPOINT_OPEN_ATTR = layout(
  'union bpf_attr',
  {
    name: [0, 8],
    prog_fd: [8, 4],
    cookie: [16, 8],
  },
  { cMember: 'raw_tracepoint' },
);

/** BPF_LINK_DETACH: bpf_attr.link_detach. */
export const LINK_DETACH_ATTR = layout('union bpf_attr', { link_fd: [0, 4] }, { cMember: 'link_detach' });

/** struct bpf_prog_info, the fields the loader reports. */
export const BPF_PROG_INFO = layout('struct bpf_prog_info', {
  type: [0, 4],
  id: [4, 4],
  tag: [8, 8],
  jited_prog_len: [16, 4],
  xlated_prog_len: [20, 4],
  jited_prog_insns: [24, 8],
  xlated_prog_insns: [32, 8],
  load_time: [40, 8],
  created_by_uid: [48, 4],
  nr_map_ids: [52, 4],
  map_ids: [56, 8],
  name: [64, 16],
  ifindex: [80, 4],
  netns_dev: [88, 8],
  netns_ino: [96, 8],
  btf_id: [128, 4],
  run_time_ns: [192, 8],
  run_cnt: [200, 8],
  recursion_misses: [208, 8],
  verified_insns: [216, 4],
  attach_btf_obj_id: [220, 4],
  attach_btf_id: [224, 4],
});

/** struct bpf_map_info. */
export const BPF_MAP_INFO = layout('struct bpf_map_info', {
  type: [0, 4],
  id: [4, 4],
  key_size: [8, 4],
  value_size: [12, 4],
  max_entries: [16, 4],
  map_flags: [20, 4],
  name: [24, 16],
  ifindex: [40, 4],
  btf_vmlinux_value_type_id: [44, 4],
  netns_dev: [48, 8],
  netns_ino: [56, 8],
  btf_id: [64, 4],
  btf_key_type_id: [68, 4],
  btf_value_type_id: [72, 4],
  btf_vmlinux_id: [76, 4],
  map_extra: [80, 8],
});

/** struct bpf_btf_info. */
export const BPF_BTF_INFO = layout('struct bpf_btf_info', {
  btf: [0, 8],
  btf_size: [8, 4],
  id: [12, 4],
  name: [16, 8],
  name_len: [24, 4],
  kernel_btf: [28, 4],
});

/** struct bpf_link_info: the common fields and the tcx member of its union. */
export const BPF_LINK_INFO = layout('struct bpf_link_info', {
  type: [0, 4],
  id: [4, 4],
  prog_id: [8, 4],
  'tcx.ifindex': [16, 4],
  'tcx.attach_type': [20, 4],
});
