export * from './bpf.js';
export * from './errno.js';
export * from './prog-types.js';
export * from './pkt-cls.js';
export * from './tracing.js';
