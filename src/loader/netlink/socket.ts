// An rtnetlink socket: requests with acknowledgements, dumps, and extended-ack error messages.
import { BpfError } from '../../errors.js';
import { NETLINK, NLMSG, NLMSGERR, NLMSGHDR, NLM_F, RTM, SOCKADDR_NL, SOCKET, TIMEVAL, nlmsgerr_attrs } from '../abi/netlink.js';
import { StructView } from '../abi/layout.js';
import { errnoName } from '../../uapi/index.js';
import { SyscallError } from '../sys/errors.js';
import { faults } from '../sys/faults.js';
import { Fd } from '../sys/fd.js';
import { lastErrno, libc } from '../sys/libc.js';
import { align, attrStr, encodeMessage, parseAttrs, parseMessages, type NlMessage } from './message.js';
import { inNetns } from './netns.js';

/** A request the kernel refused; `extAck` is the kernel's own message when it sent one. */
export class NetlinkError extends SyscallError {
  constructor(
    operation: string,
    errno: number,
    explanation: string,
    readonly extAck?: string,
    hint?: string,
  ) {
    super(operation, errno, extAck ? `kernel says "${extAck}": ${explanation}` : explanation, { hint });
  }
}

/** Replies wait at most this long, so a lost reply cannot hang the process. */
const RECV_TIMEOUT_SECONDS = 10;
const RECV_BUFFER = 64 * 1024;

function check(what: string, r: number, explanation: string): number {
  if (r < 0) throw new SyscallError(what, lastErrno(), explanation);
  return r;
}

function intOption(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
}

/** Describes a failure: `explain` may add a cause for this operation; the ext-ack is kept verbatim. */
export type Explain = (errno: number, extAck: string | undefined) => { explanation: string; hint?: string };

export class NetlinkSocket {
  private seq = Math.floor(Date.now() / 1000) & 0xffff;

  private constructor(private readonly fd: Fd) {}

  /** Opens a NETLINK_ROUTE socket with extended acks, in the caller's namespace or in `netns`. */
  static open(opts: { netns?: string } = {}): NetlinkSocket {
    return opts.netns === undefined ? NetlinkSocket.openHere() : inNetns(opts.netns, () => NetlinkSocket.openHere());
  }

  private static openHere(): NetlinkSocket {
    const c = libc();
    const fd = new Fd(
      check('socket', c.socket(SOCKET.AF_NETLINK, SOCKET.SOCK_RAW | SOCKET.SOCK_CLOEXEC, NETLINK.NETLINK_ROUTE),
        'cannot create an AF_NETLINK socket'),
      'netlink socket',
    );
    try {
      const one = intOption(1);
      check('setsockopt', c.setsockopt(fd.value, SOCKET.SOL_NETLINK, NETLINK.NETLINK_EXT_ACK, one, 4), 'cannot enable NETLINK_EXT_ACK');
      check('setsockopt', c.setsockopt(fd.value, SOCKET.SOL_NETLINK, NETLINK.NETLINK_CAP_ACK, one, 4), 'cannot enable NETLINK_CAP_ACK');
      const timeout = new StructView(TIMEVAL, new Uint8Array(TIMEVAL.size)).set('tv_sec', RECV_TIMEOUT_SECONDS);
      check('setsockopt', c.setsockopt(fd.value, SOCKET.SOL_SOCKET, SOCKET.SO_RCVTIMEO, timeout.bytes, TIMEVAL.size), 'cannot set SO_RCVTIMEO');
      const addr = new StructView(SOCKADDR_NL, new Uint8Array(SOCKADDR_NL.size)).set('nl_family', SOCKET.AF_NETLINK);
      check('bind', c.bind(fd.value, addr.bytes, SOCKADDR_NL.size), 'cannot bind the netlink socket');
      return new NetlinkSocket(fd);
    } catch (e) {
      fd.close();
      throw e;
    }
  }

  close(): void {
    this.fd.close();
  }

  /**
   * Sends one request and collects its replies: for a dump (NLM_F_DUMP) every message up to
   * NLMSG_DONE, otherwise the replies before the acknowledgement. A negative ack throws NetlinkError.
   */
  request(operation: string, type: number, flags: number, header: Uint8Array, attrs: Uint8Array | undefined, explain: Explain): NlMessage[] {
    if (faults) {
      const injected = faults.enter(Object.keys(RTM).find((k) => RTM[k as keyof typeof RTM] === type) ?? `netlink message type ${type}`);
      if (injected) {
        const { explanation, hint } = explain(injected, undefined);
        throw new NetlinkError(operation, injected, explanation, undefined, hint);
      }
    }
    try {
      const replies = this.exchange(operation, type, flags, header, attrs, explain);
      faults?.leave(0);
      return replies;
    } catch (e) {
      faults?.leave(e instanceof SyscallError ? -e.errno : -1);
      throw e;
    }
  }

