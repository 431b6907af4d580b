export * from './bpf.js';
export * from './errno.js';
