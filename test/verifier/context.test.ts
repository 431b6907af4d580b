// src/verifier/context.ts against the running kernel: every offset and size of every context that
// loads without an attach target, read, written from a register and written with an immediate, in
// three-instruction programs whose only question is the context access. The load type is checked
// in the same sweep from the level-2 log, which prints the destination register after the load.
import { describe, expect, it } from 'vitest';
import { BPF_PROG_LOAD_FLAGS, progLoad, VerifierError } from '../../src/loader/raw.js';
import { bpf_attach_type as A, bpf_prog_type as P, enumName } from '../../src/uapi/index.js';
import {
  atomicCtxMessage, ctxAccess, ctxKind, ctxSize, invalidCtxAccessMessage, modifiedCtxPtrMessage,
  negativeCtxPtrMessage, variableCtxAccessMessage, type CtxLoad,
} from '../../src/verifier/context.js';
import { haveRoot } from '../helpers/env.js';
import { EXIT, ins, MOV_R0 } from '../verify/asm.js';

const root = haveRoot();

const SIZE_CODE: Record<number, number> = { 1: 0x10, 2: 0x08, 4: 0x00, 8: 0x18 };
type Mode = 'read' | 'stx' | 'st';

/** r2 = *(size *)(r1 + off), *(size *)(r1 + off) = r0, or *(size *)(r1 + off) = 0; then exit with 1. */
function accessProgram(mode: Mode, off: number, size: number): number[][] {
  const sz = SIZE_CODE[size]!;
  if (mode === 'read') return [ins(0x61 | sz, 2, 1, off, 0), MOV_R0(1), EXIT];
  if (mode === 'stx') return [MOV_R0(1), ins(0x63 | sz, 1, 0, off, 0), EXIT];
  return [ins(0x62 | sz, 1, 0, off, 0), MOV_R0(1), EXIT];
}

interface Outcome {
  ok: boolean;
  log: string;
}

function load(t: Target, code: number[][], logLevel = 1): Outcome {
  try {
    const r = progLoad({ type: t.type, expectedAttachType: t.attach, flags: t.flags, insns: Uint8Array.from(code.flat()), license: 'GPL', logLevel });
    r.fd.close();
    return { ok: true, log: r.log ?? '' };
  } catch (e) {
    if (e instanceof VerifierError) return { ok: false, log: e.log };
    throw e;
  }
}

/** The kernel's reg_type_str for what a load produced, as the level-2 log prints it. */
function loadText(l: CtxLoad): string {
  switch (l.kind) {
    case 'btf_id': return `trusted_ptr_${l.struct}`;
    default: return l.kind;
  }
}

/** R2's type after instruction 0 in a level-2 log: `0: (61) r2 = ... ; R1=ctx() R2_w=pkt(r=0)`. */
function loadedType(log: string): string | undefined {
  const line = log.split('\n').find((l) => l.startsWith('0: ('));
  return line?.match(/ R2(?:_w)?=([a-z_]+)/)?.[1];
}

