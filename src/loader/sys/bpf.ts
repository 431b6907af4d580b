// The bpf(2) system call and one function per command the loader uses. Every descriptor the
// kernel returns is wrapped in an Fd owned by the caller; descriptors taken along the way are
// closed in finally blocks.
import { BpfError } from '../../errors.js';
import { BPF_INSN_SIZE } from '../../isa/index.js';
import {
  BPF_BTF_INFO,
  BPF_LINK_INFO,
  BPF_MAP_INFO,
  BPF_OBJ_NAME_LEN,
  BPF_PROG_INFO,
  BTF_LOAD_ATTR,
  GET_ID_ATTR,
  INFO_ATTR,
  LINK_CREATE_ATTR,
  LINK_DETACH_ATTR,
  MAP_CREATE_ATTR,
  MAP_BATCH_ATTR,
  MAP_ELEM_ATTR,
  OBJ_ATTR,
  PROG_LOAD_ATTR,
  RAW_TRACEPOINT_OPEN_ATTR,
  SYS_bpf,
  TEST_RUN_ATTR,
} from '../abi/index.js';
import { BPF_ANY, PERCPU_MAP_TYPES } from '../../uapi/index.js';
import { possibleCpus } from './cpus.js';
import { bpf_cmd, bpf_link_type, enumName } from '../abi/bpf-cmd.js';
import { ENOTSUPP, ERRNO } from '../../uapi/index.js';
import { StructView, type Layout } from '../abi/layout.js';
import { faults } from './faults.js';
import { MapSizeError, SyscallError, VerifierError, explainBpfErrno } from './errors.js';
import { Fd, type FdLike, fdNumber } from './fd.js';
import { addressOf, lastErrno, libc, pinned, pinnedCopy } from './libc.js';

/** A bpf() attribute buffer for one command's layout. */
function attr<K extends string>(l: Layout<K>): StructView<K> {
  return new StructView(l, pinned(l.size));
}

function sysBpfNumber(): number {
  const nr = SYS_bpf[process.arch];
  if (nr === undefined) throw new BpfError(`the bpf() syscall number is not known for architecture ${process.arch}`);
  return nr;
}

/** bpf(cmd, attr, size): returns the kernel's non-negative result, or the errno as a negative number. */
function rawBpf(cmd: number, a: StructView<string>): number {
  if (faults) {
    const injected = faults.enter(enumName(bpf_cmd, cmd) ?? `bpf command ${cmd}`);
    if (injected) return -injected;
  }
  const r = libc().bpf(sysBpfNumber(), cmd, a.bytes, a.layout.size);
  const result = r < 0 ? -lastErrno() : r;
  faults?.leave(result);
  return result;
}

function fail(cmd: number, errno: number, detail?: string): never {
  throw new SyscallError(enumName(bpf_cmd, cmd) ?? `bpf command ${cmd}`, errno, explainBpfErrno(cmd, errno), { detail });
}

/** bpf() that throws SyscallError on failure. */
function bpf(cmd: number, a: StructView<string>): number {
  const r = rawBpf(cmd, a);
  if (r < 0) fail(cmd, -r);
  return r;
}

// ---------------------------------------------------------------------------------------------
// Maps

export interface MapCreateOptions {
  /** enum bpf_map_type (BPF_MAP_TYPE_* in src/uapi/bpf.ts). */
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** BPF_F_* map flags. */
  flags?: number;
  /** Up to BPF_OBJ_NAME_LEN - 1 bytes of [A-Za-z0-9_.]. */
  name?: string;
  innerMapFd?: FdLike;
  numaNode?: number;
  ifindex?: number;
  btfFd?: FdLike;
  btfKeyTypeId?: number;
  btfValueTypeId?: number;
  btfVmlinuxValueTypeId?: number;
  mapExtra?: bigint;
}

function objName(name: string | undefined): string {
  if (name === undefined) return '';
  if (new TextEncoder().encode(name).length >= BPF_OBJ_NAME_LEN) {
    throw new BpfError(`object name "${name}" is longer than ${BPF_OBJ_NAME_LEN - 1} bytes`);
  }
  return name;
}

export function mapCreate(o: MapCreateOptions): Fd {
  const a = attr(MAP_CREATE_ATTR)
    .set('map_type', o.type)
    .set('key_size', o.keySize)
    .set('value_size', o.valueSize)
    .set('max_entries', o.maxEntries)
    .set('map_flags', o.flags ?? 0)
    .set('map_name', objName(o.name))
    .set('numa_node', o.numaNode ?? 0)
    .set('map_ifindex', o.ifindex ?? 0)
    .set('btf_key_type_id', o.btfKeyTypeId ?? 0)
    .set('btf_value_type_id', o.btfValueTypeId ?? 0)
    .set('btf_vmlinux_value_type_id', o.btfVmlinuxValueTypeId ?? 0)
    .set('map_extra', o.mapExtra ?? 0n);
  if (o.innerMapFd !== undefined) a.set('inner_map_fd', fdNumber(o.innerMapFd));
  if (o.btfFd !== undefined) a.set('btf_fd', fdNumber(o.btfFd));
  return new Fd(bpf(bpf_cmd.BPF_MAP_CREATE, a), 'map');
}

