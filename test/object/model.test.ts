import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { readObject } from '../../src/object/index.js';
import { haveCorpus } from '../helpers/env.js';
import { corpusObjects, label, projectObjects } from '../helpers/objects.js';
import { libbpfOpener } from './libbpf-open.js';

const open = libbpfOpener();
const corpus = haveCorpus();

// libbpf 1.1 opens BTF-era objects; where it refuses one (legacy maps, odd sections), the object
// is counted, not compared. Internal maps (.data/.rodata/.bss/.kconfig) are libbpf's view of our
// global data sections.
describe.skipIf(!open)('program model agrees with libbpf 1.1 bpf_object__open', () => {
  const objects = [...(corpus ? corpusObjects() : []), ...projectObjects().filter((p) => p.includes('/bpfel/'))];
  const counts = { compared: 0, libbpfRefused: 0 };
  it.each(objects.map((p) => [label(p), p]))('%s', (_name, path) => {
    const theirs = open!(path);
    if (!theirs) {
      counts.libbpfRefused++;
      return;
    }
    counts.compared++;
    const ours = readObject(readFileSync(path));
    // libbpf 1.x skips programs without an STT_FUNC symbol; bpfts keeps them for the kernel and tc.
    expect(ours.programs.filter((p) => p.kind === 'entry' && !p.notypeSymbol).map((p) => ({ name: p.name, section: p.section, insns: p.insnCount })))
      .toEqual(theirs.programs);
    const internal = theirs.maps.filter((m) => m.name.includes('.'));
    const defined = theirs.maps.filter((m) => !m.name.includes('.'));
    expect(ours.maps.map((m) => ({ name: m.name, type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries })))
      .toEqual(defined);
    // libbpf names internal maps "<object prefix>.<section>" and skips empty sections.
    expect(ours.globals.filter((g) => g.size > 0).map((g) => g.section).sort())
      .toEqual(internal.map((m) => m.name.slice(m.name.indexOf('.'))).sort());
  });
  it('compared enough objects', () => {
    console.log(`program model vs libbpf 1.1: ${counts.compared} compared, ${counts.libbpfRefused} refused by libbpf`);
    // bpf/build alone has 13 objects that libbpf 1.1 opens.
    expect(counts.compared).toBeGreaterThan(corpus ? 20 : 10);
  });
});
