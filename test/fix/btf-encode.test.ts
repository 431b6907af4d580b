// encodeBtf round trips, BTF fixup and sanitising, with the kernel's BPF_BTF_LOAD as the oracle
// for "a kernel accepts this BTF" and bpftool for what the bytes contain.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseElf, sectionByName } from '../../src/elf/index.js';
import {
  btfContent, btfFeaturesOf, encodeBtf, parseBtf, sanitizeBtf, BTF_FEATURES, type BtfFeature,
} from '../../src/btf/index.js';
import { fixupBtf } from '../../src/object/index.js';
import { haveCorpus, haveKernelBtf, haveRoot, tool, VMLINUX } from '../helpers/env.js';
import { kernelBtfVerdict } from '../helpers/kernel-btf.js';
import { corpusObjects, label, projectObjects } from '../helpers/objects.js';

const corpus = haveCorpus();
const root = haveRoot();
const bpftool = tool('bpftool');
const tmp = mkdtempSync(join(tmpdir(), 'bpfts-btf-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type BtfObject = { path: string; btf: Uint8Array; elf: ReturnType<typeof parseElf> };

function withBtf(paths: string[]): BtfObject[] {
  return paths.flatMap((path) => {
    let elf;
    try {
      elf = parseElf(readFileSync(path));
    } catch {
      return [];
    }
    const s = sectionByName(elf, '.BTF');
    if (!s) return [];
    try {
      parseBtf(s.data);
    } catch {
      return [];
    }
    return [{ path, btf: s.data, elf }];
  });
}

// Every object whose .BTF parses: read in beforeAll, so that collecting this file reads nothing.
let objects: BtfObject[] = [];
let withDatasec: BtfObject[] = [];
beforeAll(() => {
  objects = withBtf([...(corpus ? corpusObjects() : []), ...projectObjects()]);
  withDatasec = objects.filter((o) => parseBtf(o.btf).ownTypes().some((t) => t.kind === 'DATASEC'));
});

/**
 * Load BTF into the kernel: undefined when accepted, else the last line of the kernel's log. The
 * kernel reads only its own byte order, so big-endian BTF is re-encoded first, as loaders do.
 */
function kernelVerdict(bytes: Uint8Array): string | undefined {
  return kernelBtfVerdict(bytes[0] === 0x9f ? bytes : encodeBtf({ ...btfContent(parseBtf(bytes)), littleEndian: true }));
}

describe('encodeBtf', () => {
  it('has objects with BTF to work on', () => {
    expect(objects.length).toBeGreaterThan(corpus ? 30 : 10);
  });

  it('round trips the .BTF of every object byte for byte', () => {
    const changed = objects.filter((o) => !Buffer.from(encodeBtf(btfContent(parseBtf(o.btf)))).equals(Buffer.from(o.btf)));
    expect(changed.map((o) => label(o.path))).toEqual([]);
  });

  it.skipIf(!haveKernelBtf())('round trips the running kernel\'s vmlinux BTF byte for byte', () => {
    const raw = readFileSync(VMLINUX);
    const out = encodeBtf(btfContent(parseBtf(raw)));
    expect(out.length).toBe(raw.length);
    expect(Buffer.from(out).equals(raw)).toBe(true);
  });

  const littleAndBig = () => {
    const le = objects.find((o) => o.elf.littleEndian && o.path.includes('bpfel'))!;
    return { le: le.btf, be: encodeBtf({ ...btfContent(parseBtf(le.btf)), littleEndian: false }) };
  };

  it('writes big-endian BTF that reads back as the little-endian original', () => {
    const { le, be } = littleAndBig();
    expect(be[0]).toBe(0xeb);
    expect(Buffer.from(encodeBtf({ ...btfContent(parseBtf(be)), littleEndian: true })).equals(Buffer.from(le))).toBe(true);
  });

  it.skipIf(!bpftool)('writes big-endian BTF that bpftool reads the same as the little-endian original', () => {
    const { le, be } = littleAndBig();
    const a = join(tmp, 'le.btf');
    const b = join(tmp, 'be.btf');
    writeFileSync(a, le);
    writeFileSync(b, be);
    expect(execFileSync(bpftool!, ['btf', 'dump', 'file', b], { encoding: 'utf8' })).toBe(execFileSync(bpftool!, ['btf', 'dump', 'file', a], { encoding: 'utf8' }));
  });
});

/**
 * Objects that declare an extern function outside .ksyms (calls to undefined functions): libbpf
 * refuses them ("extern function ... is unsupported"), and the kernel refuses their BTF whatever
 * is fixed up, because BTF of a program may not hold FUNCs with extern linkage.
 */
const externFuncs = (o: { btf: Uint8Array }): boolean =>
  parseBtf(o.btf).ownTypes().some((t) => t.kind === 'FUNC' && t.linkage === 2);

describe.skipIf(!root)('fixupBtf against the kernel (BPF_BTF_LOAD)', () => {
  it('finds objects whose BTF has DATASECs', () => {
    expect(withDatasec.length).toBeGreaterThan(5);
  });

  it('raw .BTF rejected with "size == 0", fixed .BTF accepted, for every object with DATASECs', () => {
    for (const o of withDatasec) {
      const name = label(o.path);
      const result = fixupBtf(o.elf, parseBtf(o.btf));
      expect(result.problems, name).toEqual([]);
      expect(result.changed, name).toBe(true);
      if (externFuncs(o)) {
        expect(kernelVerdict(encodeBtf(result.content)), name).toMatch(/FUNC .* Invalid func linkage$/);
        continue;
      }
      expect(kernelVerdict(o.btf), name).toMatch(/DATASEC .* size == 0$/);
      expect(kernelVerdict(encodeBtf(result.content)), name).toBeUndefined();
    }
  });

  it.skipIf(!bpftool)('fills offsets from the symbol table: bpftool shows each global at its symbol\'s value', () => {
    for (const o of withDatasec.slice(0, 10)) {
      const fixed = encodeBtf(fixupBtf(o.elf, parseBtf(o.btf)).content);
      const path = join(tmp, 'fixed.btf');
      writeFileSync(path, fixed);
      const dump = JSON.parse(execFileSync(bpftool!, ['-j', 'btf', 'dump', 'file', path], { encoding: 'utf8' })) as { types: { id: number; kind: string; name: string; size?: number; vars?: { type_id: number; name: string; offset: number }[] }[] };
      for (const ds of dump.types.filter((t) => t.kind === 'DATASEC')) {
        const section = sectionByName(o.elf, ds.name);
        if (ds.name === '.kconfig' || ds.name === '.ksyms' || !section) continue;
        expect(ds.size, `${label(o.path)} ${ds.name}`).toBe(section.size);
        for (const v of ds.vars ?? []) {
          const sym = o.elf.symbols.find((s) => s.name === v.name && s.shndx === section.index);
          if (sym) expect(v.offset, `${label(o.path)} ${v.name}`).toBe(sym.value);
        }
      }
    }
  });
});

/** Kinds a BTF must not contain for a kernel without `feature`. */
const FORBIDDEN: Partial<Record<BtfFeature, string[]>> = {
  func: ['FUNC', 'FUNC_PROTO'], datasec: ['VAR', 'DATASEC'], float: ['FLOAT'], 'decl-tag': ['DECL_TAG'],
  'type-tag': ['TYPE_TAG'], enum64: ['ENUM64'],
};

describe('sanitizeBtf', () => {
  it('knows the kernel version of every BTF feature', () => {
    expect(btfFeaturesOf('4.19').size).toBe(0);
    expect([...btfFeaturesOf('5.0')]).toEqual(['func']);
    expect([...btfFeaturesOf('5.4')].sort()).toEqual(['datasec', 'func']);
    expect(btfFeaturesOf('6.18').size).toBe(BTF_FEATURES.length);
    expect(btfFeaturesOf('5.15').has('decl-tag')).toBe(false);
    expect(btfFeaturesOf('5.16').has('decl-tag')).toBe(true);
  });

  const kernels = ['4.19', '5.4', '5.10', '5.15', '5.16', '5.19'];
  describe.skipIf(!root)('sanitised BTF is accepted by the running kernel and has no kinds the old kernel lacks', () => {
    it.each(kernels)('for %s', (kernel) => {
      const features = btfFeaturesOf(kernel);
      let rewritten = 0;
      for (const o of objects) {
        const fixed = fixupBtf(o.elf, parseBtf(o.btf));
        if (fixed.problems.length || externFuncs(o)) continue;
        const changes = sanitizeBtf(fixed.content, features);
        rewritten += changes.length;
        const bytes = encodeBtf(fixed.content);
        expect(kernelVerdict(bytes), `${label(o.path)} for ${kernel}`).toBeUndefined();
        const kinds = new Set(parseBtf(bytes).ownTypes().map((t) => t.kind));
        for (const [feature, banned] of Object.entries(FORBIDDEN)) {
          if (features.has(feature as BtfFeature)) continue;
          for (const k of banned) expect(kinds.has(k as never), `${label(o.path)}: ${k} left for ${kernel}`).toBe(false);
        }
      }
      if (!features.has('global-func')) expect(rewritten).toBeGreaterThan(0);
    });
  });

  // The corpus has no FLOAT, DECL_TAG, TYPE_TAG or ENUM64: clang-19 makes an object that has them all.
  const clang = tool('clang-19');
  describe.skipIf(!root || !clang)('on clang-19 output with every newer kind', () => {
    let elf: ReturnType<typeof parseElf>;
    let btf: ReturnType<typeof parseBtf>;
    beforeAll(() => {
      const src = join(tmp, 'kinds.c');
      const obj = join(tmp, 'kinds.o');
      writeFileSync(src, `
enum big { BIG_A = 1, BIG_B = 0x1000000000LL };
enum neg { NEG_A = -1, NEG_B = 2 };
struct s { float f; double d; int __attribute__((btf_type_tag("user"))) *p; enum big b; enum neg n; };
struct s g __attribute__((btf_decl_tag("tagged")));
static int helper(struct s *x) __attribute__((noinline));
static int helper(struct s *x) { return x->b == BIG_B; }
__attribute__((section("xdp"), used)) int prog(void *ctx) { return helper(&g) + (g.p != 0); }
char LICENSE[] __attribute__((section("license"), used)) = "GPL";
`);
      execFileSync(clang!, ['-g', '-O2', '-target', 'bpf', '-c', src, '-o', obj]);
      elf = parseElf(readFileSync(obj));
      btf = parseBtf(sectionByName(elf, '.BTF')!.data);
    });

    it('has the kinds to rewrite', () => {
      const kinds = new Set(btf.ownTypes().map((t) => t.kind));
      for (const k of ['FLOAT', 'DECL_TAG', 'TYPE_TAG', 'ENUM64', 'VAR', 'DATASEC', 'FUNC'] as const) expect(kinds.has(k)).toBe(true);
    });

    it.each(['4.19', '5.1', '5.4', '5.10', '5.15', '5.16', '5.19', '6.1'])('for %s: only supported kinds remain and the kernel accepts it', (kernel) => {
      const features = btfFeaturesOf(kernel);
      const fixed = fixupBtf(elf, btf);
      sanitizeBtf(fixed.content, features);
      const bytes = encodeBtf(fixed.content);
      expect(kernelVerdict(bytes)).toBeUndefined();
      const kinds = new Set(parseBtf(bytes).ownTypes().map((t) => t.kind));
      for (const [feature, banned] of Object.entries(FORBIDDEN)) {
        if (features.has(feature as BtfFeature)) continue;
        for (const k of banned) expect(kinds.has(k as never), `${k} left for ${kernel}`).toBe(false);
      }
    });
  });

  it('keeps type ids: every sanitised BTF has the same number of types (plus one placeholder for ENUM64)', () => {
    for (const o of objects) {
      const btf = parseBtf(o.btf);
      const content = btfContent(btf);
      sanitizeBtf(content, btfFeaturesOf('4.19'));
      const hasEnum64 = btf.ownTypes().some((t) => t.kind === 'ENUM64');
      expect(content.types.length).toBe(btf.ownTypes().length + (hasEnum64 ? 1 : 0));
    }
  });
});
