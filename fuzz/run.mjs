// `npm run fuzz -- [--iterations N] [--seed S] [--layer L] [--only I] [--corpus DIR] [--max-size BYTES]`
//
// Mutates the corpus objects (BPFTS_CORPUS or ../shared/corpus, plus bpf/build) and pushes them
// through every offline layer over dist/ (run `npm run build` first). The campaign runs in a worker
// so that a hang inside a layer, which no in-thread timer can interrupt, is caught here and reported
// with the iteration that caused it. Exit status 1 when any input failed.
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { emptyStats, findObjects, formatStats, LAYERS, prepareSeeds, runIteration } from './campaign.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
/** A worker silent for this long is stuck in one input. */
const HANG_MS = 30_000;
/**
 * Seed objects up to this size by default. The next one up, ovs/datapath.o (58 KB, 19 programs),
 * spends about a second in the offline verifier once mutated on a loaded 2-core machine: every
 * input of it would be a time failure that says nothing about the layers' bounds.
 */
const DEFAULT_MAX_SIZE = 50_000;
/** Seeds whose unmutated pass takes more than this share of the per-input time limit are left out. */
const CALIBRATE_SHARE = 0.25;

if (isMainThread) await main();
else work(workerData);

async function main() {
  const { values } = parseArgs({
    options: {
      iterations: { type: 'string', default: '10000' },
      seed: { type: 'string', default: '1' },
      layer: { type: 'string' },
      only: { type: 'string' },
      corpus: { type: 'string' },
      'max-size': { type: 'string', default: String(DEFAULT_MAX_SIZE) },
      'time-limit': { type: 'string', default: '1000' },
      write: { type: 'string' },
    },
  });
  if (values.layer !== undefined && !LAYERS.includes(values.layer)) {
    console.error(`unknown layer '${values.layer}'; layers: ${LAYERS.join(', ')}`);
    process.exit(2);
  }
  const corpus = values.corpus ?? process.env.BPFTS_CORPUS ?? resolve(root, '..', 'shared', 'corpus');
  const dirs = [join(corpus, 'ebpf-samples'), join(root, 'bpf', 'build')];
  if (!existsSync(dirs[0])) console.error(`*** no corpus at ${corpus}: fuzzing bpf/build objects only ***`);
  const iterations = Number(values.iterations);
  const seed = Number(values.seed);
  const first = values.only === undefined ? 0 : Number(values.only);
  const count = values.only === undefined ? iterations : 1;
  console.log(`fuzz: seed ${seed}, iterations ${first}..${first + count - 1}${values.layer ? `, layer ${values.layer}` : ''}`);

  const started = Date.now();
  const worker = new Worker(fileURLToPath(import.meta.url), {
    workerData: { dirs, maxSize: Number(values['max-size']), seed, first, count, want: values.layer, timeLimitMs: Number(values['time-limit']), write: values.write },
  });
  let current = -1;
  let last = Date.now();
  let stats;
  const watchdog = setInterval(() => {
    if (Date.now() - last > HANG_MS) {
      console.log(`FAIL hang: seed ${seed} iteration ${current} gave no answer in ${HANG_MS / 1000} s (replay: npm run fuzz -- --seed ${seed} --only ${current})`);
      process.exitCode = 1;
      clearInterval(watchdog);
      void worker.terminate();
    }
  }, 1000);
  worker.on('message', (m) => {
    last = Date.now();
    if (m.type === 'start') current = m.iteration;
    else if (m.type === 'seeds') {
      console.log(`seeds: ${m.objects} objects, ${m.fields} mutable fields`);
      if (m.slow.length) console.log(`left out, slower than ${CALIBRATE_SHARE * 100}% of the time limit unmutated: ${m.slow.join(', ')}`);
    }
    else if (m.type === 'failure') {
      const f = m.failure;
      console.log(`FAIL ${f.layer}: seed ${f.seed} iteration ${f.iteration} (replay: npm run fuzz -- --seed ${f.seed} --only ${f.iteration}${values.layer ? ` --layer ${values.layer}` : ''})\n  input: ${f.input}\n  ${f.error.split('\n').slice(0, 8).join('\n  ')}`);
    } else if (m.type === 'progress') console.log(`  ${m.done} iterations, ${m.failures} failures`);
    else if (m.type === 'done') stats = m.stats;
  });
  await new Promise((resolveExit) => worker.on('exit', resolveExit));
  clearInterval(watchdog);
  if (stats) {
    for (const line of formatStats(stats, (Date.now() - started) / 1000)) console.log(line);
    if (stats.failures.length) process.exitCode = 1;
  } else process.exitCode = 1;
}

function work({ dirs, maxSize, seed, first, count, want, timeLimitMs, write }) {
  const seeds = prepareSeeds(findObjects(dirs, maxSize), timeLimitMs * CALIBRATE_SHARE);
  parentPort.postMessage({
    type: 'seeds', objects: seeds.objects.length, fields: seeds.objects.reduce((n, o) => n + o.layout.fields.length, 0),
    slow: seeds.slow.map((s) => `${s.path.replace(/.*\/(ebpf-samples|bpf\/build)\//, '')} (${s.ms.toFixed(0)} ms)`),
  });
  const stats = emptyStats();
  for (let i = first; i < first + count; i++) {
    parentPort.postMessage({ type: 'start', iteration: i });
    const failure = runIteration(stats, seeds, seed, i, { want, timeLimitMs });
    if (failure) parentPort.postMessage({ type: 'failure', failure });
    if ((i - first + 1) % 5000 === 0) parentPort.postMessage({ type: 'progress', done: i - first + 1, failures: stats.failures.length });
  }
  // --only I --write FILE keeps the mutated object of iteration I, for a regression test.
  if (write !== undefined && stats.lastInput) writeFileSync(write, stats.lastInput);
  delete stats.lastInput;
  parentPort.postMessage({ type: 'done', stats });
}
