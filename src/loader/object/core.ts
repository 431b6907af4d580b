// CO-RE for loading: src/object's relocation logic against the running kernel's BTF, with its
// failures reported as load errors.
import type { Btf } from '../../btf/index.js';
import { applyCoreRelocations as apply, CoreRelocationError, type BpfProgram, type CoreResolution } from '../../object/index.js';
import { LoadError } from './errors.js';

export { CORE_POISON_HELPER, essentialName, type CoreResolution } from '../../object/index.js';

/** src/object's applyCoreRelocations, a relocation the kernel's BTF cannot resolve being a LoadError. */
export function applyCoreRelocations(code: Uint8Array, fn: BpfProgram, local: Btf, target: Btf): CoreResolution[] {
  try {
    return apply(code, fn, local, target);
  } catch (e) {
    if (e instanceof CoreRelocationError) throw new LoadError(e.message, { program: e.program, section: e.section, cause: e.cause });
    throw e;
  }
}
