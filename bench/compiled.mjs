// How many of the corpus's entry programs run compiled (compile.ts): every little-endian object of
// ebpf-samples (invalid/ aside) and bpf/build/bpfel, each entry program linked as the emulator links
// it (its .text sub-programs appended) and translated; it counts as compiled when every function of
// its translation is short enough for V8 to optimize (MAX_COMPILED_SOURCE), and each is then built.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readObject } from '../dist/object/index.js';
import { Memory } from '../dist/vm/memory.js';
import { MapRegistry } from '../dist/vm/maps/registry.js';
import { createObjectMaps, linkProgram } from '../dist/vm/object.js';
import { compileProgram, MAX_COMPILED_SOURCE, translate } from '../dist/vm/compile.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const corpus = process.env.BPFTS_CORPUS ?? resolve(repo, '..', 'shared', 'corpus');
const samples = join(corpus, 'ebpf-samples');

function objectsUnder(dir, skip) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    if (path === skip) return [];
    return statSync(path).isDirectory() ? objectsUnder(path, skip) : name.endsWith('.o') ? [path] : [];
  });
}

/** The count, in a child process of its own so that its peak RSS is its own. */
async function child() {
  const paths = [...objectsUnder(samples, join(samples, 'invalid')), ...objectsUnder(resolve(repo, 'bpf', 'build', 'bpfel'))];
  let programs = 0;
  let compiled = 0;
  let unlinked = 0;
  let insns = 0;
  let split = 0;
  let regions = 0;
  const interpreted = [];
  const t0 = performance.now();
  for (const path of paths) {
    let obj;
    try {
      obj = readObject(readFileSync(path));
    } catch {
      continue;
    }
    if (!obj.littleEndian) continue;
    const registry = new MapRegistry(new Memory(), 1);
    let maps;
    try {
      maps = createObjectMaps(obj, registry);
    } catch {
      maps = [];
    }
    for (const prog of obj.programs.filter((p) => p.kind === 'entry')) {
      programs++;
      let linked;
      try {
        linked = linkProgram(obj, prog, maps, registry);
      } catch {
        unlinked++;
        continue;
      }
      insns += linked.program.count;
      const { sources } = translate(linked.program);
      if (sources.length > 1) {
        split++;
        regions += sources.length;
      }
      if (sources.every((src) => src.length <= MAX_COMPILED_SOURCE) && typeof compileProgram(linked.program) === 'function') compiled++;
      else interpreted.push(`${relative(corpus, path)} ${prog.name} (${linked.program.count} insns)`);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  return { compiled, programs, unlinked, split, regions, insns, objects: paths.length, interpreted, seconds, maxRssKb: process.resourceUsage().maxRSS };
}

export async function run() {
  const r = JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child'], { encoding: 'utf8', maxBuffer: 1 << 26 }));
  const linked = r.programs - r.unlinked;
  console.log(`compiled: ${r.compiled} of ${linked} corpus entry programs run compiled, ${r.split} of them split into ${r.regions} regions ` +
    `(${r.programs} entry programs in ${r.objects} objects, ${r.unlinked} with maps the emulator cannot create); ` +
    `${r.insns} insns linked and translated in ${r.seconds.toFixed(1)} s, peak RSS ${(r.maxRssKb / 1024).toFixed(1)} MiB`);
  if (r.interpreted.length) console.log(`compiled: interpreted: ${r.interpreted.slice(0, 5).join(', ')}${r.interpreted.length > 5 ? `, ... ${r.interpreted.length - 5} more` : ''}`);
  return { compiled: r.compiled, linked, programs: r.programs, peakRssMiB: r.maxRssKb / 1024 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv[2] === '--child') process.stdout.write(JSON.stringify(await child()));
  else await run();
}
