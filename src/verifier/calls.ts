// Helper calls (check_helper_call and check_func_arg in kernel/bpf/verifier.c): each argument
// checked against the helper's prototype, the map/helper pairing, references acquired and
// released, r1-r5 clobbered and r0 typed by the return type; packet pointers forgotten after a
// helper that may move packet data; callbacks (bpf_loop, bpf_for_each_map_elem, ...) walked in a
// frame of their own.
import {
  BPF_FUNC_NAMES, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PROG_ARRAY, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS, BPF_MAP_TYPE_SOCKHASH, BPF_MAP_TYPE_SOCKMAP,
  BPF_MAP_TYPE_XSKMAP,
} from '../uapi/index.js';
import { checkMapValue, checkPacket, checkPtrOffReg, checkRegion, mayAccessPacket, stackHelperAccess } from './access.js';
import { frame, newId, regs, reject, type Env } from './env.js';
import { EXPECTED_TYPES, helperProto, wrongArgTypeMessage, type ArgSpec, type ArgType, type Callback, type HelperProto } from './helper-protos.js';
import { mapHelperConflict } from './map-helpers.js';
import { boundsSync, scalarConstValue, scalarIsConst, scalarUnknown, type Scalar } from './scalar.js';
import {
  STACK_SPILL, STACK_ZERO, allRegs, isPktPointer, markPrecise, newFrame, notInit, ptrReg, scalarReg, typeName, type Reg, type RegType, type VMap,
} from './state.js';

const BPF_MAX_VAR_SIZ = 1n << 29n;
const MAX_ERRNO = 4095n;

interface Meta {
  map?: VMap;
  /** umax of the last ARG_CONST_SIZE: what str helpers may return at most. */
  msize?: bigint;
  memSize?: number;
  releaseRef?: number;
  releaseReg?: number;
  callback?: number;
  /** get_constant_map_key: an array map's key known from the stack. */
  constKey?: bigint;
  /** The reference an argument holds (for ptr-cast helpers, whose result shares it). */
  argRef?: number;
}

/** check_func_arg_reg_off: the register types a helper may get at any fixed and variable offset. */
const VARIABLE_OFFSET_ARGS: ReadonlySet<RegType> = new Set(['fp', 'pkt', 'pkt_meta', 'map_key', 'map_value', 'mem', 'buf', 'scalar', 'ptr_']);

const helperName = (id: number): string => `bpf_${BPF_FUNC_NAMES[id] ?? `unknown#${id}`}`;
const isNullScalar = (r: Reg): boolean => r.t === 'scalar' && scalarConstValue(r.s) === 0n;

const compatCache = new Map<ArgType, ReadonlySet<string>>();

/** check_reg_type: the register's type must be one compatible_reg_types lists for the argument. */
function checkRegType(r: Reg, regno: number, arg: ArgSpec): void {
  if (r.t === 'any') return;
  const text = EXPECTED_TYPES[arg.type];
  if (text === undefined) return;
  let compat = compatCache.get(arg.type);
  if (!compat) {
    compat = new Set(text.split(', '));
    compatCache.set(arg.type, compat);
  }
  const actual = typeName(r);
  if (!compat.has(actual)) reject(wrongArgTypeMessage(regno, actual, arg.type));
}

/** check_helper_mem_access: `size` bytes at the register, for a helper to read or write. */
function helperMem(env: Env, r: Reg, regno: number, size: number, write: boolean, zeroSizeAllowed: boolean): void {
  if (size === 0 && zeroSizeAllowed && isNullScalar(r)) return;
  switch (r.t) {
    case 'pkt': case 'pkt_meta':
      checkPacket(r, regno, r.off, size, zeroSizeAllowed);
      return;
    case 'map_key':
      checkRegion(r, regno, r.off, size, r.map!.keySize, zeroSizeAllowed);
      return;
    case 'map_value':
      checkMapValue(r, regno, r.off, size, write ? 'write' : 'read', zeroSizeAllowed);
      return;
    case 'mem':
      if (r.rdonly && write) reject(`R${regno} cannot write into ${typeName(r)}`);
      checkRegion(r, regno, r.off, size, r.aux, zeroSizeAllowed);
      return;
    case 'fp':
      stackHelperAccess(env, r, regno, r.off, size, write, zeroSizeAllowed);
      return;
    default:
  }
}

