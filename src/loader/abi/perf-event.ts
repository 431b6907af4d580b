// perf_event_open(2) and the memory the loader shares with the kernel for tracing: struct
// perf_event_attr, the ioctls, the mmapped ring's control page and record header
// (include/uapi/linux/perf_event.h); epoll, eventfd and mmap numbers (include/uapi/linux/eventpoll.h,
// include/uapi/asm-generic/mman-common.h, include/uapi/linux/eventfd.h via sys/eventfd.h). Checked
// against the C compiler in test/loader/abi-perf.test.ts.
import { layout } from './layout.js';

/** enum perf_type_id. */
export const perf_type_id = {
  PERF_TYPE_HARDWARE: 0,
  PERF_TYPE_SOFTWARE: 1,
  PERF_TYPE_TRACEPOINT: 2,
  PERF_TYPE_HW_CACHE: 3,
  PERF_TYPE_RAW: 4,
  PERF_TYPE_BREAKPOINT: 5,
} as const;

/** enum perf_sw_ids: the configs of PERF_TYPE_SOFTWARE events. */
export const perf_sw_ids = {
  PERF_COUNT_SW_CPU_CLOCK: 0,
  PERF_COUNT_SW_TASK_CLOCK: 1,
  PERF_COUNT_SW_PAGE_FAULTS: 2,
  PERF_COUNT_SW_CONTEXT_SWITCHES: 3,
  PERF_COUNT_SW_CPU_MIGRATIONS: 4,
  PERF_COUNT_SW_PAGE_FAULTS_MIN: 5,
  PERF_COUNT_SW_PAGE_FAULTS_MAJ: 6,
  PERF_COUNT_SW_ALIGNMENT_FAULTS: 7,
  PERF_COUNT_SW_EMULATION_FAULTS: 8,
  PERF_COUNT_SW_DUMMY: 9,
  PERF_COUNT_SW_BPF_OUTPUT: 10,
  PERF_COUNT_SW_CGROUP_SWITCHES: 11,
} as const;

/** enum perf_event_sample_format: the bits of perf_event_attr.sample_type the loader sets. */
export const perf_event_sample_format = {
  PERF_SAMPLE_IP: 1 << 0,
  PERF_SAMPLE_TID: 1 << 1,
  PERF_SAMPLE_TIME: 1 << 2,
  PERF_SAMPLE_CPU: 1 << 7,
  PERF_SAMPLE_RAW: 1 << 10,
} as const;

/** enum perf_event_type: the record types of the mmapped ring. */
export const perf_event_type = {
  PERF_RECORD_MMAP: 1,
  PERF_RECORD_LOST: 2,
  PERF_RECORD_COMM: 3,
  PERF_RECORD_EXIT: 4,
  PERF_RECORD_THROTTLE: 5,
  PERF_RECORD_UNTHROTTLE: 6,
  PERF_RECORD_FORK: 7,
  PERF_RECORD_READ: 8,
  PERF_RECORD_SAMPLE: 9,
  PERF_RECORD_LOST_SAMPLES: 13,
} as const;

/** The flags argument of perf_event_open (#defines). */
export const PERF_FLAG = {
  PERF_FLAG_FD_NO_GROUP: 1 << 0,
  PERF_FLAG_FD_OUTPUT: 1 << 1,
  PERF_FLAG_PID_CGROUP: 1 << 2,
  PERF_FLAG_FD_CLOEXEC: 1 << 3,
} as const;

/** Sizes of successive perf_event_attr versions (#define PERF_ATTR_SIZE_VER*). */
export const PERF_ATTR_SIZE = {
  PERF_ATTR_SIZE_VER0: 64,
  PERF_ATTR_SIZE_VER5: 112,
  PERF_ATTR_SIZE_VER7: 128,
} as const;

/**
 * The ioctls of a perf event descriptor: _IO('$', n) and _IOW('$', n, __u32) in the asm-generic
 * encoding, which x86_64 and arm64 share.
 */
export const PERF_EVENT_IOC = {
  PERF_EVENT_IOC_ENABLE: 0x2400,
  PERF_EVENT_IOC_DISABLE: 0x2401,
  PERF_EVENT_IOC_RESET: 0x2403,
  PERF_EVENT_IOC_SET_BPF: 0x40042408,
} as const;