/** How many bytes the kernel reads and writes for one element of a map, from the map's own info. */
export interface MapElemSizes {
  name: string;
  type: number;
  keySize: number;
  /** The map's value_size. */
  valueSize: number;
  /** What a lookup writes and an update reads: value_size, or roundup(value_size, 8) * possible CPUs for per-CPU maps. */
  valueBytes: number;
  /** Possible CPUs for per-CPU maps (one value slot of roundup(value_size, 8) bytes each), else undefined. */
  cpus?: number;
}

/** An Fd refers to one map for as long as it is open, so its sizes are asked for once. */
const sizesOfFd = new WeakMap<Fd, MapElemSizes>();

/** The element sizes of `map` as the kernel reports them (BPF_OBJ_GET_INFO_BY_FD). */
export function mapElemSizes(map: FdLike): MapElemSizes {
  const cached = typeof map === 'number' ? undefined : sizesOfFd.get(map);
  if (cached) return cached;
  const info = mapGetInfo(map);
  const cpus = PERCPU_MAP_TYPES.has(info.type) ? possibleCpus() : undefined;
  const sizes: MapElemSizes = {
    name: info.name, type: info.type, keySize: info.keySize, valueSize: info.valueSize,
    valueBytes: cpus === undefined ? info.valueSize : Math.ceil(info.valueSize / 8) * 8 * cpus,
    ...(cpus === undefined ? {} : { cpus }),
  };
  if (typeof map !== 'number') sizesOfFd.set(map, sizes);
  return sizes;
}

function sizeHint(s: MapElemSizes): string | undefined {
  return s.cpus === undefined ? undefined
    : `per-CPU maps hold one ${Math.ceil(s.valueSize / 8) * 8}-byte slot per possible CPU (${s.cpus}): value_size ${s.valueSize} rounded up to 8, times ${s.cpus}`;
}

function checkKey(s: MapElemSizes, key: Uint8Array): void {
  if (key.byteLength !== s.keySize) throw new MapSizeError(s.name, 'key', s.keySize, key.byteLength);
}

/** Checks a caller's size against the kernel's, so that a wrong belief about the map fails loudly. */
function checkValueSize(s: MapElemSizes, expected: number, given: number | undefined): void {
  if (given !== undefined && given !== expected) throw new MapSizeError(s.name, 'value', expected, given, { hint: sizeHint(s) });
}

/** Lookup/update attributes; `key` and `value` are pinned buffers the kernel reads or fills. */
function elemAttr(map: FdLike, key: Uint8Array | undefined, value: Uint8Array, flags: number) {
  return attr(MAP_ELEM_ATTR).set('map_fd', fdNumber(map)).set('key', addressOf(key)).set('value', addressOf(value)).set('flags', flags);
}

/**
 * The value stored under `key`, or undefined when there is none. The buffer is sized from the
 * map's info (for per-CPU maps one roundup(value_size, 8) slot per possible CPU); `valueSize`, when
 * given, is checked against that size (MapSizeError when they differ), as is the key's length.
 */
export function mapLookupElem(map: FdLike, key: Uint8Array, valueSize?: number, flags = 0): Uint8Array | undefined {
  return lookup(bpf_cmd.BPF_MAP_LOOKUP_ELEM, map, key, valueSize, flags);
}

/** Removes and returns the element under `key` (for queues and stacks, the next element: give an empty key). */
export function mapLookupAndDeleteElem(map: FdLike, key: Uint8Array, valueSize?: number, flags = 0): Uint8Array | undefined {
  return lookup(bpf_cmd.BPF_MAP_LOOKUP_AND_DELETE_ELEM, map, key, valueSize, flags);
}

function lookup(cmd: number, map: FdLike, key: Uint8Array, valueSize: number | undefined, flags: number): Uint8Array | undefined {
  const s = mapElemSizes(map);
  checkKey(s, key);
  checkValueSize(s, s.valueBytes, valueSize);
  const k = pinnedCopy(key);
  const v = pinned(s.valueBytes);
  const r = rawBpf(cmd, elemAttr(map, k, v, flags));
  if (r === -ERRNO.ENOENT) return undefined;
  if (r < 0) fail(cmd, -r);
  return v;
}

