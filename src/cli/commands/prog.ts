import { UsageError } from '../../errors.js';
import { kernelPrograms, progTypeName } from '../../loader/raw.js';
import { flag, type Command } from '../command.js';
import { json, table } from '../format.js';
import { requirePrivilege } from './load.js';

export const progList: Command = {
  path: ['prog', 'list'],
  summary: 'List the BPF programs loaded in the kernel (like bpftool prog list)',
  usage: '[--json]',
  options: { json: { type: 'boolean', description: 'print JSON' } },
  run(args, io) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
    requirePrivilege('bpfts prog list');
    const list = kernelPrograms().map((p) => ({
      id: p.id, type: progTypeName(p.type), name: p.name, tag: p.tag, jited: p.jitedProgLen > 0,
      bytesXlated: p.xlatedProgLen, bytesJited: p.jitedProgLen, mapIds: p.mapIds, btfId: p.btfId, uid: p.createdByUid,
    }));
    if (flag(args, 'json')) {
      io.out(json(list));
      return 0;
    }
    io.out(table(['ID', 'TYPE', 'NAME', 'TAG', 'XLATED', 'JITED', 'MAPS'],
      list.map((p) => [p.id, p.type, p.name, p.tag, p.bytesXlated, p.bytesJited, p.mapIds.join(',')])));
    return 0;
  },
};
