export * from './layout.js';
export * from './bpf-cmd.js';
export * from './bpf-attr.js';
export * from './netlink.js';
export * from './errno.js';
