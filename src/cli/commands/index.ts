import type { Command } from '../command.js';
import { btfDump } from './btf.js';
import { conformancePlugin } from './conformance-plugin.js';
import { disasm } from './disasm.js';
import { inspect } from './inspect.js';

export const commands: Command[] = [inspect, disasm, btfDump, conformancePlugin];
