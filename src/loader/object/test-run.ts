// Running a program of an object in the kernel on given packets (BPF_PROG_TEST_RUN), for comparing
// the emulator with the kernel: the object is loaded, maps are seeded, each packet runs once, and
// everything is released before returning.
import { mapUpdateElem, progTestRun } from '../sys/bpf.js';
import { LoadError } from './errors.js';
import { loadObject } from './load.js';

export interface KernelTestRunOptions {
  /** Program (function or section name); default the object's only entry program. */
  program?: string;
  /** Program type when the section does not say (e.g. "classifier", "xdp"). */
  type?: string;
  packets: Uint8Array[];
  /** Map contents to store before the runs, by the map's name in the object. */
  maps?: Record<string, { key: Uint8Array; value: Uint8Array }[]>;
}

export interface KernelTestRunResult {
  retval: number;
  /** The packet after the program ran. */
  packet: Uint8Array;
  /** Kernel-measured run time, nanoseconds. */
  duration: number;
}

export function kernelTestRun(objBytes: Uint8Array, o: KernelTestRunOptions): KernelTestRunResult[] {
  const loaded = loadObject(objBytes, { ...(o.program ? { programs: [o.program] } : {}), ...(o.type ? { type: o.type } : {}), objectName: 'test' });
  try {
    if (loaded.programs.length !== 1) {
      throw new LoadError(`the object has ${loaded.programs.length} programs; name one`, { hint: loaded.programs.map((p) => p.name).join(', ') });
    }
    for (const [name, entries] of Object.entries(o.maps ?? {})) {
      const m = loaded.maps.find((c) => c.spec.objectName === name || c.spec.name === name);
      if (!m) throw new LoadError(`the object has no map '${name}'`, { map: name });
      for (const e of entries) mapUpdateElem(m.fd, e.key, e.value);
    }
    const prog = loaded.programs[0]!;
    return o.packets.map((p) => {
      const r = progTestRun(prog.fd, { dataIn: p });
      return { retval: r.retval, packet: r.dataOut ?? new Uint8Array(), duration: r.duration };
    });
  } finally {
    loaded.close();
  }
}