/**
 * Stores `value` under `key`; `flags` is BPF_ANY (default), BPF_NOEXIST, BPF_EXIST, optionally |
 * BPF_F_LOCK. The key and value must be exactly the sizes the kernel reads (MapSizeError otherwise):
 * for per-CPU maps one roundup(value_size, 8) slot per possible CPU, for queues and stacks an empty key.
 */
export function mapUpdateElem(map: FdLike, key: Uint8Array, value: Uint8Array, flags: number = BPF_ANY): void {
  const s = mapElemSizes(map);
  checkKey(s, key);
  checkValueSize(s, s.valueBytes, value.byteLength);
  const k = pinnedCopy(key);
  const v = pinnedCopy(value);
  bpf(bpf_cmd.BPF_MAP_UPDATE_ELEM, elemAttr(map, k, v, flags));
}

/** Deletes `key`; false when it was not there. */
export function mapDeleteElem(map: FdLike, key: Uint8Array): boolean {
  checkKey(mapElemSizes(map), key);
  const k = pinnedCopy(key);
  const a = attr(MAP_ELEM_ATTR).set('map_fd', fdNumber(map)).set('key', addressOf(k));
  const r = rawBpf(bpf_cmd.BPF_MAP_DELETE_ELEM, a);
  if (r === -ERRNO.ENOENT) return false;
  if (r < 0) fail(bpf_cmd.BPF_MAP_DELETE_ELEM, -r);
  return true;
}

/**
 * The key after `key` (the first key when `key` is undefined), or undefined at the end. The buffer
 * is the map's key_size; `keySize`, when given, is checked against it.
 */
export function mapGetNextKey(map: FdLike, key: Uint8Array | undefined, keySize?: number): Uint8Array | undefined {
  const s = mapElemSizes(map);
  if (keySize !== undefined && keySize !== s.keySize) throw new MapSizeError(s.name, 'key', s.keySize, keySize);
  if (key !== undefined) checkKey(s, key);
  const k = key === undefined ? undefined : pinnedCopy(key);
  const next = pinned(s.keySize);
  const a = attr(MAP_ELEM_ATTR)
    .set('map_fd', fdNumber(map))
    .set('key', addressOf(k))
    .set('next_key', addressOf(next));
  const r = rawBpf(bpf_cmd.BPF_MAP_GET_NEXT_KEY, a);
  if (r === -ERRNO.ENOENT) return undefined;
  if (r < 0) fail(bpf_cmd.BPF_MAP_GET_NEXT_KEY, -r);
  return next;
}

/** Every key of the map, in the kernel's iteration order (`keySize`, when given, is checked as by mapGetNextKey). */
export function mapKeys(map: FdLike, keySize?: number): Uint8Array[] {
  const keys: Uint8Array[] = [];
  for (let k = mapGetNextKey(map, undefined, keySize); k; k = mapGetNextKey(map, k)) keys.push(k);
  return keys;
}

/** Elements per BPF_MAP_LOOKUP_BATCH call at first; doubled when a hash bucket holds more (ENOSPC). */
const BATCH_COUNT = 256;

/**
 * Every key/value pair of the map through BPF_MAP_LOOKUP_BATCH (Linux 5.6+ for hashes, 5.7+ for
 * arrays), or undefined when the kernel has no batch lookup for this map type, so that the caller
 * walks the keys instead. Buffers are sized from the map's info like every other map call.
 */
export function mapLookupBatch(map: FdLike): [Uint8Array, Uint8Array][] | undefined {
  const s = mapElemSizes(map);
  // The batch token is a u32 bucket index for hashes and a key for arrays (kernel/bpf/syscall.c).
  const tokenSize = Math.max(s.keySize, 8);
  const out: [Uint8Array, Uint8Array][] = [];
  let inBatch: Uint8Array | undefined;
  let count = BATCH_COUNT;
  for (;;) {
    const outBatch = pinned(tokenSize);
    const keys = pinned(count * s.keySize);
    const values = pinned(count * s.valueBytes);
    const a = attr(MAP_BATCH_ATTR)
      .set('in_batch', addressOf(inBatch))
      .set('out_batch', addressOf(outBatch))
      .set('keys', addressOf(keys))
      .set('values', addressOf(values))
      .set('count', count)
      .set('map_fd', fdNumber(map));
    const r = rawBpf(bpf_cmd.BPF_MAP_LOOKUP_BATCH, a);
    const errno = r < 0 ? -r : 0;
    if (errno === ERRNO.ENOSPC && count < 1 << 20) {
      count *= 2;
      continue;
    }
    if (errno !== 0 && errno !== ERRNO.ENOENT) {
      if (inBatch === undefined && (errno === ERRNO.EINVAL || errno === ERRNO.EOPNOTSUPP || errno === ENOTSUPP)) return undefined;
      fail(bpf_cmd.BPF_MAP_LOOKUP_BATCH, errno);
    }
    const got = Math.min(a.num('count'), count);
    for (let i = 0; i < got; i++) {
      out.push([keys.slice(i * s.keySize, (i + 1) * s.keySize), values.slice(i * s.valueBytes, (i + 1) * s.valueBytes)]);
    }
    if (errno === ERRNO.ENOENT) return out;
    inBatch = outBatch;
  }
}

