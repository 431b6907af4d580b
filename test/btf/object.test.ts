import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { btfFromElf, btfMapDefinitions, CORE_RELO_KIND_NAMES } from '../../src/btf/index.js';
import { parseElf } from '../../src/elf/index.js';
import { tool } from '../helpers/env.js';

// A program written here, so the expectations come from its source text, not from our reader.
const SOURCE = `#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __array(name, val) typeof(val) *name[]
#define SEC(s) __attribute__((section(s), used))
struct pair { int a; long b; };
struct inner { __uint(type, 2); __uint(max_entries, 1); __type(key, int); __type(value, int); };
struct { __uint(type, 1); __uint(max_entries, 1024); __uint(map_flags, 1); __type(key, int); __type(value, struct pair); } counts SEC(".maps");
struct { __uint(type, 12); __uint(max_entries, 4); __uint(pinning, 1); __type(key, int); __array(values, struct inner); } outer SEC(".maps");
static void *(*lookup)(void *map, const void *key) = (void *)1;
struct sk { int pad; int field; } __attribute__((preserve_access_index));
SEC("xdp") int prog(struct sk *ctx) {
  int k = 0;
  struct pair *p = lookup(&counts, &k);
  if (!p)
    return 1;
  return p->a + ctx->field;
}
char LICENSE[] SEC("license") = "GPL";
`;

describe.skipIf(!tool('clang-19'))('.BTF and .BTF.ext of a clang-built object', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'btf-obj-'));
    writeFileSync(join(dir, 'prog.c'), SOURCE);
  });
  afterAll(() => rmSync(dir, { recursive: true }));

  it.each(['bpf', 'bpfeb'])('reads maps, func_info, line_info and CO-RE relocations (-target %s)', (target) => {
    const obj = join(dir, `prog-${target}.o`);
    execFileSync('clang-19', ['-g', '-O2', '-target', target, '-c', join(dir, 'prog.c'), '-o', obj]);
    const bytes = new Uint8Array(readFileSync(obj));
    const { btf, ext } = btfFromElf(bytes);
    expect(btf.littleEndian).toBe(target === 'bpf');

    const maps = btfMapDefinitions(btf);
    expect(maps.map((m) => m.name)).toEqual(['counts', 'outer']);
    const [counts, outer] = maps;
    expect(counts).toMatchObject({ type: 1, maxEntries: 1024, mapFlags: 1, unknown: [] });
    expect(btf.typeName(counts!.key!)).toBe('int');
    expect(btf.typeName(counts!.value!)).toBe('struct pair');
    expect(btf.resolveSize(counts!.value!)).toBe(16);
    expect(outer).toMatchObject({ type: 12, maxEntries: 4, pinning: 1 });
    expect(btf.typeName(outer!.values!)).toBe('struct inner');

    expect(ext).toBeDefined();
    const elf = parseElf(bytes);
    const funcs = ext!.funcInfo.find((s) => s.section === 'xdp')!;
    expect(funcs.records).toHaveLength(1);
    const sym = elf.symbols.find((s) => s.name === 'prog')!;
    expect(funcs.records[0]!.insnOff).toBe(sym.value);
    expect(btf.types[funcs.records[0]!.typeId]).toMatchObject({ kind: 'FUNC', name: 'prog' });

    const srcLines = SOURCE.split('\n');
    const lines = ext!.lineInfo.find((s) => s.section === 'xdp')!.records;
    expect(lines.length).toBeGreaterThan(2);
    for (const l of lines) {
      expect(l.fileName.endsWith('prog.c')).toBe(true);
      expect(l.line).toBe(srcLines[l.lineNum - 1]);
      expect(l.column).toBeLessThanOrEqual(l.line.length + 1);
    }
    expect(lines.some((l) => l.line.includes('lookup(&counts'))).toBe(true);
    // Where clang knows the column it is the 1-based position of the expression.
    const ret = lines.find((l) => l.line.includes('return p->a'));
    expect(ret?.column).toBeGreaterThan(srcLines[ret!.lineNum - 1]!.indexOf('return'));

    const relos = ext!.coreRelos.find((s) => s.section === 'xdp')!.records;
    const field = relos.find((r) => btf.typeName(r.typeId) === 'struct sk');
    expect(field).toMatchObject({ accessStr: '0:1' });
    expect(CORE_RELO_KIND_NAMES[field!.kind]).toBe('byte_off');
  });
});
