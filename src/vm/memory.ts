// The emulator's address space: a table of byte regions. A 64-bit pointer is (region id << 32) | offset,
// so every access names its region and is checked against that region's size; host memory is never
// reachable. Region 0 is never mapped, so small integers and NULL are not pointers.
import { MAX_BPF_STACK, MAX_CALL_FRAMES } from '../isa/opcodes.js';

/** Region ids 1..MAX_CALL_FRAMES are the stack frames, frame k in region k + 1. */
export const STACK_REGION_BASE = 1;
/** Pseudo-region whose "pointers" are code addresses: offset = instruction index * 8 (BPF_PSEUDO_FUNC). */
export const CODE_REGION = STACK_REGION_BASE + MAX_CALL_FRAMES;
const FIRST_FREE_REGION = CODE_REGION + 1;

export interface RegionInfo {
  readonly id: number;
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly writable: boolean;
}

export class Memory {
  /** Indexed by region id; the interpreter reads these directly. */
  readonly views: (DataView | undefined)[] = [];
  readonly sizes: number[] = [];
  readonly writable: boolean[] = [];
  private readonly regions: (RegionInfo | undefined)[] = [];
  private readonly free: number[] = [];
  /**
   * False while stack frame 0 is known to be all zero, so that a run which never wrote its stack does
   * not clear 512 bytes for the next. Whatever can write the frame sets it: stores (the interpreter and
   * compiled programs), writable slices, and handing out the frame's bytes; code writing through
   * `views` directly must set it too.
   */
  stackDirty = true;

  constructor() {
    this.views[0] = undefined;
    this.sizes[0] = 0;
    this.writable[0] = false;
    this.regions[0] = undefined;
    for (let f = 0; f < MAX_CALL_FRAMES; f++) {
      this.install(STACK_REGION_BASE + f, `stack frame ${f}`, new Uint8Array(MAX_BPF_STACK), true);
    }
    this.install(CODE_REGION, 'code', new Uint8Array(0), false);
  }

  /**
   * Make `bytes` addressable (no copy: the program sees and changes the caller's array) and return the
   * pointer to its first byte.
   */
  map(bytes: Uint8Array, name: string, writable = true): bigint {
    const id = this.free.pop() ?? Math.max(FIRST_FREE_REGION, this.regions.length);
    if (id >= 0x80000000) throw new RangeError('too many memory regions');
    this.install(id, name, bytes, writable);
    return BigInt(id) << 32n;
  }

  /**
   * Point an existing region at other bytes (same id, so pointers into it stay pointers into it): the
   * emulator reuses one region per packet across runs instead of allocating a new one each time.
   */
  remap(pointer: bigint, bytes: Uint8Array, writable: boolean): void {
    const id = Number(pointer >> 32n);
    const r = this.regions[id];
    if (id < FIRST_FREE_REGION || r === undefined) throw new RangeError(`region ${id} is not mapped`);
    const same = r.bytes.buffer === bytes.buffer && r.bytes.byteOffset === bytes.byteOffset && r.bytes.length === bytes.length;
    if (same && r.writable === writable) return;
    this.install(id, r.name, bytes, writable);
  }

  /** Remove a region mapped with map(); later accesses through old pointers fault. */
  unmap(pointer: bigint): void {
    const id = Number(pointer >> 32n);
    if (id < FIRST_FREE_REGION || this.regions[id] === undefined) return;
    this.views[id] = undefined;
    this.sizes[id] = 0;
    this.writable[id] = false;
    this.regions[id] = undefined;
    this.free.push(id);
  }

  /** The region a pointer's high half names, if any. */
  region(id: number): RegionInfo | undefined {
    if (id === STACK_REGION_BASE) this.stackDirty = true;
    return this.regions[id];
  }

  stackFrame(frame: number): Uint8Array {
    if (frame === 0) this.stackDirty = true;
    return this.regions[STACK_REGION_BASE + frame]!.bytes;
  }

  /** Zero stack frame 0 for a new run. */
  clearStack(): void {
    if (!this.stackDirty) return;
    this.regions[STACK_REGION_BASE]!.bytes.fill(0);
    this.stackDirty = false;
  }

  /**
   * A view of `len` bytes at (id, offset) if they lie inside one region (and it is writable when asked),
   * else undefined. The view aliases emulator memory; it never reaches outside it.
   */
  slice(id: number, offset: number, len: number, write: boolean): Uint8Array | undefined {
    const r = this.regions[id];
    if (r === undefined || offset < 0 || len < 0 || offset + len > r.bytes.length) return undefined;
    if (write && !r.writable) return undefined;
    if (write && id === STACK_REGION_BASE) this.stackDirty = true;
    return r.bytes.subarray(offset, offset + len);
  }

  private install(id: number, name: string, bytes: Uint8Array, writable: boolean): void {
    const region: RegionInfo = { id, name, bytes, writable };
    this.regions[id] = region;
    this.views[id] = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.sizes[id] = bytes.byteLength;
    this.writable[id] = writable;
  }
}