/** Makes the map read-only for user space (BPF_MAP_FREEZE). */
export function mapFreeze(map: FdLike): void {
  bpf(bpf_cmd.BPF_MAP_FREEZE, attr(MAP_ELEM_ATTR).set('map_fd', fdNumber(map)));
}

// ---------------------------------------------------------------------------------------------
// Programs and BTF

/** The verifier accepts log buffers up to UINT_MAX >> 2 bytes (kernel/bpf/log.c). */
const MAX_LOG_SIZE = 0xffffffff >>> 2;
const INITIAL_LOG_SIZE = 64 * 1024;

export interface ProgLoadOptions {
  /** enum bpf_prog_type. */
  type: number;
  /** Raw instructions, 8 bytes each, in host byte order. */
  insns: Uint8Array;
  license: string;
  kernVersion?: number;
  name?: string;
  /** BPF_F_* program flags. */
  flags?: number;
  /** enum bpf_attach_type. */
  expectedAttachType?: number;
  ifindex?: number;
  progBtfFd?: FdLike;
  funcInfo?: { recSize: number; data: Uint8Array };
  lineInfo?: { recSize: number; data: Uint8Array };
  attachBtfId?: number;
  attachProgFd?: FdLike;
  /** Descriptors referred to by index from BPF_PSEUDO_MAP_IDX / kfunc calls. */
  fdArray?: readonly number[];
  /**
   * Verifier log level (1 = per-branch, 2 = per-instruction). When given, the log is returned on
   * success; when not, the load runs without a log and is retried at level 1 only to explain a failure.
   */
  logLevel?: number;
  /** Starting log buffer size; it grows until the whole log fits. */
  logSize?: number;
}

export interface Loaded {
  fd: Fd;
  /** The kernel's log when a log level was requested. */
  log?: string;
}

/** Zero-padded little-endian u32 array in a pinned buffer. */
function u32Array(values: readonly number[]): Uint8Array {
  const out = pinned(values.length * 4);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => dv.setUint32(i * 4, v >>> 0, true));
  return out;
}

function decodeLog(buf: Uint8Array): string {
  const nul = buf.indexOf(0);
  return new TextDecoder().decode(nul < 0 ? buf : buf.subarray(0, nul));
}

interface LogField {
  level: 'log_level' | 'btf_log_level';
  size: 'log_size' | 'btf_log_size';
  buf: 'log_buf' | 'btf_log_buf';
  trueSize: 'log_true_size' | 'btf_log_true_size';
}

/**
 * Runs a load command, growing the log buffer on ENOSPC until the whole log fits (the kernel's
 * log_true_size says how much it needs on Linux 6.4+; older kernels get a 4x larger buffer).
 */
function loadWithLog(
  cmd: number,
  build: () => StructView<string>,
  f: LogField,
  kind: string,
  logLevel: number | undefined,
  logSize: number | undefined,
): Loaded {
  let level = logLevel ?? 0;
  let size = level > 0 ? Math.max(logSize ?? INITIAL_LOG_SIZE, 128) : 0;
  for (;;) {
    const a = build();
    const log = level > 0 ? pinned(size) : undefined;
    a.set(f.level, level).set(f.size, size).set(f.buf, addressOf(log));
    const r = rawBpf(cmd, a);
    const text = log ? decodeLog(log) : '';
    if (r >= 0) return logLevel ? { fd: new Fd(r, kind), log: text } : { fd: new Fd(r, kind) };
    const errno = -r;
    if (errno === ERRNO.ENOSPC && level > 0 && size < MAX_LOG_SIZE) {
      const needed = a.num(f.trueSize);
      size = Math.min(MAX_LOG_SIZE, needed > size ? needed : size * 4);
      continue;
    }
    if (level === 0 && errno !== ERRNO.E2BIG && errno !== ERRNO.EBADF && errno !== ERRNO.EFAULT) {
      level = 1;
      size = Math.max(logSize ?? INITIAL_LOG_SIZE, 128);
      continue;
    }
    const name = enumName(bpf_cmd, cmd) ?? String(cmd);
    if (text.length > 0) throw new VerifierError(name, errno, explainBpfErrno(cmd, errno), text);
    fail(cmd, errno);
  }
}

