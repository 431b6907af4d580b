import { UsageError } from '../../errors.js';
import { TracePipeReader } from '../../loader/raw.js';
import { intOption, str, type Command } from '../command.js';
import { requirePrivilege } from './load.js';

export const traceLog: Command = {
  path: ['trace-log'],
  summary: 'Print bpf_printk output as it arrives (tracefs trace_pipe), like bpftool prog tracelog',
  usage: '[--count N] [--duration SECONDS]',
  details: `
Reads /sys/kernel/tracing/trace_pipe (mounting tracefs there when it is not mounted) and prints
each line, until Ctrl-C, SIGTERM, --count N lines or --duration SECONDS. Reading the pipe consumes
its lines: another reader (bpftool prog tracelog, cat trace_pipe) running at the same time gets the
others.`,
  options: {
    count: { type: 'string', valueName: 'N', description: 'stop after N lines' },
    duration: { type: 'string', valueName: 'SECONDS', description: 'stop after SECONDS seconds' },
  },
  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
    const count = intOption(args, 'count');
    const durationText = str(args, 'duration');
    const duration = durationText === undefined ? undefined : Number(durationText);
    if (duration !== undefined && !(duration > 0)) throw new UsageError(`--duration wants a positive number of seconds, got '${durationText}'`);
    requirePrivilege('bpfts trace-log');
    const reader = TracePipeReader.open();
    const stop = () => reader.close();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const timer = duration === undefined ? undefined : setTimeout(stop, duration * 1000);
    try {
      let n = 0;
      if (count === 0) return 0;
      for await (const line of reader) {
        io.out(`${line}\n`);
        if (count !== undefined && ++n >= count) break;
      }
      return 0;
    } finally {
      clearTimeout(timer);
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      reader.close();
    }
  },
};