  private exchange(operation: string, type: number, flags: number, header: Uint8Array, attrs: Uint8Array | undefined, explain: Explain): NlMessage[] {
    const seq = (this.seq = (this.seq + 1) >>> 0);
    const dump = (flags & NLM_F.NLM_F_DUMP) === NLM_F.NLM_F_DUMP;
    const msg = encodeMessage(type, flags | NLM_F.NLM_F_REQUEST | (dump ? 0 : NLM_F.NLM_F_ACK), seq, header, attrs);
    const kernel = new StructView(SOCKADDR_NL, new Uint8Array(SOCKADDR_NL.size)).set('nl_family', SOCKET.AF_NETLINK);
    const c = libc();
    check('sendto', c.sendto(this.fd.value, msg, msg.length, 0, kernel.bytes, SOCKADDR_NL.size), `cannot send ${operation}`);
    const replies: NlMessage[] = [];
    for (;;) {
      for (const m of this.receive(operation)) {
        if (m.seq !== seq) continue;
        if (m.type === NLMSG.NLMSG_ERROR) {
          const { error, extAck } = parseError(m);
          if (error === 0) return replies;
          const { explanation, hint } = explain(-error, extAck);
          throw new NetlinkError(operation, -error, explanation, extAck, hint);
        }
        if (m.type === NLMSG.NLMSG_DONE) {
          // A dump that fails part-way ends with NLMSG_DONE carrying the negative errno.
          const error = m.payload.length >= 4 ? new DataView(m.payload.buffer, m.payload.byteOffset).getInt32(0, true) : 0;
          if (error < 0) {
            const { explanation, hint } = explain(-error, undefined);
            throw new NetlinkError(operation, -error, explanation, undefined, hint);
          }
          return replies;
        }
        if (m.type === NLMSG.NLMSG_NOOP) continue;
        replies.push(m);
      }
    }
  }

  /** One datagram, sized first with MSG_PEEK|MSG_TRUNC so nothing is cut off. */
  private receive(operation: string): NlMessage[] {
    const c = libc();
    let buf = new Uint8Array(RECV_BUFFER);
    const size = c.recv(this.fd.value, buf, buf.length, SOCKET.MSG_PEEK | SOCKET.MSG_TRUNC);
    if (size < 0) {
      const errno = lastErrno();
      throw new SyscallError('recv', errno, errnoName(errno) === 'EAGAIN'
        ? `no reply to ${operation} within ${RECV_TIMEOUT_SECONDS}s`
        : `cannot read the reply to ${operation}`);
    }
    if (size > buf.length) buf = new Uint8Array(size);
    const n = check('recv', c.recv(this.fd.value, buf, buf.length, 0), `cannot read the reply to ${operation}`);
    return parseMessages(buf.subarray(0, n));
  }
}

/** The error code and extended-ack message of an NLMSG_ERROR reply. */
function parseError(m: NlMessage): { error: number; extAck?: string } {
  if (m.payload.length < NLMSGERR.size) throw new BpfError('truncated netlink error message');
  const err = new StructView(NLMSGERR, m.payload);
  const error = err.s32('error');
  if (!(m.flags & NLM_F.NLM_F_ACK_TLVS)) return { error };
  // Without NLM_F_CAPPED the kernel echoes the whole request before the TLVs.
  const echoed = m.flags & NLM_F.NLM_F_CAPPED ? 0 : new StructView(NLMSGHDR, m.payload, 4).num('nlmsg_len') - NLMSGHDR.size;
  const tlvs = m.payload.subarray(Math.min(m.payload.length, NLMSGERR.size + align(Math.max(0, echoed))));
  const msg = parseAttrs(tlvs).get(nlmsgerr_attrs.NLMSGERR_ATTR_MSG);
  return msg ? { error, extAck: attrStr(msg) } : { error };
}

/** Opens an rtnetlink socket, inside the network namespace at `netns` when given (e.g. /var/run/netns/NAME). */
export function openNetlink(opts: { netns?: string } = {}): NetlinkSocket {
  return NetlinkSocket.open(opts);
}

/** Runs `fn` with an rtnetlink socket opened inside `netns` (or here) and closes the socket afterwards. */
export function withNetlink<T>(netns: string | undefined, fn: (nl: NetlinkSocket) => T): T {
  const nl = openNetlink(netns === undefined ? {} : { netns });
  try {
    return fn(nl);
  } finally {
    nl.close();
  }
}
