export * from './layout.js';
export * from './bpf-cmd.js';
export * from './bpf-attr.js';
export * from './netlink.js';
/** The errno table is src/uapi's; the loader's API keeps offering it. */
export { ERRNO, KERNEL_INTERNAL_ERRNO, errnoName } from '../../uapi/index.js';
export * from './perf-event.js';
