// `npm run bench`: every benchmark module in this folder, one after another, each printing its
// figures and its ratio against the reference tool measured in the same run.
// `npm run bench -- vm btf` runs only the named ones.
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const modules = readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs')
  .map((f) => f.slice(0, -4))
  .filter((name) => wanted.length === 0 || wanted.includes(name))
  .sort();

for (const name of modules) {
  console.log(`\n=== ${name} ===`);
  const { run } = await import(`./${name}.mjs`);
  await run();
}
