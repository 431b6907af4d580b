// Explanations of rtnetlink failures. The kernel's extended-ack string is always kept verbatim
// (NetlinkError.extAck); these sentences say what it most likely means for the request made.
import { errnoName } from '../../uapi/index.js';
import type { Explain } from './socket.js';

/** Known extended-ack messages whose meaning is not obvious from the words themselves. */
const EXT_ACK_MEANING: Record<string, { explanation: string; hint?: string }> = {
  'TC classifier not found': {
    explanation: 'this kernel lacks the cls_bpf classifier (CONFIG_NET_CLS_BPF, module cls_bpf); this is not about the program\'s section name',
    hint: 'load the module (modprobe cls_bpf) or use a kernel built with CONFIG_NET_CLS_BPF',
  },
  'Parent Qdisc doesn\'t exists': {
    explanation: 'the device has no clsact qdisc to hold the filter',
    hint: 'add the clsact qdisc first',
  },
};

const COMMON: Record<string, string> = {
  EPERM: 'changing network configuration needs CAP_NET_ADMIN (run as root)',
  ENODEV: 'no such network device in this network namespace',
  EOPNOTSUPP: 'the device or kernel does not support this operation',
  EINVAL: 'the kernel rejected an argument of the request',
  ENOENT: 'the object to change does not exist',
  EEXIST: 'the object already exists',
  EBUSY: 'the attachment point is in use',
};

/** An Explain for one kind of request: `specific` overrides the common text per errno name. */
export function explainer(specific: Partial<Record<string, string>> = {}, hint?: Partial<Record<string, string>>): Explain {
  return (errno, extAck) => {
    if (extAck && EXT_ACK_MEANING[extAck]) return EXT_ACK_MEANING[extAck];
    const name = errnoName(errno);
    const explanation = specific[name] ?? COMMON[name] ?? 'the kernel refused the request';
    const h = hint?.[name];
    return h === undefined ? { explanation } : { explanation, hint: h };
  };
}
