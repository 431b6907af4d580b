import { writeFileSync } from 'node:fs';
import { UsageError } from '../../errors.js';
import { generateTypes, readObject } from '../../object/index.js';
import { onePositional, str, type Command } from '../command.js';
import { readInput } from '../files.js';

export const genTypes: Command = {
  path: ['gen', 'types'],
  summary: "Write TypeScript types for an object's maps, globals and programs, from its BTF",
  usage: 'OBJ -o FILE.ts [--type NAME ...]',
  details: `
FILE.ts has an interface per C struct, union and enum the maps and global sections use (in the BTF
codec's conventions: 64-bit integers as bigint, enums by name, char arrays as strings), the map and
program names as types, typed(coll) to give a bpfts/loader Collection those types, and codecs(bytes)
with a codec per type. --type adds a type by C name (ring buffer or perf event records).`,
  options: {
    out: { type: 'string', short: 'o', valueName: 'FILE', description: 'where to write the TypeScript' },
    type: { type: 'string', multiple: true, valueName: 'NAME', description: 'also generate C type NAME' },
  },
  run(args, io) {
    const path = onePositional(args, 'object', genTypes);
    const out = str(args, 'out');
    if (out === undefined) throw new UsageError('-o FILE.ts is required');
    const types = args.values.type;
    const list = types === undefined ? [] : Array.isArray(types) ? types.map(String) : [String(types)];
    const text = generateTypes(readObject(readInput(path)), { types: list, command: `bpfts gen types ${[path, ...list.flatMap((t) => ['--type', t])].join(' ')}` });
    writeFileSync(out, text);
    io.out(`wrote ${out}\n`);
    return 0;
  },
};
