// The readers of the library: a perf event array or BPF ring buffer map read as an async iterator
// of records decoded through the object's BTF with the codec the maps use (64-bit integers as
// bigint, enums by name, char arrays as strings), on top of the raw readers in readers/.
import { btfDecode, type CValue } from '../btf/index.js';
import { recordType, type RecordType } from './readers/decode.js';
import { PerfEventArrayReader, type PerfReaderOptions } from './readers/perf-buffer.js';
import type { ReaderEvent, RingReader } from './readers/reader.js';
import { RingBufferReader } from './readers/ring-buffer.js';
import type { Btf } from '../btf/index.js';
import { BpfError } from '../errors.js';
import type { Fd } from './sys/fd.js';

export interface ReaderOptions extends PerfReaderOptions {
  /**
   * The C type each record holds, as written in C ('struct event', 'union u', a typedef name), looked
   * up in the object's BTF: `value` is then the record decoded. Without it `value` is undefined.
   */
  type?: string;
}

/** A record a program sent (bpf_perf_event_output, bpf_ringbuf_output/submit). */
export interface TraceRecord<T> {
  kind: 'record';
  /** The CPU whose ring held it (perf event arrays); null for a ring buffer, which all CPUs share. */
  cpu: number | null;
  /** A copy of the record's bytes (as many as the program sent; perf records may carry padding up to 8 bytes). */
  data: Uint8Array;
  /** The record decoded as the reader's `type`. */
  value: T;
}

/** Records the kernel dropped because a perf ring was full (PERF_RECORD_LOST). */
export interface LostRecords {
  kind: 'lost';
  cpu: number;
  /** How many. */
  lost: number;
}

export type TraceEvent<T> = TraceRecord<T> | LostRecords;

/**
 * Reads a PERF_EVENT_ARRAY (one BPF output event and mmapped ring per CPU) or RINGBUF map:
 * `for await (const e of reader)`. Waiting never blocks the event loop; `close()` (or the
 * collection's, or leaving a for await loop) ends it and unmaps the rings.
 */
export class MapReader<T = CValue> implements AsyncIterableIterator<TraceEvent<T>>, AsyncDisposable, Disposable {
  readonly #raw: RingReader;
  readonly #type: RecordType | undefined;
  #onClose: (() => void) | undefined;

  /** @internal */
  constructor(raw: RingReader, type: RecordType | undefined) {
    this.#raw = raw;
    this.#type = type;
  }

  /** @internal Opens the reader `map` needs; `btf` has the record type. */
  static open<T>(map: { fd: Fd; name: string; typeName: string }, btf: Btf | undefined, o: ReaderOptions): MapReader<T> {
    const { type, ...perf } = o;
    const rt = type === undefined ? undefined : typeOf(map.name, btf, type);
    if (map.typeName === 'perf_event_array') return new MapReader<T>(PerfEventArrayReader.open(map.fd, perf), rt);
    if (map.typeName === 'ringbuf') {
      const given = Object.keys(perf).filter((k) => perf[k as keyof PerfReaderOptions] !== undefined);
      if (given.length > 0) throw new BpfError(`map '${map.name}' is a ring buffer: ${given.join(', ')} ${given.length > 1 ? 'are' : 'is a'} perf event array setting${given.length > 1 ? 's' : ''}`);
      return new MapReader<T>(RingBufferReader.open(map.fd), rt);
    }
    throw new BpfError(`map '${map.name}' is a ${map.typeName} map: readers are for perf_event_array and ringbuf maps`);
  }

  /** @internal */
  onClose(fn: () => void): void {
    this.#onClose = fn;
  }

  /** The record type's name and size, when the reader decodes. */
  get type(): { name: string; size: number } | undefined {
    return this.#type && { name: this.#type.name, size: this.#type.size };
  }

  /** Records read so far. */
  get records(): number {
    return this.#raw.records;
  }

  /** Records the kernel reported lost so far. */
  get lost(): number {
    return this.#raw.lost;
  }

  get closed(): boolean {
    return this.#raw.closed;
  }

  #event(e: ReaderEvent): TraceEvent<T> {
    if (e.kind === 'lost') return { kind: 'lost', cpu: e.cpu, lost: e.count };
    const value = (this.#type ? btfDecode(this.#type.btf, this.#type.id, e.data) : undefined) as T;
    return { kind: 'record', cpu: e.cpu, data: e.data, value };
  }

  /** What the rings hold now, without waiting. */
  drain(): TraceEvent<T>[] {
    return this.#raw.drain().map((e) => this.#event(e));
  }

  async next(): Promise<IteratorResult<TraceEvent<T>>> {
    const r = await this.#raw.next();
    return r.done ? { value: undefined, done: true } : { value: this.#event(r.value), done: false };
  }

  /** Ends the iteration (break out of for await) and closes the reader. */
  async return(): Promise<IteratorResult<TraceEvent<T>>> {
    this.close();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Stops reading: a pending next() resolves as done; the rings are unmapped and their events closed. */
  close(): void {
    if (this.#raw.closed) return;
    try {
      this.#raw.close();
    } finally {
      this.#onClose?.();
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}

function typeOf(map: string, btf: Btf | undefined, type: string): RecordType {
  if (!btf) throw new BpfError(`cannot decode the records of map '${map}' as ${type}: the object has no BTF`, { hint: 'leave out `type` and read `data`' });
  return recordType(btf, type);
}
