// The perf event array reader: one PERF_COUNT_SW_BPF_OUTPUT event per online CPU, stored in the map
// at the CPU's index so bpf_perf_event_output(BPF_F_CURRENT_CPU) finds it, each with its ring
// mmapped (a control page and 2^n data pages). Records are read in place through koffi's view of
// the mapping: data_head read with an atomic load, records copied out (two pieces when one wraps
// around the end of the ring), then data_tail stored so the kernel may reuse the space. The
// kernel never writes between data_tail and data_head, so no record is read while it is written;
// when a ring is full it drops records and later writes a PERF_RECORD_LOST with their number.
import { BpfError } from '../../errors.js';
import { BPF_MAP_TYPE_PERF_EVENT_ARRAY } from '../../uapi/index.js';
import {
  MMAP, PERF_EVENT_HEADER, PERF_EVENT_IOC, PERF_EVENT_MMAP_PAGE, PERF_FLAG, perf_event_sample_format, perf_event_type, perf_sw_ids,
  perf_type_id,
} from '../abi/perf-event.js';
import { mapDeleteElem, mapGetInfo, mapUpdateElem } from '../sys/bpf.js';
import type { Fd, FdLike } from '../sys/fd.js';
import { EpollSet, Mapping, ioctl, pageSize, perfEventAttr, perfEventOpen, setAttrFlags } from '../sys/perf.js';
import { onlineCpus } from '../attach/tracing.js';
import { RingReader, type ReaderEvent } from './reader.js';

export interface PerfReaderOptions {
  /** Data pages per CPU, a power of two (default 8). */
  pages?: number;
  /** Wake the reader after this many records (default 1)... */
  wakeupEvents?: number;
  /** ...or once this many bytes are waiting (the perf `watermark` setting) instead. */
  wakeupBytes?: number;
  /** CPUs to read; default every online CPU below the map's max_entries. */
  cpus?: number[];
}

interface CpuRing {
  cpu: number;
  fd: Fd;
  ring: Mapping;
  /** data_head and data_tail as u64 words of the control page. */
  control: BigUint64Array;
  data: Uint8Array;
}

const HEAD = PERF_EVENT_MMAP_PAGE.fields.data_head.offset / 8;
const TAIL = PERF_EVENT_MMAP_PAGE.fields.data_tail.offset / 8;

export class PerfEventArrayReader extends RingReader {
  readonly #map: FdLike;
  readonly #rings: CpuRing[];

  private constructor(map: FdLike, rings: CpuRing[], epoll: EpollSet) {
    super(epoll);
    this.#map = map;
    this.#rings = rings;
  }

  /** Opens the events and rings of a BPF_MAP_TYPE_PERF_EVENT_ARRAY map and stores them in it. */
  static open(map: FdLike, o: PerfReaderOptions = {}): PerfEventArrayReader {
    const info = mapGetInfo(map);
    if (info.type !== BPF_MAP_TYPE_PERF_EVENT_ARRAY) throw new BpfError(`map ${info.name || info.id} is not a perf event array`);
    const pages = o.pages ?? 8;
    if (pages < 1 || (pages & (pages - 1)) !== 0) throw new BpfError(`a perf ring has a power-of-two number of data pages, not ${pages}`);
    const page = pageSize();
    const cpus = (o.cpus ?? onlineCpus()).filter((c) => c < info.maxEntries);
    if (cpus.length === 0) throw new BpfError(`map ${info.name} has ${info.maxEntries} entries, fewer than the CPUs to read`);
    const epoll = new EpollSet(cpus.length + 1);
    const rings: CpuRing[] = [];
    try {
      for (const cpu of cpus) {
        const attr = perfEventAttr()
          .set('type', perf_type_id.PERF_TYPE_SOFTWARE)
          .set('config', perf_sw_ids.PERF_COUNT_SW_BPF_OUTPUT)
          .set('sample_type', perf_event_sample_format.PERF_SAMPLE_RAW)
          .set('sample_period', 1);
        if (o.wakeupBytes !== undefined) {
          attr.set('wakeup_watermark', o.wakeupBytes);
          setAttrFlags(attr, 'watermark');
        } else {
          attr.set('wakeup_events', o.wakeupEvents ?? 1);
        }
        const fd = perfEventOpen(attr, -1, cpu, -1, PERF_FLAG.PERF_FLAG_FD_CLOEXEC);
        let ring: Mapping;
        try {
          ring = Mapping.map(fd, page * (pages + 1), MMAP.PROT_READ | MMAP.PROT_WRITE, 0, `perf ring of CPU ${cpu}`);
        } catch (e) {
          fd.close();
          throw e;
        }
        const control = new BigUint64Array(ring.bytes.buffer, ring.bytes.byteOffset, page / 8);
        rings.push({ cpu, fd, ring, control, data: ring.bytes.subarray(page, page * (pages + 1)) });
        epoll.add(fd, BigInt(rings.length - 1));
        mapUpdateElem(map, u32(cpu), u32(fd.value));
        ioctl(fd, PERF_EVENT_IOC.PERF_EVENT_IOC_ENABLE, 0, 'PERF_EVENT_IOC_ENABLE', () => 'could not enable the BPF output event');
      }
    } catch (e) {
      releaseRings(map, rings);
      epoll.close();
      throw e;
    }
    return new PerfEventArrayReader(map, rings, epoll);
  }

