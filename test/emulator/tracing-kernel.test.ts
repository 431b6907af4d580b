// Differential test of raw tracepoint programs: BPF_PROG_TEST_RUN takes a raw_tp program's u64
// arguments as ctx_in, so the kernel and the emulator run the same generated arguments through the
// programs of progs/tracing/raw_tp_args.c (which compute on them without dereferencing) and must
// agree on every return value and, after every run, on the contents of every map — bpf_loop and
// bpf_for_each_map_elem callbacks included.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadObject, mapKeys, mapLookupElem, progTestRun } from '../../src/loader/raw.js';
import { Emulator } from '../../src/vm/index.js';
import { haveRoot, repoRoot } from '../helpers/env.js';

const RUNS = Number(process.env.DIFF_RUNS ?? 250);
const file = readFileSync(join(repoRoot, 'test', 'emulator', 'progs', 'tracing', 'build', 'raw_tp_args.o'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Arguments worth generating: corner values and arbitrary ones. */
const arg = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  fc.constantFrom(0n, 1n, 13n, 0x7fn, 0xffffffffn, 0x8000000000000000n, 0xffffffffffffffffn),
  fc.bigInt({ min: 0n, max: 255n }),
);

const PROGRAMS = [
  { name: 'mix', args: 3 },
  { name: 'narrow', args: 2 },
  { name: 'looped', args: 3 },
  { name: 'counted', args: 3 },
];

describe.skipIf(!haveRoot())('raw_tp programs: the emulator agrees with BPF_PROG_TEST_RUN', () => {
  it.each(PROGRAMS)('$name on generated arguments', ({ name, args }) => {
    const loaded = loadObject(file, { programs: [name], objectName: 'rawtpdiff' });
    try {
      const prog = loaded.programs[0]!;
      const emu = Emulator.fromObject(file, { program: name });
      const kernelMaps = () => Object.fromEntries(loaded.maps.filter((m) => !m.spec.objectName.startsWith('.')).map((m) => [
        m.spec.objectName,
        mapKeys(m.fd, m.spec.keySize).map((k) => `${hex(k)}=${hex(mapLookupElem(m.fd, k, m.spec.valueSize)!)}`).sort(),
      ]));
      const emulatorMaps = () => Object.fromEntries(['results', 'counts'].map((n) => [n, emu.maps.get(n).entries().map(([k, v]) => `${hex(k)}=${hex(v)}`).sort()]));
      let runs = 0;
      fc.assert(fc.property(fc.array(arg, { minLength: args, maxLength: args }), (values) => {
        const ctx = new Uint8Array(new BigUint64Array(values).buffer);
        // bpf_prog_test_run_raw_tp() refuses data, ctx_out, duration and repeat: the run happens once.
        const k = progTestRun(prog.fd, { ctxIn: ctx, repeat: 0 });
        const e = emu.runTracing({ ctx: { kind: 'raw_tp', args: values } });
        const given = values.map((v) => `0x${v.toString(16)}`).join(', ');
        expect(e.retval, `retval for ${given}`).toBe(k.retval);
        expect(emulatorMaps(), `maps after ${given}`).toEqual(kernelMaps());
        runs++;
      }), { numRuns: RUNS });
      expect(runs).toBe(RUNS);
    } finally {
      loaded.close();
    }
  });
});
