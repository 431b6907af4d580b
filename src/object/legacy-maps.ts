import { type ElfFile, type ElfSection, STT_SECTION } from '../elf/index.js';
import type { Diagnostic, MapDefinition } from './model.js';

/** `struct bpf_map_def` of libbpf < 1.0 (tools/lib/bpf/libbpf.h before 1.0): 5 or 7 u32 fields. */
const BPF_MAP_DEF_MIN_SIZE = 20;
/** iproute2's `struct bpf_elf_map` (include/bpf_elf.h): 9 u32 fields. */
const BPF_ELF_MAP_SIZE = 36;

/**
 * Read map definitions from legacy `maps` / `maps/NAME` sections. Like libbpf 0.x, the definition
 * size is the section size divided by the number of map symbols in it, so both the 20/28-byte
 * bpf_map_def and iproute2's 36-byte bpf_elf_map are understood.
 */
export function readLegacyMaps(elf: ElfFile, diagnostics: Diagnostic[]): MapDefinition[] {
  const maps: MapDefinition[] = [];
  for (const section of elf.sections) {
    if (section.name !== 'maps' && !section.name.startsWith('maps/')) continue;
    const symbols = elf.symbols
      .filter((s) => s.shndx === section.index && s.type !== STT_SECTION && s.name !== '')
      .sort((a, b) => a.value - b.value);
    if (symbols.length === 0) {
      if (section.size > 0) {
        diagnostics.push({ severity: 'error', code: 'maps-without-symbols', section: section.name, message: `section ${section.name} has ${section.size} bytes but no map symbols` });
      }
      continue;
    }
    if (section.data.length !== section.size) {
      diagnostics.push({ severity: 'error', code: 'maps-without-contents', section: section.name, message: `section ${section.name} is SHT_NOBITS: it holds no map definitions` });
      continue;
    }
    const defSize = Math.floor(section.size / symbols.length);
    if (defSize < BPF_MAP_DEF_MIN_SIZE || section.size % symbols.length !== 0) {
      diagnostics.push({
        severity: 'error', code: 'bad-legacy-map-size', section: section.name,
        message: `section ${section.name} is ${section.size} bytes for ${symbols.length} map symbols: not a whole number of map definitions of at least ${BPF_MAP_DEF_MIN_SIZE} bytes`,
      });
      continue;
    }
    for (const sym of symbols) {
      if (sym.value + defSize > section.size) {
        diagnostics.push({ severity: 'error', code: 'bad-legacy-map-offset', section: section.name, message: `map ${sym.name} at offset ${sym.value} runs past the end of ${section.name}` });
        continue;
      }
      maps.push(readDefinition(elf, section, sym.name, sym.value, defSize));
    }
  }
  return maps;
}

function readDefinition(elf: ElfFile, section: ElfSection, name: string, offset: number, size: number): MapDefinition {
  const view = new DataView(section.data.buffer, section.data.byteOffset + offset, size);
  const u32 = (i: number): number => (i * 4 + 4 <= size ? view.getUint32(i * 4, elf.littleEndian) : 0);
  const base = {
    name, section: section.name, offset,
    type: u32(0), keySize: u32(1), valueSize: u32(2), maxEntries: u32(3), flags: u32(4),
  };
  if (size >= BPF_ELF_MAP_SIZE) {
    // bpf_elf_map: type, size_key, size_value, max_elem, flags, id, pinning, inner_id, inner_idx
    return { ...base, style: 'iproute2', pinning: u32(6), innerMapIndex: u32(8) };
  }
  // bpf_map_def: type, key_size, value_size, max_entries, map_flags, inner_map_idx, numa_node
  return { ...base, style: 'legacy', pinning: 0, ...(size >= 24 ? { innerMapIndex: u32(5) } : {}), ...(size >= 28 ? { numaNode: u32(6) } : {}) };
}

/**
 * The definition a legacy map-of-maps names as its inner map template. bpf_map_def.inner_map_idx
 * and bpf_elf_map.inner_idx count the definitions of its own section (samples/bpf's single `maps`
 * section); with one `maps/NAME` section per map (bpf_load.c, PREVAIL) they count all of the
 * object's legacy maps in definition order.
 */
export function legacyInnerMap(maps: readonly MapDefinition[], def: MapDefinition): MapDefinition | undefined {
  if (def.innerMapIndex === undefined) return undefined;
  const siblings = maps.filter((m) => m.section === def.section).sort((a, b) => a.offset - b.offset);
  return siblings.length > 1 ? siblings[def.innerMapIndex] : maps.filter((m) => m.style === def.style)[def.innerMapIndex];
}
