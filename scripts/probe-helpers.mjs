#!/usr/bin/env node
// Regenerates src/doctor/helper-data.ts by asking the running kernel which helpers each program type
// may call and which are GPL-only (src/loader/probe/helpers.ts). Run as root after `npm run build`:
//   node scripts/probe-helpers.mjs [--check]
// With --check it writes nothing and exits 1 when the committed file differs from the kernel's answer.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'loader', 'raw.js');
if (!existsSync(built)) {
  console.error('probe-helpers: dist/ is missing; run `npm run build` first');
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error('probe-helpers: needs root (BPF_PROG_LOAD of every program type)');
  process.exit(2);
}
const { probeHelpers, formatHelperData } = await import(built);
const data = probeHelpers();
const text = formatHelperData(data);
const target = join(root, 'src', 'doctor', 'helper-data.ts');
if (process.argv.includes('--check')) {
  const same = existsSync(target) && readFileSync(target, 'utf8') === text;
  console.log(same ? `${target} matches Linux ${data.kernel}` : `${target} differs from what Linux ${data.kernel} answers`);
  process.exit(same ? 0 : 1);
}
writeFileSync(target, text);
const counts = Object.entries(data.progTypes).map(([t, v]) => `${t.replace('BPF_PROG_TYPE_', '').toLowerCase()} ${v.helpers.length}`);
console.log(`wrote ${target} for Linux ${data.kernel}: helper ids 1..${data.funcMaxId - 1}; ${counts.join(', ')}; ${data.gplOnly.length} GPL-only`);
