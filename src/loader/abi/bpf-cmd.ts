// Command numbers and flags of the bpf() syscall, named as in
// include/uapi/linux/bpf.h. Each object mirrors one C enum of that header so that
// test/loader/abi-layout.test.ts can compare every member with the kernel's own definition.
// Program, attach and link types live in src/uapi/prog-types.ts (shared with the program model);
// map types and map/update flags in src/uapi/bpf.ts.
export { enumName, bpf_prog_type, bpf_attach_type, bpf_link_type } from '../../uapi/index.js';
export type { BpfProgType, BpfAttachType } from '../../uapi/index.js';

/** enum bpf_cmd (include/uapi/linux/bpf.h). */
export const bpf_cmd = {
  BPF_MAP_CREATE: 0,
  BPF_MAP_LOOKUP_ELEM: 1,
  BPF_MAP_UPDATE_ELEM: 2,
  BPF_MAP_DELETE_ELEM: 3,
  BPF_MAP_GET_NEXT_KEY: 4,
  BPF_PROG_LOAD: 5,
  BPF_OBJ_PIN: 6,
  BPF_OBJ_GET: 7,
  BPF_PROG_ATTACH: 8,
  BPF_PROG_DETACH: 9,
  BPF_PROG_TEST_RUN: 10,
  BPF_PROG_RUN: 10,
  BPF_PROG_GET_NEXT_ID: 11,
  BPF_MAP_GET_NEXT_ID: 12,
  BPF_PROG_GET_FD_BY_ID: 13,
  BPF_MAP_GET_FD_BY_ID: 14,
  BPF_OBJ_GET_INFO_BY_FD: 15,
  BPF_PROG_QUERY: 16,
  BPF_RAW_TRACEPOINT_OPEN: 17,
  BPF_BTF_LOAD: 18,
  BPF_BTF_GET_FD_BY_ID: 19,
  BPF_TASK_FD_QUERY: 20,
  BPF_MAP_LOOKUP_AND_DELETE_ELEM: 21,
  BPF_MAP_FREEZE: 22,
  BPF_BTF_GET_NEXT_ID: 23,
  BPF_MAP_LOOKUP_BATCH: 24,
  BPF_MAP_LOOKUP_AND_DELETE_BATCH: 25,
  BPF_MAP_UPDATE_BATCH: 26,
  BPF_MAP_DELETE_BATCH: 27,
  BPF_LINK_CREATE: 28,
  BPF_LINK_UPDATE: 29,
  BPF_LINK_GET_FD_BY_ID: 30,
  BPF_LINK_GET_NEXT_ID: 31,
  BPF_ENABLE_STATS: 32,
  BPF_ITER_CREATE: 33,
  BPF_LINK_DETACH: 34,
  BPF_PROG_BIND_MAP: 35,
  BPF_TOKEN_CREATE: 36,
  BPF_PROG_STREAM_READ_BY_FD: 37,
} as const;

/** Types of the enums above, for signatures. */
export type BpfCmd = (typeof bpf_cmd)[keyof typeof bpf_cmd];

/** prog_flags for BPF_PROG_LOAD (#defines in include/uapi/linux/bpf.h). */
export const BPF_PROG_LOAD_FLAGS = {
  BPF_F_STRICT_ALIGNMENT: 1,
  BPF_F_ANY_ALIGNMENT: 2,
  BPF_F_TEST_RND_HI32: 4,
  BPF_F_TEST_STATE_FREQ: 8,
  BPF_F_SLEEPABLE: 16,
  BPF_F_XDP_HAS_FRAGS: 32,
} as const;

/** flags for BPF_PROG_TEST_RUN (#defines in include/uapi/linux/bpf.h). */
export const BPF_PROG_TEST_RUN_FLAGS = {
  BPF_F_TEST_RUN_ON_CPU: 1,
  BPF_F_TEST_XDP_LIVE_FRAMES: 2,
} as const;

/** Sizes fixed by include/uapi/linux/bpf.h. */
export const BPF_OBJ_NAME_LEN = 16;
export const BPF_TAG_SIZE = 8;

/** Syscall number of bpf() per architecture (arch/x86/entry/syscalls/syscall_64.tbl, include/uapi/asm-generic/unistd.h). */
export const SYS_bpf: Readonly<Record<string, number>> = {
  x64: 321,
  arm64: 280,
};
