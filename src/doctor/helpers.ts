// Which helpers a program type may call, and which helpers need a GPL-compatible license: as the
// kernel answered scripts/probe-helpers.mjs (src/doctor/helper-data.ts, regenerated per kernel and
// checked against the running kernel by test/verify/helper-probe.test.ts). Names are bpf_func_id
// names without the bpf_ prefix (src/uapi BPF_FUNC_NAMES).
import { BPF_FUNC_NAMES } from '../uapi/index.js';
import { HELPER_DATA } from './helper-data.js';

/**
 * Helpers whose proto returns RET_VOID: r0 holds nothing after the call (a later `exit` without
 * setting r0 is "R0 !read_ok").
 */
export const VOID_HELPERS: ReadonlySet<string> = new Set([
  'tail_call', 'spin_lock', 'spin_unlock', 'ringbuf_submit', 'ringbuf_discard', 'ringbuf_submit_dynptr',
  'ringbuf_discard_dynptr', 'set_hash_invalid',
]);

/**
 * Helper names each program type may call, by the bpf_prog_type name, for the program types the
 * probe could load (not tracing, LSM, ext or struct_ops, which need a BTF id to attach to).
 */
export const HELPERS_BY_PROG_TYPE: Readonly<Record<string, ReadonlySet<string>>> = Object.fromEntries(
  Object.entries(HELPER_DATA.progTypes).map(([type, t]) => [type, new Set(t.helpers)]),
);

/**
 * Helpers whose proto has `.gpl_only = true`, among those some probed program type may call
 * (helpers no probed type may call, such as bpf_probe_write_user under lockdown, are not listed).
 */
export const GPL_ONLY_HELPERS: ReadonlySet<string> = new Set(HELPER_DATA.gplOnly);

/** __BPF_FUNC_MAX_ID of the probed kernel: helper ids from it on are "invalid func". */
export const HELPER_FUNC_MAX_ID = HELPER_DATA.funcMaxId;

/** The kernel release the tables were probed on. */
export const HELPER_TABLES_KERNEL = HELPER_DATA.kernel;

/** include/linux/license.h: license_is_gpl_compatible. */
export const GPL_COMPATIBLE_LICENSES: ReadonlySet<string> = new Set([
  'GPL', 'GPL v2', 'GPL and additional rights', 'Dual BSD/GPL', 'Dual MIT/GPL', 'Dual MPL/GPL',
]);

/** The helper's name for an id (without bpf_), or undefined when the id is unknown. */
export function helperByID(id: number): string | undefined {
  return id > 0 ? BPF_FUNC_NAMES[id] : undefined;
}

/** Whether `progType` may call helper `id`; undefined when bpfts has no table for the type. */
export function helperAllowed(progType: string, id: number): boolean | undefined {
  const allowed = HELPERS_BY_PROG_TYPE[progType];
  const name = helperByID(id);
  if (!allowed || name === undefined) return undefined;
  return allowed.has(name);
}
