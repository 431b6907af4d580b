// Debian 12's libbpf 1.1 as an oracle for the program model: bpf_object__open_file parses the ELF,
// splits programs and reads map definitions without touching the kernel.
import { loadLibbpfLibrary } from './libbpf-oracle.js';

export interface LibbpfView {
  programs: { name: string; section: string; insns: number }[];
  maps: { name: string; type: number; keySize: number; valueSize: number; maxEntries: number }[];
}

export type LibbpfOpen = (path: string) => LibbpfView | undefined;

export function libbpfOpener(): LibbpfOpen | undefined {
  const lib = loadLibbpfLibrary();
  if (!lib) return undefined;
  const open = lib.func('void *bpf_object__open_file(const char *path, void *opts)');
  const close = lib.func('void bpf_object__close(void *obj)');
  const libbpfGetError = lib.func('long libbpf_get_error(void *ptr)');
  const nextProgram = lib.func('void *bpf_object__next_program(void *obj, void *prev)');
  const progName = lib.func('const char *bpf_program__name(void *prog)');
  const progSection = lib.func('const char *bpf_program__section_name(void *prog)');
  const progInsns = lib.func('size_t bpf_program__insn_cnt(void *prog)');
  const nextMap = lib.func('void *bpf_object__next_map(void *obj, void *prev)');
  const mapName = lib.func('const char *bpf_map__name(void *map)');
  const mapType = lib.func('int bpf_map__type(void *map)');
  const keySize = lib.func('uint32_t bpf_map__key_size(void *map)');
  const valueSize = lib.func('uint32_t bpf_map__value_size(void *map)');
  const maxEntries = lib.func('uint32_t bpf_map__max_entries(void *map)');
  return (path) => {
    const obj = open(path, null);
    if (!obj || libbpfGetError(obj) !== 0) return undefined;
    try {
      const view: LibbpfView = { programs: [], maps: [] };
      for (let p = nextProgram(obj, null); p; p = nextProgram(obj, p)) {
        view.programs.push({ name: progName(p), section: progSection(p), insns: Number(progInsns(p)) });
      }
      for (let m = nextMap(obj, null); m; m = nextMap(obj, m)) {
        view.maps.push({ name: mapName(m), type: mapType(m), keySize: keySize(m), valueSize: valueSize(m), maxEntries: maxEntries(m) });
      }
      return view;
    } finally {
      close(obj);
    }
  };
}
