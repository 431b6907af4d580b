// The loader's system layer: the kernel ABI, the bpf() syscall and rtnetlink.
export * from './abi/index.js';
export * from './sys/index.js';
export * from './netlink/index.js';
export * from './object/index.js';
export * from './attach/index.js';
export * from './probe/helpers.js';
export { Collection, Globals, NameNotFoundError, onExit, type CollectionOptions } from './collection.js';
export { BpfMap, BpfMap as Map, MapOperationError, mapTypeName, type SetOptions, type UpdateMode } from './map.js';
export { Program } from './program.js';
export { Link, TcLink, KernelLink, detachTcFilters, type Netns, type XdpMode } from './link.js';