interface Target {
  type: number;
  attach?: number;
  flags?: number;
}
const T = (type: number, attach?: number, flags?: number): Target => ({ type, attach, flags });
const TARGETS: Target[] = [
  T(P.BPF_PROG_TYPE_SOCKET_FILTER), T(P.BPF_PROG_TYPE_SCHED_CLS), T(P.BPF_PROG_TYPE_SCHED_ACT),
  T(P.BPF_PROG_TYPE_XDP), T(P.BPF_PROG_TYPE_XDP, A.BPF_XDP_DEVMAP), T(P.BPF_PROG_TYPE_CGROUP_SKB),
  T(P.BPF_PROG_TYPE_LWT_IN), T(P.BPF_PROG_TYPE_LWT_OUT), T(P.BPF_PROG_TYPE_LWT_XMIT),
  T(P.BPF_PROG_TYPE_LWT_SEG6LOCAL), T(P.BPF_PROG_TYPE_SK_SKB), T(P.BPF_PROG_TYPE_SK_MSG),
  T(P.BPF_PROG_TYPE_SOCK_OPS), T(P.BPF_PROG_TYPE_FLOW_DISSECTOR),
  T(P.BPF_PROG_TYPE_CGROUP_SOCK), T(P.BPF_PROG_TYPE_CGROUP_SOCK, A.BPF_CGROUP_INET_SOCK_RELEASE),
  T(P.BPF_PROG_TYPE_CGROUP_SOCK, A.BPF_CGROUP_INET4_POST_BIND), T(P.BPF_PROG_TYPE_CGROUP_SOCK, A.BPF_CGROUP_INET6_POST_BIND),
  ...[A.BPF_CGROUP_INET4_BIND, A.BPF_CGROUP_INET6_CONNECT, A.BPF_CGROUP_UDP4_SENDMSG, A.BPF_CGROUP_UDP6_SENDMSG,
    A.BPF_CGROUP_UDP4_RECVMSG, A.BPF_CGROUP_INET6_GETSOCKNAME, A.BPF_CGROUP_UNIX_CONNECT]
    .map((a) => T(P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, a)),
  T(P.BPF_PROG_TYPE_CGROUP_SYSCTL), T(P.BPF_PROG_TYPE_CGROUP_DEVICE),
  T(P.BPF_PROG_TYPE_CGROUP_SOCKOPT, A.BPF_CGROUP_GETSOCKOPT), T(P.BPF_PROG_TYPE_CGROUP_SOCKOPT, A.BPF_CGROUP_SETSOCKOPT),
  T(P.BPF_PROG_TYPE_SK_REUSEPORT, A.BPF_SK_REUSEPORT_SELECT), T(P.BPF_PROG_TYPE_SK_LOOKUP, A.BPF_SK_LOOKUP),
  T(P.BPF_PROG_TYPE_NETFILTER, A.BPF_NETFILTER), T(P.BPF_PROG_TYPE_KPROBE), T(P.BPF_PROG_TYPE_TRACEPOINT),
  T(P.BPF_PROG_TYPE_RAW_TRACEPOINT), T(P.BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE), T(P.BPF_PROG_TYPE_PERF_EVENT),
  // Syscall programs load only as sleepable ones.
  T(P.BPF_PROG_TYPE_SYSCALL, undefined, BPF_PROG_LOAD_FLAGS.BPF_F_SLEEPABLE),
];

const label = (t: Target): string =>
  `${enumName(P, t.type)!.replace('BPF_PROG_TYPE_', '').toLowerCase()}${t.attach === undefined ? '' : `/${enumName(A, t.attach)!.replace(/^BPF_/, '').toLowerCase()}`}`;

describe('the context model', () => {
  it('knows the sizes of the uapi context structs', () => {
    expect(ctxSize(P.BPF_PROG_TYPE_SCHED_CLS)).toBe(192);
    expect(ctxSize(P.BPF_PROG_TYPE_XDP)).toBe(24);
    expect(ctxSize(P.BPF_PROG_TYPE_SOCK_OPS)).toBe(224);
    expect(ctxSize(P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR)).toBe(72);
    expect(ctxSize(P.BPF_PROG_TYPE_SK_LOOKUP)).toBe(72);
    expect(ctxSize(P.BPF_PROG_TYPE_KPROBE)).toBe(168);
    expect(ctxSize(P.BPF_PROG_TYPE_PERF_EVENT)).toBe(184);
    expect(ctxKind(P.BPF_PROG_TYPE_TRACING)).toBe('btf-args');
    expect(ctxAccess(P.BPF_PROG_TYPE_LSM, undefined, 0, 8, false)).toEqual({ ok: 'btf-args' });
    expect(ctxKind(P.BPF_PROG_TYPE_LIRC_MODE2)).toBeUndefined();
  });

  it('gives packet pointers for data, data_meta and data_end', () => {
    expect(ctxAccess(P.BPF_PROG_TYPE_XDP, undefined, 0, 4, false)).toEqual({ ok: true, load: { kind: 'pkt' } });
    expect(ctxAccess(P.BPF_PROG_TYPE_XDP, undefined, 8, 4, false)).toEqual({ ok: true, load: { kind: 'pkt_meta' } });
    expect(ctxAccess(P.BPF_PROG_TYPE_SCHED_CLS, undefined, 80, 4, false)).toEqual({ ok: true, load: { kind: 'pkt_end' } });
    expect(ctxAccess(P.BPF_PROG_TYPE_SOCKET_FILTER, undefined, 76, 4, false)).toEqual({ ok: false });
    expect(ctxAccess(P.BPF_PROG_TYPE_SCHED_CLS, undefined, 8, 2, false)).toEqual({ ok: true, load: { kind: 'scalar' }, fieldSize: 4 });
  });

  it('words its messages as the kernel does', () => {
    expect(invalidCtxAccessMessage(76, 8)).toBe('invalid bpf_context access off=76 size=8');
    expect(modifiedCtxPtrMessage(1, 8)).toBe('dereference of modified ctx ptr R1 off=8 disallowed');
  });
});

