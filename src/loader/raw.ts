// bpfts/loader/raw: the loader's low-level layer for those who need it (the CLI, tools built on
// bpfts): the kernel ABI layouts, the bpf() syscall one command at a time, rtnetlink, the load
// pipeline's steps and the CLI's attach and detach. Most programs want bpfts/loader instead.
export * from './abi/index.js';
export * from './sys/index.js';
export * from './netlink/index.js';
export * from './object/index.js';
export * from './attach/index.js';
export * from './probe/helpers.js';
export * from './readers/index.js';
