// Debian 12's libbpf 1.1 shared library as an oracle for section-name matching: libbpf_prog_type_by_name
// runs libbpf's own find_sec_def, and libbpf_attach_type_by_name succeeds only for SEC_ATTACHABLE entries.
import koffi from 'koffi';

export interface LibbpfOracle {
  /** [prog_type, expected_attach_type], or undefined when libbpf knows no entry (-ESRCH). */
  progType(name: string): [number, number] | undefined;
  /** The attach type for SEC_ATTACHABLE entries, undefined otherwise. */
  attachType(name: string): number | undefined;
}

/** Debian's libbpf.so.1 with its logging silenced, or undefined (loudly) when it is not installed. */
export function loadLibbpfLibrary(): ReturnType<typeof koffi.load> | undefined {
  let lib: ReturnType<typeof koffi.load>;
  try {
    lib = koffi.load('libbpf.so.1');
  } catch {
    if (process.env.BPFTS_REQUIRE_TOOLS === '1') throw new Error('libbpf.so.1 is not installed but BPFTS_REQUIRE_TOOLS=1 requires it');
    console.warn('\n*** SKIPPING: libbpf.so.1 (Debian package libbpf1) is not available ***\n');
    return undefined;
  }
  // libbpf_set_print(NULL) silences libbpf's messages about names it does not know.
  printFn ??= koffi.proto('int libbpf_print_fn(int level, const char *fmt, void *args)');
  lib.func('void *libbpf_set_print(libbpf_print_fn *fn)')(null);
  return lib;
}

let printFn: unknown;

export function loadLibbpf11(): LibbpfOracle | undefined {
  const lib = loadLibbpfLibrary();
  if (!lib) return undefined;
  const byName = lib.func('int libbpf_prog_type_by_name(const char *name, _Out_ int *prog_type, _Out_ int *attach_type)');
  const attachByName = lib.func('int libbpf_attach_type_by_name(const char *name, _Out_ int *attach_type)');
  return {
    progType(name) {
      const p = [0];
      const a = [0];
      return (byName(name, p, a) as number) === 0 ? [p[0]!, a[0]!] : undefined;
    },
    attachType(name) {
      const a = [0];
      return (attachByName(name, a) as number) === 0 ? a[0] : undefined;
    },
  };
}