/** BPF_PROG_LOAD; a rejected program raises VerifierError carrying the whole verifier log. */
export function progLoad(o: ProgLoadOptions): Loaded {
  if (o.insns.byteLength === 0 || o.insns.byteLength % BPF_INSN_SIZE !== 0) {
    throw new BpfError(`program instructions must be a non-empty multiple of ${BPF_INSN_SIZE} bytes, got ${o.insns.byteLength}`);
  }
  const insns = pinnedCopy(o.insns);
  const license = pinnedCopy(new TextEncoder().encode(`${o.license}\0`));
  const funcInfo = o.funcInfo ? pinnedCopy(o.funcInfo.data) : undefined;
  const lineInfo = o.lineInfo ? pinnedCopy(o.lineInfo.data) : undefined;
  const fdArray = o.fdArray ? u32Array(o.fdArray) : undefined;
  const build = () => {
    const a = attr(PROG_LOAD_ATTR)
      .set('prog_type', o.type)
      .set('insn_cnt', insns.byteLength / BPF_INSN_SIZE)
      .set('insns', addressOf(insns))
      .set('license', addressOf(license))
      .set('kern_version', o.kernVersion ?? 0)
      .set('prog_flags', o.flags ?? 0)
      .set('prog_name', objName(o.name))
      .set('prog_ifindex', o.ifindex ?? 0)
      .set('expected_attach_type', o.expectedAttachType ?? 0)
      .set('attach_btf_id', o.attachBtfId ?? 0)
      .set('fd_array', addressOf(fdArray));
    if (o.progBtfFd !== undefined) a.set('prog_btf_fd', fdNumber(o.progBtfFd));
    if (o.attachProgFd !== undefined) a.set('attach_prog_fd', fdNumber(o.attachProgFd));
    if (o.funcInfo && funcInfo) {
      a.set('func_info_rec_size', o.funcInfo.recSize)
        .set('func_info', addressOf(funcInfo))
        .set('func_info_cnt', funcInfo.byteLength / o.funcInfo.recSize);
    }
    if (o.lineInfo && lineInfo) {
      a.set('line_info_rec_size', o.lineInfo.recSize)
        .set('line_info', addressOf(lineInfo))
        .set('line_info_cnt', lineInfo.byteLength / o.lineInfo.recSize);
    }
    return a;
  };
  return loadWithLog(
    bpf_cmd.BPF_PROG_LOAD,
    build,
    { level: 'log_level', size: 'log_size', buf: 'log_buf', trueSize: 'log_true_size' },
    'prog',
    o.logLevel,
    o.logSize,
  );
}

/** BPF_BTF_LOAD of a raw .BTF blob (header, types, strings). */
export function btfLoad(data: Uint8Array, opts: { logLevel?: number; logSize?: number } = {}): Loaded {
  const btf = pinnedCopy(data);
  const build = () => attr(BTF_LOAD_ATTR).set('btf', addressOf(btf)).set('btf_size', btf.byteLength);
  return loadWithLog(
    bpf_cmd.BPF_BTF_LOAD,
    build,
    { level: 'btf_log_level', size: 'btf_log_size', buf: 'btf_log_buf', trueSize: 'btf_log_true_size' },
    'btf',
    opts.logLevel,
    opts.logSize,
  );
}

// ---------------------------------------------------------------------------------------------
// Pinning

function cPath(path: string): Uint8Array {
  return pinnedCopy(new TextEncoder().encode(`${path}\0`));
}

/** Pins a map, program or link at `path` on a bpffs mount. */
export function objPin(fd: FdLike, path: string): void {
  const p = cPath(path);
  try {
    bpf(bpf_cmd.BPF_OBJ_PIN, attr(OBJ_ATTR).set('pathname', addressOf(p)).set('bpf_fd', fdNumber(fd)));
  } catch (e) {
    throw withPath(e, path);
  }
}

/** Opens the object pinned at `path`; `fileFlags` may be BPF_F_RDONLY or BPF_F_WRONLY. */
export function objGet(path: string, fileFlags = 0, kind = 'pinned object'): Fd {
  const p = cPath(path);
  try {
    return new Fd(bpf(bpf_cmd.BPF_OBJ_GET, attr(OBJ_ATTR).set('pathname', addressOf(p)).set('file_flags', fileFlags)), kind);
  } catch (e) {
    throw withPath(e, path);
  }
}

function withPath(e: unknown, path: string): unknown {
  if (!(e instanceof SyscallError)) return e;
  return new SyscallError(e.command, e.errno, `${e.explanation} (path ${path})`, {
    hint: path.startsWith('/sys/fs/bpf') ? undefined : 'pin paths must be on a bpffs mount such as /sys/fs/bpf',
  });
}

// ---------------------------------------------------------------------------------------------
// Test runs

export interface TestRunOptions {
  dataIn?: Uint8Array;
  /** Room for the packet after the run; defaults to the input size plus 256 bytes of headroom. */
  dataSizeOut?: number;
  ctxIn?: Uint8Array;
  ctxSizeOut?: number;
  repeat?: number;
  flags?: number;
  cpu?: number;
  batchSize?: number;
}

