import { UsageError } from '../../errors.js';
import { flag, onePositional, str, type Command } from '../command.js';
import { readInput } from '../files.js';

const formats = ['raw', 'c', 'json'] as const;

export const btfDump: Command = {
  path: ['btf', 'dump'],
  summary: 'Print the BTF of an object or raw BTF file, as `bpftool btf dump file` does',
  usage: 'FILE [--format raw|c|json] [--json] [--base FILE]',
  details: `FILE is a BPF object (its .BTF section) or a raw BTF file such as /sys/kernel/btf/vmlinux.
The raw format is byte-identical to bpftool's; --format c prints the C header bpftool's
\`format c\` prints (vmlinux.h); --json (or --format json) matches \`bpftool -j btf dump file\`.
A kernel module's split BTF needs its base: --base /sys/kernel/btf/vmlinux.`,
  options: {
    format: { type: 'string', valueName: 'FORMAT', description: 'raw (default), c or json' },
    json: { type: 'boolean', description: 'same as --format json' },
    base: { type: 'string', valueName: 'FILE', description: 'base BTF for split BTF (a module over vmlinux)' },
  },
  async run(args, io) {
    const path = onePositional(args, 'BTF file or object', btfDump);
    const format = flag(args, 'json') ? 'json' : (str(args, 'format') ?? 'raw');
    if (!(formats as readonly string[]).includes(format)) {
      throw new UsageError(`unknown --format '${format}'`, { hint: `formats: ${formats.join(', ')}` });
    }
    const basePath = str(args, 'base');
    if (format === 'raw' && basePath === undefined) {
      // The raw dump of a raw BTF file (vmlinux, 12 MB of text) is the case people time against
      // bpftool: it loads only the parser and the raw writer, not the btf layer's index, whose ELF
      // reader and C/JSON printers cost about 17 ms more CPU to load than the whole dump needs.
      const modules = Promise.all([import('../../btf/parse.js'), import('../../btf/dump-raw.js')]);
      // The modules' files are read off the main thread while it reads the input.
      const bytes = readInput(path);
      const [{ isBtf, parseBtf }, { dumpRawBytes }] = await modules;
      const btf = isBtf(bytes) ? parseBtf(bytes) : (await import('../../btf/index.js')).btfFromFile(bytes);
      io.out(dumpRawBytes(btf));
      return 0;
    }
    const { btfFromFile, dumpC, dumpJson, dumpRawBytes } = await import('../../btf/index.js');
    const base = basePath === undefined ? undefined : btfFromFile(readInput(basePath));
    const btf = btfFromFile(readInput(path), base ? { base } : {});
    io.out(format === 'json' ? dumpJson(btf) : format === 'c' ? dumpC(btf) : dumpRawBytes(btf));
    return 0;
  },
};
