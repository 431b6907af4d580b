// Hand-assembled programs and throw-away network namespaces for the loader's root tests.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  BPF_ALU64,
  BPF_B,
  BPF_DW,
  BPF_EXIT,
  BPF_IMM,
  BPF_JGT,
  BPF_JMP,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_MEM,
  BPF_MOV,
  BPF_ADD,
  BPF_PSEUDO_MAP_FD,
  BPF_ST,
  BPF_W,
  BPF_X,
} from '../../src/isa/opcodes.js';
import type { Fd } from '../../src/loader/raw.js';
import { concatBytes } from '../../src/testing/bytes.js';

function insn(code: number, dst = 0, src = 0, off = 0, imm = 0): Uint8Array {
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  dv.setUint8(0, code);
  dv.setUint8(1, ((src & 0xf) << 4) | (dst & 0xf));
  dv.setInt16(2, off, true);
  dv.setInt32(4, imm, true);
  return b;
}

/** The handful of instructions the tests assemble by hand. */
export const asm = {
  movImm: (dst: number, imm: number) => insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm),
  movReg: (dst: number, src: number) => insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src),
  addImm: (dst: number, imm: number) => insn(BPF_ALU64 | BPF_ADD | BPF_K, dst, 0, 0, imm),
  ldxw: (dst: number, src: number, off: number) => insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off),
  stb: (dst: number, off: number, imm: number) => insn(BPF_ST | BPF_MEM | BPF_B, dst, 0, off, imm),
  jgtReg: (dst: number, src: number, off: number) => insn(BPF_JMP | BPF_JGT | BPF_X, dst, src, off),
  /** ld_imm64 dst = map fd (two slots). */
  ldMapFd: (dst: number, fd: number) => concatBytes([insn(BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_FD, 0, fd), insn(0)]),
  exit: () => insn(BPF_JMP | BPF_EXIT),
};

/** `r0 = value; exit`. */
export function returns(value: number): Uint8Array {
  return concatBytes([asm.movImm(0, value), asm.exit()]);
}

/** `fn()`, then every fd in `fds` closed whatever happens. */
export function using<T>(fds: Fd[], fn: () => T): T {
  try {
    return fn();
  } finally {
    for (const fd of fds) fd.close();
  }
}

/** What `fn` throws; fails the test when it returns. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

export function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function json<T>(cmd: string, args: string[]): T {
  return JSON.parse(run(cmd, args)) as T;
}

/** A network namespace created with `ip netns add`, holding one veth pair, up, without addresses. */
export class TestNetns {
  readonly name = `bpfts-test-${process.pid}-${randomBytes(3).toString('hex')}`;
  readonly path = `/var/run/netns/${this.name}`;

  constructor(readonly veth: [string, string] = ['veth0', 'veth1']) {
    run('ip', ['netns', 'add', this.name]);
    try {
      this.ip(['link', 'add', veth[0], 'type', 'veth', 'peer', 'name', veth[1]]);
      this.ip(['link', 'set', veth[0], 'up']);
      this.ip(['link', 'set', veth[1], 'up']);
    } catch (e) {
      this.destroy();
      throw e;
    }
  }

  /** `ip -n NAME ...`. */
  ip(args: string[]): string {
    return run('ip', ['-n', this.name, ...args]);
  }

  /** `ip netns exec NAME cmd ...`. */
  exec(cmd: string, args: string[]): string {
    return run('ip', ['netns', 'exec', this.name, cmd, ...args]);
  }

  /** Deleting the namespace also removes its veth pair and everything attached to it. */
  destroy(): void {
    execFileSync('ip', ['netns', 'del', this.name], { stdio: 'ignore' });
  }

  static exists(name: string): boolean {
    return run('ip', ['netns', 'list']).split('\n').some((l) => l.split(' ')[0] === name);
  }
}
