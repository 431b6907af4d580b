// BPF_MAP_TYPE_RINGBUF: records reserved by a program are regions of their own until submitted or
// discarded; submitted records wait for the host to drain them. Space is counted as the kernel does:
// an 8-byte header plus the data rounded up to 8, against max_entries bytes.
import { BPF_RINGBUF_HDR_SZ, EAGAIN } from '../../uapi/index.js';
import type { Memory } from '../memory.js';
import { KeylessMap, roundUp8, type MapDef } from './map.js';

export class RingBufMap extends KeylessMap {
  private readonly ready: Uint8Array[] = [];
  /** Reserved, not yet submitted: region id → bytes. */
  private readonly reserved = new Map<number, Uint8Array>();
  private used = 0;
  /** Producer and consumer positions in bytes, as bpf_ringbuf_query() reports them. */
  producerPos = 0;
  consumerPos = 0;

  constructor(def: MapDef, memory: Memory) {
    super(def, memory);
  }

  private cost(size: number): number {
    return BPF_RINGBUF_HDR_SZ + roundUp8(size);
  }

  /** bpf_ringbuf_reserve(): pointer to `size` writable bytes, or 0n when there is no room. */
  reserve(size: number): bigint {
    if (size <= 0 || this.used + this.cost(size) > this.def.maxEntries) return 0n;
    const bytes = new Uint8Array(size);
    const p = this.memory.map(bytes, `ringbuf '${this.def.name}' record`);
    this.reserved.set(Number(p >> 32n), bytes);
    this.used += this.cost(size);
    this.producerPos += this.cost(size);
    return p;
  }

  owns(regionId: number): boolean {
    return this.reserved.has(regionId);
  }

  /** bpf_ringbuf_submit() / bpf_ringbuf_discard() of a reserved record; the pointer dies. */
  commit(regionId: number, discard: boolean): void {
    const bytes = this.reserved.get(regionId)!;
    this.reserved.delete(regionId);
    this.memory.unmap(BigInt(regionId) << 32n);
    if (discard) {
      this.used -= this.cost(bytes.length);
      this.consumerPos += this.cost(bytes.length);
    } else this.ready.push(bytes);
  }

  /** bpf_ringbuf_output(): copy `data` in as one record; -EAGAIN when full. */
  output(data: Uint8Array): number {
    if (data.length === 0 || this.used + this.cost(data.length) > this.def.maxEntries) return -EAGAIN;
    this.ready.push(data.slice());
    this.used += this.cost(data.length);
    this.producerPos += this.cost(data.length);
    return 0;
  }

  /** Bytes submitted and not yet drained (BPF_RB_AVAIL_DATA). */
  get available(): number {
    return this.ready.reduce((n, r) => n + this.cost(r.length), 0);
  }

  /** Take the submitted records, oldest first, freeing their space (what ring_buffer__consume does). */
  drain(): Uint8Array[] {
    const out = this.ready.splice(0);
    for (const r of out) {
      this.used -= this.cost(r.length);
      this.consumerPos += this.cost(r.length);
    }
    return out;
  }
}