function checkFuncArg(env: Env, proto: HelperProto, argNo: number, meta: Meta): void {
  const arg = proto.args[argNo]!;
  const regno = argNo + 1;
  if (arg.type === 'ARG_DONTCARE') return;
  const r = regs(env)[regno]!;
  if (r.t === 'not_init') reject(`R${regno} !read_ok`);
  if (arg.type === 'ARG_ANYTHING') return;
  if (isPktPointer(r) && !mayAccessPacket(env.progType, 'read')) reject('helper access to the packet is not allowed');
  const nullable = arg.maybeNull === true;
  if (!(nullable && isNullScalar(r))) {
    checkRegType(r, regno, arg);
    if (r.t !== 'any') {
      if (arg.release) {
        if (r.off) reject(`R${regno} must have zero offset when passed to release func or trusted arg to kfunc`);
        checkPtrOffReg(r, regno, false);
      } else if (!VARIABLE_OFFSET_ARGS.has(r.t)) {
        checkPtrOffReg(r, regno, false);
      }
    }
  }
  if (arg.release && r.t !== 'any' && !(nullable && isNullScalar(r))) {
    if (!r.ref) reject(`R${regno} must be referenced when passed to release function`);
    meta.releaseRef = r.ref;
    meta.releaseReg = regno;
  }
  if (r.ref) meta.argRef = r.ref;
  if (r.t === 'any') {
    if (arg.type === 'ARG_CONST_MAP_PTR') meta.map = undefined;
    return;
  }
  const write = arg.uninit === true || arg.write === true;
  switch (arg.type) {
    case 'ARG_CONST_MAP_PTR':
      meta.map = r.map;
      return;
    case 'ARG_PTR_TO_MAP_KEY':
      if (!meta.map) return;
      helperMem(env, r, regno, meta.map.keySize, false, false);
      if (r.t === 'fp' && (meta.map.type === BPF_MAP_TYPE_ARRAY || meta.map.type === BPF_MAP_TYPE_PERCPU_ARRAY)) {
        const key = constantKey(env, r, meta.map.keySize);
        if (key !== undefined) meta.constKey = key;
      }
      return;
    case 'ARG_PTR_TO_MAP_VALUE':
      if (nullable && isNullScalar(r)) return;
      if (meta.map) helperMem(env, r, regno, meta.map.valueSize, write, false);
      return;
    case 'ARG_PTR_TO_MEM':
      if (arg.fixedSize !== undefined && !(nullable && isNullScalar(r))) helperMem(env, r, regno, arg.fixedSize, write, false);
      return;
    case 'ARG_CONST_SIZE':
    case 'ARG_CONST_SIZE_OR_ZERO': {
      const zeroOk = arg.type === 'ARG_CONST_SIZE_OR_ZERO';
      const s = r.s;
      markPrecise(r.o);
      if (s.smin < 0n) reject(`R${regno} min value is negative, either use unsigned or 'var &= const'`);
      if (s.umin === 0n && !zeroOk) reject(`R${regno} invalid zero-sized read: u64=[${s.umin},${s.umax}]`);
      if (s.umax >= BPF_MAX_VAR_SIZ) reject(`R${regno} unbounded memory access, use 'var &= const' or 'if (var < const)'`);
      const memArg = proto.args[argNo - 1];
      const memReg = regs(env)[regno - 1]!;
      meta.msize = s.umax;
      if (memReg.t !== 'any') helperMem(env, memReg, regno - 1, Number(s.umax), memArg?.uninit === true || memArg?.write === true, zeroOk);
      return;
    }
    case 'ARG_CONST_ALLOC_SIZE_OR_ZERO':
      markPrecise(r.o);
      if (!scalarIsConst(r.s)) reject(`R${regno} is not a known constant'`);
      meta.memSize = Number(scalarConstValue(r.s));
      return;
    case 'ARG_PTR_TO_FUNC':
      meta.callback = r.aux;
      return;
    case 'ARG_PTR_TO_SPIN_LOCK': {
      if (r.t !== 'map_value' || !r.map) return;
      if (!scalarIsConst(r.s)) reject(`R${regno} doesn't have constant offset. bpf_spin_lock has to be at the constant offset`);
      if (r.map.spinLockOff === undefined) reject(`map '${r.map.name}' has no valid bpf_spin_lock`);
      const at = Number(scalarConstValue(r.s)!) + r.off;
      if (at !== r.map.spinLockOff) reject(`off ${at} doesn't point to 'struct bpf_spin_lock' that is at ${r.map.spinLockOff}`);
      return;
    }
    default:
  }
}

