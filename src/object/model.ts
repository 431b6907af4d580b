import type { ElfFile, ElfSection, ElfSymbol } from '../elf/index.js';
import type { Btf, BtfExt, BtfFuncInfo, BtfLineInfo } from '../btf/index.js';

/** How a diagnostic affects loading: `error` means some loader will refuse the object. */
export type Severity = 'error' | 'warning' | 'info';

export interface Diagnostic {
  severity: Severity;
  /** Stable identifier for scripts, e.g. `legacy-maps-section`. */
  code: string;
  message: string;
  section?: string;
  program?: string;
  /** Instruction index inside the program or section. */
  insn?: number;
  hint?: string;
}

export type RelocationKind =
  /** ld_imm64 of a map definition: the loader puts the map fd there. */
  | 'map'
  /** ld_imm64 of a global variable: the loader points it into the data section's map. */
  | 'global-data'
  /** bpf-to-bpf call of a sub-program. */
  | 'call'
  /** ld_imm64 of a function address (callbacks such as bpf_loop). */
  | 'subprog-address'
  /** Call of a kernel function: BTF declares it as an extern FUNC (`__ksym`). */
  | 'kfunc'
  /** Call of an undefined function BTF says nothing about: no loader can resolve it. */
  | 'extern-call'
  /** ld_imm64 of an extern (`__kconfig`, `__ksym`). */
  | 'extern'
  /** A relocation of a data section (e.g. pointers in `.maps` for map-in-map). */
  | 'data'
  | 'unknown';

export interface ProgramRelocation {
  kind: RelocationKind;
  /** Instruction index relative to the start of the program. */
  insn: number;
  /** Offset in the section, in bytes. */
  sectionOffset: number;
  /** R_BPF_* */
  type: number;
  symbol: ElfSymbol;
  /** Name of the referenced map, variable, function or extern. */
  target: string;
  /** Section the symbol lives in, when defined. */
  targetSection?: string;
  /** For global data: byte offset inside the data section. */
  dataOffset?: number;
}

export interface BpfProgram {
  /** Function symbol name; the section name for legacy objects that have no function symbols. */
  name: string;
  section: string;
  sectionIndex: number;
  /** Byte offset of the program's first instruction in its section. */
  offset: number;
  /** Program size in bytes (a multiple of 8). */
  size: number;
  insnCount: number;
  /** The program's instructions, in the object's byte order. */
  bytes: Uint8Array;
  /** An entry point (a program to load) or a `.text` sub-program callable from programs. */
  kind: 'entry' | 'subprog';
  /** Global symbol (libbpf only loads global functions as programs). */
  global: boolean;
  /**
   * The program starts at an STT_NOTYPE symbol (old clang) or at none (the whole section is the
   * program): libbpf 1.x skips such programs, the kernel and tc take them.
   */
  notypeSymbol: boolean;
  relocations: ProgramRelocation[];
  /** BTF.ext records of this program, with `insn` relative to its first instruction. */
  funcInfo: (BtfFuncInfo & { insn: number })[];
  lineInfo: (BtfLineInfo & { insn: number })[];
  coreRelocations: CoreRelocation[];
}

/** A CO-RE relocation from BTF.ext: the loader patches the instruction against the kernel's BTF. */
export interface CoreRelocation {
  insn: number;
  /** enum bpf_core_relo_kind name as libbpf prints it: byte_off, field_exists, type_size, ... */
  kind: string;
  /** The local type the access string starts from. */
  typeId: number;
  typeName: string;
  accessStr: string;
}

export type MapDefinitionStyle =
  /** `struct bpf_map_def` in a `maps` section (libbpf < 1.0, samples/bpf). */
  | 'legacy'
  /** iproute2's `struct bpf_elf_map` (36 bytes with id, pinning, inner id/idx). */
  | 'iproute2'
  /** BTF-defined map in `.maps`. */
  | 'btf';

export interface MapDefinition {
  name: string;
  style: MapDefinitionStyle;
  section: string;
  /** Byte offset of the definition in its section. */
  offset: number;
  /** BPF_MAP_TYPE_* number. */
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  /** LIBBPF_PIN_* (0 none, 1 by name) or iproute2's PIN_* value. */
  pinning: number;
  numaNode?: number;
  /** iproute2 / legacy inner map index, or the BTF inner map definition. */
  innerMapIndex?: number;
  inner?: MapDefinition;
  /** BTF type ids of key and value, when the map is BTF-defined. */
  keyTypeId?: number;
  valueTypeId?: number;
  /** Extra fields a BTF map may set (map_extra, ...). */
  mapExtra?: number;
  /** BTF-defined: the type id of the definition struct. */
  btfTypeId?: number;
}

export interface GlobalVariable {
  name: string;
  offset: number;
  size: number;
  global: boolean;
}

export interface GlobalDataSection {
  /** `.data`, `.rodata`, `.bss`, `.kconfig`, `.rodata.str1.1`, `.data.custom`, ... */
  section: string;
  sectionIndex: number;
  size: number;
  readOnly: boolean;
  /** Initial contents; all zero for `.bss`. */
  bytes: Uint8Array;
  variables: GlobalVariable[];
}

export interface BpfObject {
  elf: ElfFile;
  littleEndian: boolean;
  programs: BpfProgram[];
  maps: MapDefinition[];
  globals: GlobalDataSection[];
  license?: string;
  /** The `version` section (kern_version for old kprobe programs). */
  kernelVersion?: number;
  /** The raw `.BTF` section, when present. */
  btfSection?: ElfSection;
  btfExtSection?: ElfSection;
  /** Parsed `.BTF`, when present and well formed (otherwise a `btf-invalid` diagnostic says why). */
  btf?: Btf;
  btfExt?: BtfExt;
  diagnostics: Diagnostic[];
}
