// BPF_MAP_TYPE_LPM_TRIE: keys are a u32 prefix length (host order) followed by the data bytes; lookup
// returns the value of the longest stored prefix that matches the key's first prefixlen bits.
import { BPF_EXIST, BPF_NOEXIST, EEXIST, EINVAL, ENOENT, ENOSPC } from '../../uapi/index.js';
import type { Memory } from '../memory.js';
import { BpfMap, keyString, type MapDef } from './map.js';

interface Node {
  prefixlen: number;
  /** Data with the bits past prefixlen cleared. */
  data: Uint8Array;
  value: Uint8Array;
  pointer: bigint;
}

function prefixOf(key: Uint8Array): number {
  return (key[0]! | (key[1]! << 8) | (key[2]! << 16) | (key[3]! << 24)) >>> 0;
}

function masked(data: Uint8Array, bits: number): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - 8 * i));
    out[i] = data[i]! & ((0xff00 >> keep) & 0xff);
  }
  return out;
}

function matches(node: Node, data: Uint8Array): boolean {
  const m = masked(data, node.prefixlen);
  for (let i = 0; i < m.length; i++) if (m[i] !== node.data[i]) return false;
  return true;
}

export class LpmTrieMap extends BpfMap {
  private readonly nodes = new Map<string, Node>();
  private readonly dataBits: number;

  constructor(def: MapDef, memory: Memory) {
    super(def, memory);
    this.dataBits = (def.keySize - 4) * 8;
  }

  private parse(key: Uint8Array): { prefixlen: number; data: Uint8Array } | undefined {
    if (key.length !== this.def.keySize || key.length < 5) return undefined;
    const prefixlen = prefixOf(key);
    if (prefixlen > this.dataBits) return undefined;
    return { prefixlen, data: key.subarray(4) };
  }

  private id(prefixlen: number, data: Uint8Array): string {
    return `${prefixlen}:${keyString(masked(data, prefixlen))}`;
  }

  private longest(key: Uint8Array): Node | undefined {
    const k = this.parse(key);
    if (k === undefined) return undefined;
    let best: Node | undefined;
    for (const n of this.nodes.values()) {
      if (n.prefixlen <= k.prefixlen && (best === undefined || n.prefixlen > best.prefixlen) && matches(n, k.data)) best = n;
    }
    return best;
  }

  lookupPointer(key: Uint8Array): bigint {
    return this.longest(key)?.pointer ?? 0n;
  }

  lookup(key: Uint8Array): Uint8Array | undefined {
    return this.longest(key)?.value.slice();
  }

  update(key: Uint8Array, value: Uint8Array, flags: number): number {
    const bad = this.checkFlags(flags);
    if (bad) return bad;
    const k = this.parse(key);
    if (k === undefined || value.length < this.def.valueSize) return -EINVAL;
    const id = this.id(k.prefixlen, k.data);
    const existing = this.nodes.get(id);
    if (existing !== undefined && flags === BPF_NOEXIST) return -EEXIST;
    if (existing === undefined && flags === BPF_EXIST) return -ENOENT;
    if (existing !== undefined) {
      existing.value.set(value.subarray(0, this.def.valueSize));
      return 0;
    }
    // A full trie refuses new prefixes with -ENOSPC (kernel/bpf/lpm_trie.c).
    if (this.nodes.size >= this.def.maxEntries) return -ENOSPC;
    const v = value.slice(0, this.def.valueSize);
    const pointer = this.memory.map(v, `lpm trie '${this.def.name}' value`);
    this.nodes.set(id, { prefixlen: k.prefixlen, data: masked(k.data, k.prefixlen), value: v, pointer });
    return 0;
  }

  /** Deletes the exact prefix (not the longest match), as the kernel does. */
  delete(key: Uint8Array): number {
    const k = this.parse(key);
    if (k === undefined) return -EINVAL;
    const id = this.id(k.prefixlen, k.data);
    const n = this.nodes.get(id);
    if (n === undefined) return -ENOENT;
    this.memory.unmap(n.pointer);
    this.nodes.delete(id);
    return 0;
  }

  nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    const all = [...this.nodes.values()];
    let i = 0;
    if (key !== undefined) {
      const k = this.parse(key);
      const at = k === undefined ? -1 : all.findIndex((n) => this.id(n.prefixlen, n.data) === this.id(k.prefixlen, k.data));
      i = at < 0 ? 0 : at + 1;
    }
    const n = all[i];
    if (n === undefined) return undefined;
    const out = new Uint8Array(this.def.keySize);
    new DataView(out.buffer).setUint32(0, n.prefixlen, true);
    out.set(n.data, 4);
    return out;
  }
}