/**
 * get_constant_map_key: a key on the stack that is zero bytes, or a spilled constant of exactly the
 * key's size. The lookup of an in-range constant key in an array cannot fail (6.14 and later).
 */
function constantKey(env: Env, r: Reg, keySize: number): bigint | undefined {
  if (!scalarIsConst(r.s)) return undefined;
  const addr = r.off + Number(BigInt.asIntN(64, scalarConstValue(r.s)!));
  if (addr >= 0 || addr < -512) return undefined;
  const f = env.cur.frames[r.aux]!;
  const byte = -addr - 1;
  const slot = Math.floor(byte / 8);
  const off = byte % 8;
  let zero = 0;
  for (let i = off; i >= 0 && f.stype[slot * 8 + i] === STACK_ZERO; i--) zero++;
  if (zero >= keySize) return 0n;
  const spill = f.spilled[slot];
  if (!spill || spill.t !== 'scalar' || f.stype[slot * 8 + 7] !== STACK_SPILL) return undefined;
  let spillSize = 0;
  for (let i = off; i >= 0 && f.stype[slot * 8 + i] === STACK_SPILL; i--) spillSize++;
  if (spillSize !== keySize || !scalarIsConst(spill.s)) return undefined;
  markPrecise(spill.o);
  return scalarConstValue(spill.s);
}

/** Forgets every packet pointer (clear_all_pkt_pointers): a privileged program keeps them as unknown scalars. */
function clearPacketPointers(env: Env): void {
  for (const r of allRegs(env.cur)) {
    if (r.t === 'pkt' || r.t === 'pkt_meta' || r.t === 'pkt_end') Object.assign(r, scalarReg());
  }
}

/** release_reference: the reference ends, and every register that held it becomes an unknown scalar. */
export function releaseReference(env: Env, ref: number): void {
  env.cur.refs = env.cur.refs.filter((r) => r.id !== ref);
  for (const r of allRegs(env.cur)) if (r.ref === ref) Object.assign(r, scalarReg());
}

function acquireReference(env: Env, insn: number): number {
  const id = newId(env);
  env.cur.refs.push({ id, insn });
  return id;
}

function returnRegister(env: Env, proto: HelperProto, meta: Meta, insn: number): Reg {
  const nullable = proto.retMaybeNull === true;
  switch (proto.ret) {
    case 'RET_VOID': return notInit();
    case 'RET_INTEGER':
      if (proto.retBounds?.kind === 'size-arg' && meta.msize !== undefined) return scalarReg(boundedRet(-MAX_ERRNO, meta.msize));
      return scalarReg();
    case 'RET_PTR_TO_MAP_VALUE': {
      if (!meta.map) return ptrReg('any');
      const known = proto.name === 'map_lookup_elem' && meta.constKey !== undefined && meta.constKey < BigInt(meta.map.maxEntries);
      const mayBeNull = nullable && !known;
      const r = ptrReg('map_value', { map: meta.map, nullable: mayBeNull, id: mayBeNull ? newId(env) : 0 });
      if (proto.acquires === 'sockmap' && (meta.map.type === BPF_MAP_TYPE_SOCKMAP || meta.map.type === BPF_MAP_TYPE_SOCKHASH)) {
        r.ref = acquireReference(env, insn);
        r.id = r.ref;
      }
      return r;
    }
    case 'RET_PTR_TO_SOCKET': case 'RET_PTR_TO_TCP_SOCK': case 'RET_PTR_TO_SOCK_COMMON': {
      const t: RegType = proto.ret === 'RET_PTR_TO_SOCKET' ? 'sock' : proto.ret === 'RET_PTR_TO_TCP_SOCK' ? 'tcp_sock' : 'sock_common';
      const r = ptrReg(t, { nullable, id: nullable ? newId(env) : 0 });
      if (proto.ptrCast && meta.argRef) r.ref = meta.argRef;
      const sockmap = meta.map && (meta.map.type === BPF_MAP_TYPE_SOCKMAP || meta.map.type === BPF_MAP_TYPE_SOCKHASH);
      if (proto.acquires === true || (proto.acquires === 'sockmap' && sockmap)) {
        r.ref = acquireReference(env, insn);
        r.id = r.ref;
      }
      return r;
    }
    case 'RET_PTR_TO_MEM': {
      if (!proto.retRingbuf) return ptrReg('any');
      const r = ptrReg('mem', { nullable, ringbuf: true, aux: meta.memSize ?? 0 });
      // The NULL check's id is taken before the reference's (check_helper_call's order).
      if (nullable) newId(env);
      r.ref = acquireReference(env, insn);
      r.id = r.ref;
      return r;
    }
    default:
      return ptrReg('any');
  }
}

