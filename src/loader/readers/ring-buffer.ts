// The BPF ring buffer reader (BPF_MAP_TYPE_RINGBUF), mapped as the kernel allows: the consumer page
// read-write at offset 0, the producer page and the data pages read-only after it. The kernel maps
// the data pages twice in a row, so a record that wraps around the end is contiguous in the
// mapping. Each record has an 8-byte header (length with the BUSY and DISCARD bits, page offset);
// records are 8-byte aligned. A BUSY record is still being written: reading stops there until the
// kernel wakes the reader again. Discarded records are skipped. The consumer position is stored
// after each record so the producer can reuse the space.
import { BpfError } from '../../errors.js';
import { BPF_MAP_TYPE_RINGBUF, BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT, BPF_RINGBUF_HDR_SZ } from '../../uapi/index.js';
import { MMAP } from '../abi/perf-event.js';
import { mapGetInfo } from '../sys/bpf.js';
import type { FdLike } from '../sys/fd.js';
import { EpollSet, Mapping, pageSize } from '../sys/perf.js';
import { RingReader, type ReaderEvent } from './reader.js';

export class RingBufferReader extends RingReader {
  readonly #consumer: Mapping;
  readonly #producer: Mapping;
  readonly #consumerPos: BigUint64Array;
  readonly #producerPos: BigUint64Array;
  readonly #headers: Uint32Array;
  readonly #data: Uint8Array;
  readonly #mask: bigint;
  readonly #page: number;

  private constructor(consumer: Mapping, producer: Mapping, size: number, page: number, epoll: EpollSet) {
    super(epoll);
    this.#consumer = consumer;
    this.#producer = producer;
    this.#page = page;
    this.#consumerPos = new BigUint64Array(consumer.bytes.buffer, consumer.bytes.byteOffset, 1);
    this.#producerPos = new BigUint64Array(producer.bytes.buffer, producer.bytes.byteOffset, 1);
    this.#data = producer.bytes.subarray(page);
    this.#headers = new Uint32Array(producer.bytes.buffer, producer.bytes.byteOffset + page, (2 * size) / 4);
    this.#mask = BigInt(size - 1);
  }

  /** Maps a BPF_MAP_TYPE_RINGBUF map for reading. */
  static open(map: FdLike): RingBufferReader {
    const info = mapGetInfo(map);
    if (info.type !== BPF_MAP_TYPE_RINGBUF) throw new BpfError(`map ${info.name || info.id} is not a BPF ring buffer`);
    const page = pageSize();
    const size = info.maxEntries;
    const consumer = Mapping.map(map, page, MMAP.PROT_READ | MMAP.PROT_WRITE, 0, 'ring buffer consumer page');
    let producer: Mapping | undefined;
    let epoll: EpollSet | undefined;
    try {
      producer = Mapping.map(map, page + 2 * size, MMAP.PROT_READ, page, 'ring buffer producer and data pages');
      epoll = new EpollSet(2);
      epoll.add(map, 0n);
      return new RingBufferReader(consumer, producer, size, page, epoll);
    } catch (e) {
      epoll?.close();
      producer?.unmap();
      consumer.unmap();
      throw e;
    }
  }

  protected read(): ReaderEvent[] {
    const out: ReaderEvent[] = [];
    if (!this.#consumer.mapped) return out;
    let cons = Atomics.load(this.#consumerPos, 0);
    const prod = Atomics.load(this.#producerPos, 0);
    while (cons < prod) {
      const at = Number(cons & this.#mask);
      const header = Atomics.load(this.#headers, at / 4);
      if (header & BPF_RINGBUF_BUSY_BIT) break;
      const len = (header & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT)) >>> 0;
      if (!(header & BPF_RINGBUF_DISCARD_BIT)) {
        const start = at + BPF_RINGBUF_HDR_SZ;
        out.push({ kind: 'record', cpu: null, data: this.#data.slice(start, start + len) });
      }
      cons += BigInt((len + BPF_RINGBUF_HDR_SZ + 7) & ~7);
      Atomics.store(this.#consumerPos, 0, cons);
    }
    return out;
  }

  protected release(): void {
    this.#producer.unmap();
    this.#consumer.unmap();
  }

  /** The ring's data size in bytes (the map's max_entries). */
  get size(): number {
    return Number(this.#mask) + 1;
  }

  /** The page size the mapping was laid out with. */
  get pageSize(): number {
    return this.#page;
  }
}
