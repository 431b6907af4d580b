// The loader's system layer: the kernel ABI, the bpf() syscall and rtnetlink.
export * from './abi/index.js';
export * from './sys/index.js';
export * from './netlink/index.js';
export * from './object/index.js';
export * from './attach/index.js';
export * from './probe/helpers.js';
export * from './readers/index.js';