export interface TestRunResult {
  retval: number;
  /** Average run time in nanoseconds as measured by the kernel. */
  duration: number;
  dataOut?: Uint8Array;
  ctxOut?: Uint8Array;
}

/** BPF_PROG_TEST_RUN. */
export function progTestRun(prog: FdLike, o: TestRunOptions = {}): TestRunResult {
  const dataIn = o.dataIn ? pinnedCopy(o.dataIn) : undefined;
  const dataOut = dataIn || o.dataSizeOut ? pinned(o.dataSizeOut ?? (dataIn?.byteLength ?? 0) + 256) : undefined;
  const ctxIn = o.ctxIn ? pinnedCopy(o.ctxIn) : undefined;
  const ctxOut = o.ctxSizeOut ? pinned(o.ctxSizeOut) : undefined;
  const a = attr(TEST_RUN_ATTR)
    .set('prog_fd', fdNumber(prog))
    .set('data_size_in', dataIn?.byteLength ?? 0)
    .set('data_in', addressOf(dataIn))
    .set('data_size_out', dataOut?.byteLength ?? 0)
    .set('data_out', addressOf(dataOut))
    .set('ctx_size_in', ctxIn?.byteLength ?? 0)
    .set('ctx_in', addressOf(ctxIn))
    .set('ctx_size_out', ctxOut?.byteLength ?? 0)
    .set('ctx_out', addressOf(ctxOut))
    .set('repeat', o.repeat ?? 1)
    .set('flags', o.flags ?? 0)
    .set('cpu', o.cpu ?? 0)
    .set('batch_size', o.batchSize ?? 0);
  bpf(bpf_cmd.BPF_PROG_TEST_RUN, a);
  const result: TestRunResult = { retval: a.num('retval'), duration: a.num('duration') };
  if (dataOut) result.dataOut = dataOut.slice(0, Math.min(a.num('data_size_out'), dataOut.byteLength));
  if (ctxOut) result.ctxOut = ctxOut.slice(0, Math.min(a.num('ctx_size_out'), ctxOut.byteLength));
  return result;
}

// ---------------------------------------------------------------------------------------------
// Links

export interface LinkCreateOptions {
  prog: FdLike;
  /** enum bpf_attach_type, e.g. BPF_TCX_INGRESS, BPF_TCX_EGRESS, BPF_XDP. */
  attachType: number;
  /** The network device for tcx and XDP links (in the caller's network namespace). */
  targetIfindex?: number;
  /** The target descriptor for cgroup and similar links. */
  targetFd?: FdLike;
  /** For XDP links: XDP_FLAGS_*; for tcx: BPF_F_BEFORE/AFTER/ID/REPLACE ordering flags. */
  flags?: number;
  tcx?: { relativeFd?: number; relativeId?: number; expectedRevision?: bigint };
  /** BPF_PERF_EVENT links (targetFd is the perf event): the cookie bpf_get_attach_cookie returns. */
  perfEvent?: { bpfCookie?: bigint };
  /** fentry/fexit/fmod_ret, tp_btf and lsm links: another target than the one the program was loaded for, and the cookie. */
  tracing?: { targetBtfId?: number; cookie?: bigint };
}

/** BPF_LINK_CREATE: an attachment that lasts as long as the returned link descriptor (or its pin). */
export function linkCreate(o: LinkCreateOptions): Fd {
  const a = attr(LINK_CREATE_ATTR)
    .set('prog_fd', fdNumber(o.prog))
    .set('attach_type', o.attachType)
    .set('flags', o.flags ?? 0);
  if (o.targetIfindex !== undefined) a.set('target_ifindex', o.targetIfindex);
  else if (o.targetFd !== undefined) a.set('target_fd', fdNumber(o.targetFd));
  if (o.tcx?.relativeFd !== undefined) a.set('tcx.relative_fd', o.tcx.relativeFd);
  if (o.tcx?.relativeId !== undefined) a.set('tcx.relative_id', o.tcx.relativeId);
  if (o.tcx?.expectedRevision !== undefined) a.set('tcx.expected_revision', o.tcx.expectedRevision);
  if (o.perfEvent?.bpfCookie !== undefined) a.set('perf_event.bpf_cookie', o.perfEvent.bpfCookie);
  if (o.tracing?.targetBtfId !== undefined) a.set('tracing.target_btf_id', o.tracing.targetBtfId);
  if (o.tracing?.cookie !== undefined) a.set('tracing.cookie', o.tracing.cookie);
  return new Fd(bpf(bpf_cmd.BPF_LINK_CREATE, a), 'link');
}

/**
 * BPF_RAW_TRACEPOINT_OPEN: attaches a raw_tp program to the tracepoint `name` (or, with no name, a
 * tp_btf/fentry/fexit/lsm program to the target it was loaded for); the result is a link.
 */
