// An owned file descriptor returned by bpf() or socket(): closed exactly once, by its owner.
import { closeSync } from 'node:fs';
import { BpfError } from '../../errors.js';

export class Fd {
  #fd: number;

  constructor(
    fd: number,
    /** What the descriptor refers to, for messages ("map", "prog", "btf", "link", "netlink socket"). */
    readonly kind: string,
  ) {
    this.#fd = fd;
  }

  /** The descriptor number; throws once closed so that a stale number is never reused by mistake. */
  get value(): number {
    if (this.#fd < 0) throw new BpfError(`${this.kind} file descriptor used after close()`);
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  /** Closes the descriptor; later calls do nothing. */
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    closeSync(fd);
  }

  toString(): string {
    return this.#fd < 0 ? `${this.kind} fd (closed)` : `${this.kind} fd ${this.#fd}`;
  }
}

/** Accepts an owned Fd or a raw descriptor number owned by the caller. */
export type FdLike = Fd | number;

export function fdNumber(fd: FdLike): number {
  return typeof fd === 'number' ? fd : fd.value;
}