/**
 * struct perf_event_attr up to sig_data (PERF_ATTR_SIZE_VER7); the kernel zero-extends it. Its
 * bitfield word (`disabled`, `inherit`, ...) is `flags`, with the bits of PERF_ATTR_FLAG below;
 * each union is listed under every member name the loader uses.
 */
export const PERF_EVENT_ATTR = layout('struct perf_event_attr', {
  type: [0, 4],
  size: [4, 4],
  config: [8, 8],
  sample_period: [16, 8],
  sample_freq: [16, 8],
  sample_type: [24, 8],
  read_format: [32, 8],
  wakeup_events: [48, 4],
  wakeup_watermark: [48, 4],
  bp_type: [52, 4],
  config1: [56, 8],
  uprobe_path: [56, 8],
  kprobe_func: [56, 8],
  config2: [64, 8],
  probe_offset: [64, 8],
  kprobe_addr: [64, 8],
  branch_sample_type: [72, 8],
  sample_regs_user: [80, 8],
  sample_stack_user: [88, 4],
  clockid: [92, 4],
  sample_regs_intr: [96, 8],
  aux_watermark: [104, 4],
  sample_max_stack: [108, 2],
  aux_sample_size: [112, 4],
  sig_data: [120, 8],
});

/** The byte offset of perf_event_attr's bitfield word (right after read_format). */
export const PERF_EVENT_ATTR_FLAGS_OFFSET = 40;

/** Bit positions in perf_event_attr's bitfield word, in declaration order of the header. */
export const PERF_ATTR_FLAG = {
  disabled: 0,
  inherit: 1,
  pinned: 2,
  exclusive: 3,
  exclude_user: 4,
  exclude_kernel: 5,
  exclude_hv: 6,
  exclude_idle: 7,
  mmap: 8,
  comm: 9,
  freq: 10,
  inherit_stat: 11,
  enable_on_exec: 12,
  task: 13,
  watermark: 14,
  sample_id_all: 18,
} as const;

/** struct perf_event_mmap_page: the first page of a perf event's mmapped ring. */
export const PERF_EVENT_MMAP_PAGE = layout('struct perf_event_mmap_page', {
  version: [0, 4],
  compat_version: [4, 4],
  size: [72, 4],
  __reserved: [96, 928],
  data_head: [1024, 8],
  data_tail: [1032, 8],
  data_offset: [1040, 8],
  data_size: [1048, 8],
});

/** struct perf_event_header: the header of every record in the ring. */
export const PERF_EVENT_HEADER = layout('struct perf_event_header', {
  type: [0, 4],
  misc: [4, 2],
  size: [6, 2],
}, { size: 8 });

/** epoll_ctl ops and event bits (include/uapi/linux/eventpoll.h). */
export const EPOLL = {
  EPOLL_CTL_ADD: 1,
  EPOLL_CTL_DEL: 2,
  EPOLL_CTL_MOD: 3,
  EPOLLIN: 0x1,
  EPOLLERR: 0x8,
  EPOLLHUP: 0x10,
  EPOLL_CLOEXEC: 0o2000000,
} as const;

/**
 * struct epoll_event: x86_64 declares it packed (12 bytes, EPOLL_PACKED in eventpoll.h); other
 * architectures align `data` to 8.
 */
export const EPOLL_EVENT = process.arch === 'x64'
  ? layout('struct epoll_event', { events: [0, 4], data: [4, 8] }, { size: 12 })
  : layout('struct epoll_event', { events: [0, 4], data: [8, 8] }, { size: 16 });

/** eventfd flags (include/uapi/linux/eventfd.h). */
export const EFD = {
  EFD_CLOEXEC: 0o2000000,
  EFD_NONBLOCK: 0o4000,
} as const;

/** mmap protections and flags (include/uapi/asm-generic/mman-common.h, mman.h). */
export const MMAP = {
  PROT_READ: 0x1,
  PROT_WRITE: 0x2,
  MAP_SHARED: 0x01,
} as const;

/** Syscall number of perf_event_open per architecture (syscall_64.tbl, asm-generic/unistd.h). */
export const SYS_perf_event_open: Readonly<Record<string, number>> = {
  x64: 298,
  arm64: 241,
};
