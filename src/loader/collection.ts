// An object loaded as one handle: its maps and programs by name, its global variables, and
// everything attached through it, taken down together by close().
import { readFileSync } from 'node:fs';
import { btfDecode, btfEncodeInto, parseBtf, type Btf, type CValue } from '../btf/index.js';
import { BpfError } from '../errors.js';
import { fixedBtfBytes, readObject, type BpfObject, type GlobalDataSection } from '../object/index.js';
import { BpfMap } from './map.js';
import { loadObject, objectNameOf, type LoadedObject, type LoadOptions } from './object/load.js';
import type { CreatedMap } from './object/maps.js';
import { Program } from './program.js';
import { mapLookupElem, mapUpdateElem } from './sys/bpf.js';

/** A map, program or variable asked for by a name the object does not have. */
export class NameNotFoundError extends BpfError {
  constructor(
    readonly what: 'map' | 'program' | 'variable' | 'constant',
    readonly wanted: string,
    /** The names that do exist. */
    readonly available: readonly string[],
    options?: { hint?: string },
  ) {
    super(`the object has no ${what} named '${wanted}' (${available.length ? `it has ${available.map((n) => `'${n}'`).join(', ')}` : `it has no ${what}s`})`, options);
  }
}

export interface CollectionOptions {
  /** `.rodata` variables (`const volatile` in C) set before the load, by name, checked against their BTF types. */
  constants?: Record<string, CValue>;
  /** Directory on bpffs for LIBBPF_PIN_BY_NAME maps (and, with pinAll, every map and program). */
  pinDir?: string;
  pinAll?: boolean;
  /** Programs to load, by function or section name; default every entry program. */
  programs?: string[];
  /** Program type for every program, when the section names do not say (a libbpf section name or bpf_prog_type name). */
  type?: string;
  /** libbpf's object name, the prefix of global data map names; default the file name up to its first dot. */
  objectName?: string;
  /** Verifier log level for successful loads (the log is always taken on failure). */
  logLevel?: number;
  warn?: (message: string) => void;
}

const EXCLUDED_GLOBAL_SECTIONS = new Set(['.kconfig']);

interface Variable {
  name: string;
  section: string;
  /** The VAR's BTF type id. */
  typeId: number;
  offset: number;
  readOnly: boolean;
}

/**
 * The object's BTF as the kernel gets it: clang leaves DATASEC sizes and variable offsets at 0,
 * the fixup fills them from the ELF (type ids stay the same).
 */
function laidOutBtf(obj: BpfObject): Btf | undefined {
  return obj.btf && parseBtf(fixedBtfBytes(obj.elf, obj.btf));
}

/** The named variables of the object's data sections, as BTF describes them. */
function variablesOf(obj: BpfObject, btf: Btf | undefined): Variable[] {
  if (!btf) return [];
  return obj.globals.filter((g) => !EXCLUDED_GLOBAL_SECTIONS.has(g.section)).flatMap((g) => {
    const sec = btf.find(g.section, 'DATASEC');
    if (!sec || sec.kind !== 'DATASEC') return [];
    return sec.vars.map((v) => ({ name: btf.type(v.type).name, section: g.section, typeId: v.type, offset: v.offset, readOnly: g.readOnly }));
  });
}

/** Writes `constants` into copies of the object's read-only sections, before the maps are made from them. */
function applyConstants(obj: BpfObject, btf: Btf | undefined, constants: Record<string, CValue>): void {
  const vars = variablesOf(obj, btf);
  const copies = new Map<GlobalDataSection, Uint8Array>();
  for (const [name, value] of Object.entries(constants)) {
    const v = vars.find((x) => x.name === name);
    if (!v || !v.readOnly) {
      throw new NameNotFoundError('constant', name, vars.filter((x) => x.readOnly).map((x) => x.name), {
        hint: v ? `'${name}' is in ${v.section}, writable after load: coll.globals.set('${name}', ...)` : 'constants are const volatile globals, in .rodata',
      });
    }
    const g = obj.globals.find((x) => x.section === v.section)!;
    let bytes = copies.get(g);
    if (!bytes) {
      bytes = Uint8Array.from(g.bytes);
      copies.set(g, bytes);
    }
    btfEncodeInto(btf!, v.typeId, value, bytes, v.offset, { path: `constant '${name}'` });
  }
  obj.globals = obj.globals.map((g) => (copies.has(g) ? { ...g, bytes: copies.get(g)! } : g));
}

/** The object's global variables in the kernel's data maps, by name. */
export class Globals {
  /** @internal */
  constructor(
    readonly btf: Btf | undefined,
    private readonly vars: readonly Variable[],
    private readonly mapOf: (section: string) => CreatedMap | undefined,
  ) {}

  /** The variables' names. */
  names(): string[] {
    return this.vars.map((v) => v.name);
  }

