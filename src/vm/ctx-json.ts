// Context field values written as JSON, for `bpfts run --ctx JSON`: an object of __sk_buff or
// xdp_md field names to integers, and `cb` to an array of up to five u32 words. Only the shape is
// checked here; which names the program's context has is the context's to say when it is set.
import { EmulatorError } from './object.js';
import type { ContextOverrides } from './emulator.js';

const CB_WORDS = 5;

function bad(why: string): EmulatorError {
  return new EmulatorError(`--ctx: ${why}`, { hint: 'an object of field names to integers, e.g. {"mark": 5, "cb": [1, 2, 3, 4, 5]}' });
}

export function parseContextJson(text: string): ContextOverrides {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw bad(`not JSON: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('not an object');
  // No prototype, so that a "__proto__" key is a field name the context rejects like any unknown one.
  const out: Record<string, number | number[]> = Object.create(null) as Record<string, number | number[]>;
  for (const [name, value] of Object.entries(v)) {
    if (name === 'cb') {
      if (!Array.isArray(value) || value.length > CB_WORDS || !value.every((w) => Number.isInteger(w))) {
        throw bad(`cb is an array of at most ${CB_WORDS} integers`);
      }
      out.cb = value as number[];
    } else if (Number.isInteger(value)) out[name] = value as number;
    else throw bad(`field '${name}' is ${JSON.stringify(value)}, not an integer`);
  }
  return out as ContextOverrides;
}