/** Offsets an instruction can encode (a signed 16-bit field). */
const S16_MAX = 0x7fff;

/**
 * Every offset from -8 to 8 past the end; for the large contexts (the 8 KiB tracepoint record, the
 * 64 KiB syscall buffer), every offset within 64 bytes of either end or of the largest encodable
 * offset, and a fixed pseudo-random sample of 1500 of the rest.
 */
function offsets(size: number): number[] {
  const all = Array.from({ length: Math.min(size + 8, S16_MAX + 1) + 8 }, (_, i) => i - 8);
  if (size <= 512) return all;
  const last = all[all.length - 1]!;
  let seed = 0x9e3779b9;
  const next = (): number => {
    seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return seed / 2 ** 32;
  };
  const rate = 1500 / all.length;
  return all.filter((off) => off < 64 || off >= size - 64 || off > last - 64 || next() < rate);
}

describe.skipIf(!root)('the context model agrees with the kernel', () => {
  it('on every offset and size of every context, read and written', () => {
    const counts: string[] = [];
    const wrong: string[] = [];
    for (const t of TARGETS) {
      const size = ctxSize(t.type)!;
      let n = 0;
      let accepted = 0;
      for (const off of offsets(size)) {
        for (const sz of [1, 2, 4, 8]) {
          for (const mode of ['read', 'stx', 'st'] as const) {
            const model = ctxAccess(t.type, t.attach, off, sz, mode !== 'read')!;
            const checkLoad = model.ok === true && mode === 'read';
            const k = load(t, accessProgram(mode, off, sz), checkLoad ? 2 : 1);
            n++;
            if (k.ok) accepted++;
            const what = `${label(t)} ${mode} off=${off} size=${sz}`;
            if (k.ok !== (model.ok === true)) {
              wrong.push(`${what}: kernel ${k.ok ? 'accepts' : `rejects (${k.log.trim().split('\n').slice(-3, -2)[0]})`}, model ${JSON.stringify(model)}`);
            } else if (!k.ok && model.ok === false && !k.log.includes(invalidCtxAccessMessage(off, sz))) {
              wrong.push(`${what}: kernel says ${k.log.trim().split('\n').slice(-3, -2)[0]}`);
            } else if (checkLoad && model.ok === true && loadedType(k.log) !== loadText(model.load)) {
              wrong.push(`${what}: kernel loads ${loadedType(k.log)}, model ${loadText(model.load)}`);
            }
          }
        }
      }
      counts.push(`${label(t)} ${n} (${accepted} accepted)`);
    }
    console.log(`ctx sweep: ${counts.join(', ')}; ${wrong.length} disagreements`);
    expect(wrong.slice(0, 60)).toEqual([]);
  });

  it('words the ctx pointer errors as the kernel does', () => {
    const tail = (code: number[][]): string => load(T(P.BPF_PROG_TYPE_XDP), code).log;
    expect(tail([ins(0x07, 1, 0, 0, 8), ins(0x61, 2, 1, 0, 0), MOV_R0(1), EXIT])).toContain(modifiedCtxPtrMessage(1, 8));
    expect(tail([ins(0x07, 1, 0, 0, -8), ins(0x61, 2, 1, 8, 0), MOV_R0(1), EXIT])).toContain(negativeCtxPtrMessage(1, -8));
    // r2 = ingress_ifindex & 0xff; r1 += r2: a variable offset into the context.
    expect(tail([ins(0x61, 2, 1, 12, 0), ins(0x57, 2, 0, 0, 0xff), ins(0x0f, 1, 2, 0, 0), ins(0x61, 3, 1, 0, 0), MOV_R0(1), EXIT]))
      .toContain(variableCtxAccessMessage('(0x0; 0xff)'));
    // lock *(u32 *)(r1 + 0) += r0
    expect(tail([MOV_R0(1), ins(0xc3, 1, 0, 0, 0), EXIT])).toContain(atomicCtxMessage(1));
  });
});