  #find(name: string): { v: Variable; m: CreatedMap } {
    const v = this.vars.find((x) => x.name === name);
    const m = v && this.mapOf(v.section);
    if (!v || !m) throw new NameNotFoundError('variable', name, this.names());
    return { v, m };
  }

  /** The variable's current value in the kernel. */
  get(name: string): CValue {
    const { v, m } = this.#find(name);
    return btfDecode(this.btf!, v.typeId, mapLookupElem(m.fd, new Uint8Array(4))!, v.offset);
  }

  /**
   * Sets a `.data` or `.bss` variable. The section is read, changed and written back as a whole, so
   * a program writing another variable of the same section at that moment can lose its write.
   */
  set(name: string, value: CValue): void {
    const { v, m } = this.#find(name);
    if (v.readOnly) {
      throw new BpfError(`'${name}' is in ${v.section}, which is frozen after load`, { hint: `give it at load: Collection.load(file, { constants: { ${name}: ... } })` });
    }
    const key = new Uint8Array(4);
    const bytes = mapLookupElem(m.fd, key)!;
    btfEncodeInto(this.btf!, v.typeId, value, bytes, v.offset, { path: `variable '${name}'` });
    mapUpdateElem(m.fd, key, bytes);
  }
}

export class Collection {
  readonly #loaded: LoadedObject;
  readonly #maps = new Map<string, BpfMap>();
  readonly #programs = new Map<string, Program>();
  #closed = false;
  #unhook: (() => void) | undefined;
  /** The object's global variables (.data, .bss, .rodata) by name. */
  readonly globals: Globals;

  private constructor(loaded: LoadedObject, btf: Btf | undefined) {
    this.#loaded = loaded;
    for (const m of loaded.maps) {
      this.#maps.set(m.spec.objectName, new BpfMap(m.fd, {
        name: m.spec.objectName, btf, keyTypeId: m.spec.btfKeyTypeId, valueTypeId: m.spec.btfValueTypeId, inner: m.spec.inner,
      }));
    }
    for (const p of loaded.programs) this.#programs.set(p.name, new Program(p));
    this.globals = new Globals(btf, variablesOf(loaded.object, btf), (section) => loaded.maps.find((m) => m.spec.data?.section === section));
  }

  /** Loads an object file (a path, or its bytes) into the kernel: maps created, programs verified. */
  static load(input: string | Uint8Array, options: CollectionOptions = {}): Collection {
    const bytes = typeof input === 'string' ? readFileSync(input) : input;
    const obj = readObject(bytes);
    const btf = laidOutBtf(obj);
    if (options.constants) applyConstants(obj, btf, options.constants);
    const o: LoadOptions = {
      objectName: options.objectName ?? (typeof input === 'string' ? objectNameOf(input) : 'obj'),
      ...(options.pinDir !== undefined ? { pinDir: options.pinDir } : {}),
      ...(options.pinAll ? { pinAll: true } : {}),
      ...(options.programs ? { programs: options.programs } : {}),
      ...(options.type !== undefined ? { type: options.type } : {}),
      ...(options.logLevel !== undefined ? { logLevel: options.logLevel } : {}),
      ...(options.warn ? { warn: options.warn } : {}),
    };
    return new Collection(loadObject(obj, o), btf);
  }

  /** The names of the maps (map symbols, and `.data`/`.bss`/`.rodata` for global data). */
  get mapNames(): string[] {
    return [...this.#maps.keys()];
  }

  get programNames(): string[] {
    return [...this.#programs.keys()];
  }

  /** Warnings of the load (sections libbpf would refuse, BTF the kernel refused, ...). */
  get warnings(): readonly string[] {
    return this.#loaded.warnings;
  }

  map(name: string): BpfMap {
    const m = this.#maps.get(name);
    if (!m) throw new NameNotFoundError('map', name, this.mapNames);
    return m;
  }

  program(name: string): Program {
    const p = this.#programs.get(name);
    if (!p) throw new NameNotFoundError('program', name, this.programNames);
    return p;
  }

  /** Detaches every link made through this collection's programs and closes every descriptor; pins stay. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unhook?.();
    let first: unknown;
    for (const p of this.#programs.values()) {
      try {
        p.detachAll();
      } catch (e) {
        first ??= e;
      }
    }
    this.#loaded.close();
    if (first !== undefined) throw first;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Opt-in: close (and so detach everything) when the process exits or gets SIGINT/SIGTERM; the
   * signal then takes its default course. Returns the collection.
   */
  closeOnExit(): this {
    if (!this.#unhook) this.#unhook = onExit(() => this.close());
    return this;
  }
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Runs `cleanup` once when the process exits or receives SIGINT/SIGTERM; after a signal the
 * process then ends as that signal would have ended it. Returns a function that unregisters.
 */
export function onExit(cleanup: () => void): () => void {
  let done = false;
  const run = () => {
    if (done) return;
    done = true;
    unhook();
    cleanup();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    try {
      run();
    } finally {
      // Our listener kept the default from happening; with it gone, the same signal ends the process.
      process.kill(process.pid, signal);
    }
  };
  const unhook = () => {
    process.off('exit', run);
    for (const s of SIGNALS) process.off(s, onSignal);
  };
  process.on('exit', run);
  for (const s of SIGNALS) process.on(s, onSignal);
  return () => {
    done = true;
    unhook();
  };
}
