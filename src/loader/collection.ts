// An object loaded as one handle: its maps and programs by name, its global variables, and
// everything attached through it, taken down together by close().
import { readFileSync } from 'node:fs';
import { btfDecode, btfEncodeInto, type Btf, type CValue } from '../btf/index.js';
import { BpfError } from '../errors.js';
import {
  NameNotFoundError, applyConstants, dataVariables, laidOutBtf, readObject, type DataVariable,
} from '../object/index.js';
import { explainTracingLoadFailure } from './attach/tracing.js';
import { BpfMap } from './map.js';
import { LoadError } from './object/errors.js';
import { loadObject, objectNameOf, type LoadedObject, type LoadOptions } from './object/load.js';
import type { CreatedMap } from './object/maps.js';
import { Program } from './program.js';
import { mapLookupElem, mapUpdateElem } from './sys/bpf.js';

export { NameNotFoundError };

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

/** The object's global variables in the kernel's data maps, by name. */
export class Globals {
  /** @internal */
  constructor(
    readonly btf: Btf | undefined,
    private readonly vars: readonly DataVariable[],
    private readonly mapOf: (section: string) => CreatedMap | undefined,
  ) {}

  /** The variables' names. */
  names(): string[] {
    return this.vars.map((v) => v.name);
  }

  #find(name: string): { v: DataVariable; m: CreatedMap } {
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
    this.globals = new Globals(btf, dataVariables(loaded.object, btf), (section) => loaded.maps.find((m) => m.spec.data?.section === section));
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
    let loaded: LoadedObject;
    try {
      loaded = loadObject(obj, o);
    } catch (e) {
      // fentry/fexit/... on a kernel without BPF trampolines fail at load: say that, not just EPERM.
      throw e instanceof LoadError && e.section !== undefined ? explainTracingLoadFailure(e, e.section) : e;
    }
    return new Collection(loaded, btf);
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

  /**
   * Detaches every link made through this collection's programs, closes the map readers and every
   * descriptor; pins stay, and so does a pinned link's attachment.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unhook?.();
    let first: unknown;
    for (const p of this.#programs.values()) {
      try {
        p.closeLinks();
      } catch (e) {
        first ??= e;
      }
    }
    for (const m of this.#maps.values()) {
      try {
        m.closeReaders();
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
