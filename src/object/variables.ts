// An object's global variables by name, as BTF lays them out: what the loader's and the emulator's
// `constants` write into .rodata before the maps are made, and what both read and write after.
import { btfEncodeInto, parseBtf, type Btf, type CValue } from '../btf/index.js';
import { BpfError } from '../errors.js';
import { fixedBtfBytes } from './btf-fixup.js';
import type { BpfObject, GlobalDataSection } from './model.js';

/** A map, program, variable or constant asked for by a name the object does not have. */
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

export interface DataVariable {
  name: string;
  /** `.data`, `.bss`, `.rodata`, ... */
  section: string;
  /** The VAR's BTF type id. */
  typeId: number;
  offset: number;
  readOnly: boolean;
}

/** `.kconfig` holds externs the loader fills, not variables of the program's own. */
const EXTERN_SECTIONS = new Set(['.kconfig']);

/**
 * The object's BTF as the kernel gets it: clang leaves DATASEC sizes and variable offsets at 0,
 * the fixup fills them from the ELF (type ids stay the same).
 */
export function laidOutBtf(obj: BpfObject): Btf | undefined {
  return obj.btf && parseBtf(fixedBtfBytes(obj.elf, obj.btf));
}

/** The named variables of the object's data sections; `btf` is laidOutBtf(obj). */
export function dataVariables(obj: BpfObject, btf: Btf | undefined): DataVariable[] {
  if (!btf) return [];
  return obj.globals.filter((g) => !EXTERN_SECTIONS.has(g.section)).flatMap((g) => {
    const sec = btf.find(g.section, 'DATASEC');
    if (!sec || sec.kind !== 'DATASEC') return [];
    return sec.vars.map((v) => ({ name: btf.type(v.type).name, section: g.section, typeId: v.type, offset: v.offset, readOnly: g.readOnly }));
  });
}

/**
 * Writes `constants` (const volatile globals, by name) into copies of the object's read-only
 * sections, so that the maps made from `obj` afterwards start with them.
 */
export function applyConstants(obj: BpfObject, btf: Btf | undefined, constants: Readonly<Record<string, CValue>>): void {
  const vars = dataVariables(obj, btf);
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
