// Property tests draw new inputs on every run, unless BPFTS_SEED is set (.ci/run sets it): then every
// fast-check property starts from that seed, so that a verdict does not depend on the draw and a
// failure anyone sees can be replayed with the same BPFTS_SEED.
import fc from 'fast-check';

const seed = process.env.BPFTS_SEED;
if (seed !== undefined) fc.configureGlobal({ seed: Number(seed) });