function boundedRet(smin: bigint, smax: bigint): Scalar {
  const u = scalarUnknown();
  return boundsSync({ ...u, smin, smax, s32min: Number(smin), s32max: Number(smax > 0x7fffffffn ? 0x7fffffffn : smax) });
}

/** Sets up the frame a callback runs in (set_*_callback_state). */
function callbackFrame(env: Env, helper: number, cb: Callback, callback: number, meta: Meta, callsite: number): void {
  const caller = frame(env);
  const callee = newFrame(callsite, callback);
  const map = meta.map;
  cb.args.forEach((a, i) => {
    const r = i + 1;
    switch (a.kind) {
      case 'scalar': callee.regs[r] = scalarReg(); break;
      case 'map_ptr': callee.regs[r] = map ? ptrReg('map_ptr', { map }) : ptrReg('any'); break;
      case 'map_key': callee.regs[r] = map ? ptrReg('map_key', { map }) : ptrReg('any'); break;
      case 'map_value': callee.regs[r] = map ? ptrReg('map_value', { map }) : ptrReg('any'); break;
      case 'helper_arg': callee.regs[r] = { ...caller.regs[a.arg]! }; break;
      case 'not_init': callee.regs[r] = notInit(); break;
      default: callee.regs[r] = ptrReg('any');
    }
  });
  callee.regs[10] = ptrReg('fp', { aux: env.cur.frames.length });
  callee.callback = { helper, retMin: cb.ret.min, retMax: cb.ret.max };
  env.cur.frames.push(callee);
}

export function checkHelperCall(env: Env, id: number, insn: number, pushCallback: (setup: () => void, entry: number) => void): void {
  const proto = helperProto(id, env.progType);
  if (!proto) {
    // A helper bpfts has no prototype for: nothing about its arguments or result is known.
    const rs = regs(env);
    for (let r = 1; r <= 5; r++) rs[r] = notInit();
    rs[0] = ptrReg('any');
    return;
  }
  const meta: Meta = {};
  for (let a = 0; a < proto.args.length && a < 5; a++) checkFuncArg(env, proto, a, meta);
  if (proto.name === 'tail_call') {
    if (meta.map && meta.map.type !== BPF_MAP_TYPE_PROG_ARRAY) reject('expected prog array map for tail call');
    if (env.cur.refs.length > 0) {
      const ref = env.cur.refs[0]!;
      reject(`Unreleased reference id=${ref.id} alloc_insn=${ref.insn}`, 'tail_call would lead to reference leak');
    }
  }
  if (meta.map) {
    const conflict = mapHelperConflict(meta.map.type, proto.name);
    if (conflict) reject(`cannot pass map_type ${meta.map.type} into func ${helperName(id)}#${id}`);
  }
  if (meta.releaseRef !== undefined) releaseReference(env, meta.releaseRef);
  const cb = proto.callback;
  if (meta.callback !== undefined && cb) {
    const entry = meta.callback;
    pushCallback(() => callbackFrame(env, id, cb, entry, meta, insn), entry);
  }
  const rs = regs(env);
  const ret = returnRegister(env, proto, meta, insn);
  for (let r = 1; r <= 5; r++) rs[r] = notInit();
  rs[0] = ret;
  if (proto.changesPktData) clearPacketPointers(env);
}

/** Where a map lookup's result points once it is known not to be NULL (mark_ptr_not_null_reg). */
export function notNullType(r: Reg): void {
  r.nullable = false;
  if (r.t !== 'map_value' || !r.map) return;
  if ((r.map.type === BPF_MAP_TYPE_ARRAY_OF_MAPS || r.map.type === BPF_MAP_TYPE_HASH_OF_MAPS)) {
    if (r.map.inner) {
      r.t = 'map_ptr';
      r.map = r.map.inner;
    } else {
      r.t = 'any';
    }
  } else if (r.map.type === BPF_MAP_TYPE_XSKMAP) r.t = 'xdp_sock';
  else if (r.map.type === BPF_MAP_TYPE_SOCKMAP || r.map.type === BPF_MAP_TYPE_SOCKHASH) r.t = 'sock';
}

