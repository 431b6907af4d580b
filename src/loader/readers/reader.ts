// What the perf event array and ring buffer readers share: the events they yield and an async
// iterator over the rings that waits on an epoll set between reads. The wait runs on a koffi worker
// thread (epoll_wait's async form, see sys/perf.ts), so the Node event loop never blocks and
// nothing polls on a timer: a reader that has drained its rings costs nothing until the kernel
// wakes it. (koffi 3 also has an undocumented libuv poll handle, which its changelog says may
// change; the worker-thread wait relies only on documented koffi.)
import { EpollSet } from '../sys/perf.js';

/** A record a program sent (bpf_perf_event_output, bpf_ringbuf_output/submit). */
export interface RecordEvent {
  kind: 'record';
  /** The CPU whose ring held it (perf event arrays); null for a BPF ring buffer, which is shared. */
  cpu: number | null;
  /** A copy of the record's bytes: the ring space is handed back to the kernel once read. */
  data: Uint8Array;
}

/** Records the kernel dropped because a ring was full (PERF_RECORD_LOST). */
export interface LostEvent {
  kind: 'lost';
  cpu: number;
  count: number;
}

export type ReaderEvent = RecordEvent | LostEvent;

/** The async iteration, queueing and closing every reader has; subclasses read their rings. */
export abstract class RingReader implements AsyncIterableIterator<ReaderEvent>, AsyncDisposable, Disposable {
  protected readonly epoll: EpollSet;
  #queue: ReaderEvent[] = [];
  #closed = false;
  /** Records read so far. */
  records = 0;
  /** Records the kernel reported lost so far. */
  lost = 0;

  protected constructor(epoll: EpollSet) {
    this.epoll = epoll;
  }

  /** Reads what the rings hold now; `ready` are the epoll data values that woke the reader, or all. */
  protected abstract read(ready: readonly bigint[] | 'all'): ReaderEvent[];

  /** Unmaps and closes everything the reader opened. */
  protected abstract release(): void;

  get closed(): boolean {
    return this.#closed;
  }

  /** What the rings hold now, without waiting. */
  drain(): ReaderEvent[] {
    if (this.#closed) return [];
    const fresh = this.read('all');
    this.#count(fresh);
    return [...this.#queue.splice(0), ...fresh];
  }

  #count(events: ReaderEvent[]): void {
    for (const e of events) {
      if (e.kind === 'record') this.records++;
      else this.lost += e.count;
    }
  }

  async next(): Promise<IteratorResult<ReaderEvent>> {
    for (;;) {
      const queued = this.#queue.shift();
      if (queued) return { value: queued, done: false };
      if (this.#closed) return { value: undefined, done: true };
      const now = this.read('all');
      if (now.length === 0) {
        const ready = await this.epoll.wait();
        if (this.#closed) return { value: undefined, done: true };
        now.push(...this.read(ready));
      }
      this.#count(now);
      this.#queue.push(...now);
    }
  }

  /** Ends the iteration (break out of for await) and closes the reader. */
  async return(): Promise<IteratorResult<ReaderEvent>> {
    this.close();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Stops reading: a pending next() resolves as done; the rings are unmapped and their events closed. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.epoll.close();
    this.release();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}