export function rawTracepointOpen(prog: FdLike, name: string | undefined, cookie?: bigint): Fd {
  const n = name === undefined ? undefined : cPath(name);
  const a = attr(RAW_TRACEPOINT_OPEN_ATTR).set('name', addressOf(n)).set('prog_fd', fdNumber(prog));
  if (cookie !== undefined) a.set('cookie', cookie);
  return new Fd(bpf(bpf_cmd.BPF_RAW_TRACEPOINT_OPEN, a), 'link');
}

/** BPF_LINK_DETACH: detaches the program while the link descriptor stays open (and defunct). */
export function linkDetach(link: FdLike): void {
  bpf(bpf_cmd.BPF_LINK_DETACH, attr(LINK_DETACH_ATTR).set('link_fd', fdNumber(link)));
}

// ---------------------------------------------------------------------------------------------
// Ids and object info

function nextId(cmd: number, start: number): number | undefined {
  const a = attr(GET_ID_ATTR).set('start_id', start);
  const r = rawBpf(cmd, a);
  if (r === -ERRNO.ENOENT) return undefined;
  if (r < 0) fail(cmd, -r);
  return a.num('next_id');
}

/** The smallest program id above `start`, or undefined. */
export function progGetNextId(start = 0): number | undefined {
  return nextId(bpf_cmd.BPF_PROG_GET_NEXT_ID, start);
}

/** The smallest map id above `start`, or undefined. */
export function mapGetNextId(start = 0): number | undefined {
  return nextId(bpf_cmd.BPF_MAP_GET_NEXT_ID, start);
}

export function progGetFdById(id: number): Fd {
  return new Fd(bpf(bpf_cmd.BPF_PROG_GET_FD_BY_ID, attr(GET_ID_ATTR).set('prog_id', id)), 'prog');
}

export function mapGetFdById(id: number, openFlags = 0): Fd {
  return new Fd(bpf(bpf_cmd.BPF_MAP_GET_FD_BY_ID, attr(GET_ID_ATTR).set('map_id', id).set('open_flags', openFlags)), 'map');
}

export function linkGetFdById(id: number): Fd {
  return new Fd(bpf(bpf_cmd.BPF_LINK_GET_FD_BY_ID, attr(GET_ID_ATTR).set('link_id', id)), 'link');
}

export function btfGetFdById(id: number): Fd {
  return new Fd(bpf(bpf_cmd.BPF_BTF_GET_FD_BY_ID, attr(GET_ID_ATTR).set('btf_id', id)), 'btf');
}

/** BPF_OBJ_GET_INFO_BY_FD into `info` (whose pointer fields the caller has set). */
function objInfo<K extends string>(fd: FdLike, info: StructView<K>): void {
  const a = attr(INFO_ATTR)
    .set('bpf_fd', fdNumber(fd))
    .set('info_len', info.layout.size)
    .set('info', addressOf(info.bytes));
  bpf(bpf_cmd.BPF_OBJ_GET_INFO_BY_FD, a);
}

export interface ProgInfo {
  type: number;
  id: number;
  /** The kernel's program tag (SHA-1 prefix of the instructions), as 16 hex digits like bpftool prints. */
  tag: string;
  name: string;
  jitedProgLen: number;
  xlatedProgLen: number;
  /** Nanoseconds since boot. */
  loadTime: bigint;
  createdByUid: number;
  mapIds: number[];
  ifindex: number;
  btfId: number;
  runTimeNs: bigint;
  runCnt: bigint;
  verifiedInsns: number;
  /** The BTF id of the kernel function/tracepoint a BTF-attached program targets (0: none). */
  attachBtfId: number;
}

export function progGetInfo(prog: FdLike): ProgInfo {
  const first = new StructView(BPF_PROG_INFO, pinned(BPF_PROG_INFO.size));
  objInfo(prog, first);
  const nrMaps = first.num('nr_map_ids');
  let mapIds: number[] = [];
  if (nrMaps > 0) {
    const ids = pinned(nrMaps * 4);
    const second = new StructView(BPF_PROG_INFO, pinned(BPF_PROG_INFO.size))
      .set('nr_map_ids', nrMaps)
      .set('map_ids', addressOf(ids));
    objInfo(prog, second);
    const dv = new DataView(ids.buffer);
    mapIds = Array.from({ length: Math.min(nrMaps, second.num('nr_map_ids')) }, (_, i) => dv.getUint32(i * 4, true));
  }
  return {
    type: first.num('type'),
    id: first.num('id'),
    tag: Array.from(first.raw('tag'), (b) => b.toString(16).padStart(2, '0')).join(''),
    name: first.str('name'),
    jitedProgLen: first.num('jited_prog_len'),
    xlatedProgLen: first.num('xlated_prog_len'),
    loadTime: first.u64('load_time'),
    createdByUid: first.num('created_by_uid'),
    mapIds,
    ifindex: first.num('ifindex'),
    btfId: first.num('btf_id'),
    runTimeNs: first.u64('run_time_ns'),
    runCnt: first.u64('run_cnt'),
    verifiedInsns: first.num('verified_insns'),
    attachBtfId: first.num('attach_btf_id'),
  };
}