  /** The CPUs read. */
  get cpus(): number[] {
    return this.#rings.map((r) => r.cpu);
  }

  protected read(ready: readonly bigint[] | 'all'): ReaderEvent[] {
    const out: ReaderEvent[] = [];
    const rings = ready === 'all' ? this.#rings : ready.map((i) => this.#rings[Number(i)]!);
    for (const r of rings) readRing(r, out);
    return out;
  }

  protected release(): void {
    releaseRings(this.#map, this.#rings);
  }
}

function u32(v: number): Uint8Array {
  return new Uint8Array(new Uint32Array([v]).buffer);
}

/** Copies `len` bytes at ring position `pos`, wrapping around the end of the data area. */
function copyOut(data: Uint8Array, pos: number, len: number): Uint8Array {
  const start = pos % data.byteLength;
  const first = Math.min(len, data.byteLength - start);
  const out = new Uint8Array(len);
  out.set(data.subarray(start, start + first));
  if (first < len) out.set(data.subarray(0, len - first), first);
  return out;
}

function readRing(r: CpuRing, out: ReaderEvent[]): void {
  if (!r.ring.mapped) return;
  const head = Atomics.load(r.control, HEAD);
  let tail = Atomics.load(r.control, TAIL);
  if (tail === head) return;
  const size = r.data.byteLength;
  while (tail < head) {
    // Records are 8-byte aligned and the ring a multiple of 8, so a header never wraps.
    const at = Number(tail % BigInt(size));
    const dv = new DataView(r.data.buffer, r.data.byteOffset + at, PERF_EVENT_HEADER.size);
    const type = dv.getUint32(PERF_EVENT_HEADER.fields.type.offset, true);
    const len = dv.getUint16(PERF_EVENT_HEADER.fields.size.offset, true);
    if (len < PERF_EVENT_HEADER.size) break;
    const rec = copyOut(r.data, at, len);
    const rv = new DataView(rec.buffer);
    if (type === perf_event_type.PERF_RECORD_SAMPLE) {
      // PERF_SAMPLE_RAW: u32 size, then the program's bytes (padded by the kernel to 8 with the size).
      const raw = rv.getUint32(8, true);
      out.push({ kind: 'record', cpu: r.cpu, data: rec.slice(12, 12 + Math.min(raw, len - 12)) });
    } else if (type === perf_event_type.PERF_RECORD_LOST) {
      out.push({ kind: 'lost', cpu: r.cpu, count: Number(rv.getBigUint64(16, true)) });
    }
    tail += BigInt(len);
  }
  Atomics.store(r.control, TAIL, tail);
}

function releaseRings(map: FdLike, rings: CpuRing[]): void {
  for (const r of rings.splice(0)) {
    try {
      mapDeleteElem(map, u32(r.cpu));
    } catch {
      // The map may be gone already (its object closed): its slots went with it.
    }
    r.ring.unmap();
    r.fd.close();
  }
}
