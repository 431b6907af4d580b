// bpf_printk output: lines of tracefs trace_pipe, read as bpftool prog tracelog does. The pipe is
// opened non-blocking and waited on through the same epoll set as the rings, so a reader with
// nothing to read holds no thread and a closed reader ends at once. Reading trace_pipe consumes
// what it returns: two readers share the lines between them.
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { tracefsRoot } from '../attach/tracefs.js';
import { EpollSet } from '../sys/perf.js';

export class TracePipeReader implements AsyncIterableIterator<string>, Disposable {
  readonly #fd: number;
  readonly #epoll: EpollSet;
  readonly #buf = Buffer.alloc(64 * 1024);
  #partial = '';
  #lines: string[] = [];
  #closed = false;

  private constructor(fd: number, epoll: EpollSet) {
    this.#fd = fd;
    this.#epoll = epoll;
  }

  /** Opens `trace_pipe` of tracefs (mounting tracefs when it is not). */
  static open(): TracePipeReader {
    const fd = openSync(`${tracefsRoot()}/trace_pipe`, constants.O_RDONLY | constants.O_NONBLOCK);
    let epoll: EpollSet | undefined;
    try {
      epoll = new EpollSet(2);
      epoll.add(fd, 0n);
      return new TracePipeReader(fd, epoll);
    } catch (e) {
      epoll?.close();
      closeSync(fd);
      throw e;
    }
  }

  #readAvailable(): void {
    for (;;) {
      let n: number;
      try {
        n = readSync(this.#fd, this.#buf, 0, this.#buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return;
        throw e;
      }
      if (n <= 0) return;
      const text = this.#partial + this.#buf.toString('utf8', 0, n);
      const parts = text.split('\n');
      this.#partial = parts.pop() ?? '';
      this.#lines.push(...parts);
    }
  }

  async next(): Promise<IteratorResult<string>> {
    for (;;) {
      const line = this.#lines.shift();
      if (line !== undefined) return { value: line, done: false };
      if (this.#closed) return { value: undefined, done: true };
      this.#readAvailable();
      if (this.#lines.length > 0) continue;
      await this.#epoll.wait();
      if (this.#closed) return { value: undefined, done: true };
      this.#readAvailable();
    }
  }

  async return(): Promise<IteratorResult<string>> {
    this.close();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#epoll.close();
    closeSync(this.#fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