/**
 * The instructions as the verifier left them (bpftool's `dump xlated`): map references hold map
 * ids, helper calls their kernel offsets. Needs CAP_SYS_ADMIN for the raw form.
 */
export function progXlatedInsns(prog: FdLike): Uint8Array {
  const first = new StructView(BPF_PROG_INFO, pinned(BPF_PROG_INFO.size));
  objInfo(prog, first);
  const len = first.num('xlated_prog_len');
  const buf = pinned(len);
  const second = new StructView(BPF_PROG_INFO, pinned(BPF_PROG_INFO.size))
    .set('xlated_prog_len', len)
    .set('xlated_prog_insns', addressOf(buf));
  objInfo(prog, second);
  return new Uint8Array(buf).slice(0, Math.min(len, second.num('xlated_prog_len')));
}

export interface MapInfo {
  type: number;
  id: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  name: string;
  ifindex: number;
  btfId: number;
  btfKeyTypeId: number;
  btfValueTypeId: number;
  mapExtra: bigint;
}

export function mapGetInfo(map: FdLike): MapInfo {
  const info = new StructView(BPF_MAP_INFO, pinned(BPF_MAP_INFO.size));
  objInfo(map, info);
  return {
    type: info.num('type'),
    id: info.num('id'),
    keySize: info.num('key_size'),
    valueSize: info.num('value_size'),
    maxEntries: info.num('max_entries'),
    flags: info.num('map_flags'),
    name: info.str('name'),
    ifindex: info.num('ifindex'),
    btfId: info.num('btf_id'),
    btfKeyTypeId: info.num('btf_key_type_id'),
    btfValueTypeId: info.num('btf_value_type_id'),
    mapExtra: info.u64('map_extra'),
  };
}

/** The info of each object an id walk finds; one removed between GET_NEXT_ID and GET_FD_BY_ID is skipped. */
function infoOfEach<T>(nextId: (start: number) => number | undefined, fdById: (id: number) => Fd, info: (fd: Fd) => T): T[] {
  const out: T[] = [];
  for (let id = nextId(0); id !== undefined; id = nextId(id)) {
    try {
      const fd = fdById(id);
      try {
        out.push(info(fd));
      } finally {
        fd.close();
      }
    } catch {
      continue;
    }
  }
  return out;
}

/** Every program loaded in the kernel. */
export function kernelPrograms(): ProgInfo[] {
  return infoOfEach(progGetNextId, progGetFdById, progGetInfo);
}

/** Every map in the kernel. */
export function kernelMaps(): MapInfo[] {
  return infoOfEach(mapGetNextId, (id) => mapGetFdById(id), mapGetInfo);
}

export interface BtfInfo {
  id: number;
  /** Size of the raw BTF blob in bytes. */
  size: number;
}

export function btfGetInfo(btf: FdLike): BtfInfo {
  const info = new StructView(BPF_BTF_INFO, pinned(BPF_BTF_INFO.size));
  objInfo(btf, info);
  return { id: info.num('id'), size: info.num('btf_size') };
}

/** The raw BTF blob a BTF object holds (what `bpftool btf dump id N format raw` reads). */
export function btfGetRaw(btf: FdLike): Uint8Array {
  const size = btfGetInfo(btf).size;
  const buf = pinned(size);
  const info = new StructView(BPF_BTF_INFO, pinned(BPF_BTF_INFO.size)).set('btf', addressOf(buf)).set('btf_size', size);
  objInfo(btf, info);
  return new Uint8Array(buf).slice(0, Math.min(size, info.num('btf_size')));
}

export interface LinkInfo {
  /** enum bpf_link_type. */
  type: number;
  id: number;
  progId: number;
  /** tcx links: the device and BPF_TCX_INGRESS/EGRESS. */
  tcx?: { ifindex: number; attachType: number };
}

export function linkGetInfo(link: FdLike): LinkInfo {
  const info = new StructView(BPF_LINK_INFO, pinned(BPF_LINK_INFO.size));
  objInfo(link, info);
  const type = info.num('type');
  return {
    type, id: info.num('id'), progId: info.num('prog_id'),
    ...(type === bpf_link_type.BPF_LINK_TYPE_TCX ? { tcx: { ifindex: info.num('tcx.ifindex'), attachType: info.num('tcx.attach_type') } } : {}),
  };
}
