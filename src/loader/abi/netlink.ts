// rtnetlink ABI: constants and struct layouts from include/uapi/linux/netlink.h, rtnetlink.h,
// if_link.h, pkt_sched.h, pkt_cls.h, if_ether.h and the socket constants of <sys/socket.h>
// (include/linux/socket.h in the kernel, include/uapi/asm-generic/socket.h).
import { layout } from './layout.js';

/** Socket API constants (include/linux/socket.h, include/linux/net.h, include/uapi/asm-generic/socket.h). */
export const SOCKET = {
  AF_UNSPEC: 0,
  SOL_SOCKET: 1,
  SO_RCVTIMEO: 20,
  AF_NETLINK: 16,
  SOCK_RAW: 3,
  SOCK_CLOEXEC: 0o2000000,
  SOL_NETLINK: 270,
  MSG_PEEK: 2,
  MSG_TRUNC: 0x20,
} as const;

/** Netlink protocol families and socket options (netlink.h). */
export const NETLINK = {
  NETLINK_ROUTE: 0,
  NETLINK_CAP_ACK: 10,
  NETLINK_EXT_ACK: 11,
  NETLINK_GET_STRICT_CHK: 12,
} as const;

/** nlmsg_flags (netlink.h). NLM_F_ROOT|NLM_F_MATCH make NLM_F_DUMP; the rest overlap by request kind. */
export const NLM_F = {
  NLM_F_REQUEST: 0x01,
  NLM_F_MULTI: 0x02,
  NLM_F_ACK: 0x04,
  NLM_F_ECHO: 0x08,
  NLM_F_DUMP_INTR: 0x10,
  NLM_F_ROOT: 0x100,
  NLM_F_MATCH: 0x200,
  NLM_F_DUMP: 0x300,
  NLM_F_REPLACE: 0x100,
  NLM_F_EXCL: 0x200,
  NLM_F_CREATE: 0x400,
  NLM_F_APPEND: 0x800,
  NLM_F_CAPPED: 0x100,
  NLM_F_ACK_TLVS: 0x200,
} as const;

/** Control message types (netlink.h). */
export const NLMSG = {
  NLMSG_NOOP: 1,
  NLMSG_ERROR: 2,
  NLMSG_DONE: 3,
  NLMSG_OVERRUN: 4,
} as const;

/** NLMSG_ALIGNTO and RTA_ALIGNTO (netlink.h, rtnetlink.h). */
export const NLMSG_ALIGNTO = 4;
export const RTA_ALIGNTO = 4;

/** nla_type flag bits (netlink.h). */
export const NLA_F_NESTED = 1 << 15;
export const NLA_F_NET_BYTEORDER = 1 << 14;
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

/** enum nlmsgerr_attrs (netlink.h): the extended ack TLVs after struct nlmsgerr. */
export const nlmsgerr_attrs = {
  NLMSGERR_ATTR_UNUSED: 0,
  NLMSGERR_ATTR_MSG: 1,
  NLMSGERR_ATTR_OFFS: 2,
  NLMSGERR_ATTR_COOKIE: 3,
  NLMSGERR_ATTR_POLICY: 4,
} as const;

/** rtnetlink message types (rtnetlink.h). */
export const RTM = {
  RTM_NEWLINK: 16,
  RTM_DELLINK: 17,
  RTM_GETLINK: 18,
  RTM_SETLINK: 19,
  RTM_NEWQDISC: 36,
  RTM_DELQDISC: 37,
  RTM_GETQDISC: 38,
  RTM_NEWTFILTER: 44,
  RTM_DELTFILTER: 45,
  RTM_GETTFILTER: 46,
} as const;

/** enum of IFLA_* link attributes (if_link.h), the ones the loader reads or writes. */
export const IFLA = {
  IFLA_UNSPEC: 0,
  IFLA_ADDRESS: 1,
  IFLA_IFNAME: 3,
  IFLA_MTU: 4,
  IFLA_EXT_MASK: 29,
  IFLA_XDP: 43,
} as const;

/** IFLA_XDP_* attributes nested in IFLA_XDP (if_link.h). */
export const IFLA_XDP = {
  IFLA_XDP_UNSPEC: 0,
  IFLA_XDP_FD: 1,
  IFLA_XDP_ATTACHED: 2,
  IFLA_XDP_FLAGS: 3,
  IFLA_XDP_PROG_ID: 4,
  IFLA_XDP_DRV_PROG_ID: 5,
  IFLA_XDP_SKB_PROG_ID: 6,
  IFLA_XDP_HW_PROG_ID: 7,
  IFLA_XDP_EXPECTED_FD: 8,
} as const;

/** XDP_FLAGS_* for IFLA_XDP_FLAGS and XDP links (if_link.h). */
export const XDP_FLAGS = {
  XDP_FLAGS_UPDATE_IF_NOEXIST: 1 << 0,
  XDP_FLAGS_SKB_MODE: 1 << 1,
  XDP_FLAGS_DRV_MODE: 1 << 2,
  XDP_FLAGS_HW_MODE: 1 << 3,
  XDP_FLAGS_REPLACE: 1 << 4,
} as const;

/** Values of IFLA_XDP_ATTACHED (if_link.h). */
export const XDP_ATTACHED = {
  XDP_ATTACHED_NONE: 0,
  XDP_ATTACHED_DRV: 1,
  XDP_ATTACHED_SKB: 2,
  XDP_ATTACHED_HW: 3,
  XDP_ATTACHED_MULTI: 4,
} as const;

/** Traffic-control attributes of a qdisc/filter message (rtnetlink.h). */
export const TCA = {
  TCA_UNSPEC: 0,
  TCA_KIND: 1,
  TCA_OPTIONS: 2,
  TCA_CHAIN: 11,
} as const;

/** cls_bpf options nested in TCA_OPTIONS (pkt_cls.h). */
export const TCA_BPF = {
  TCA_BPF_UNSPEC: 0,
  TCA_BPF_ACT: 1,
  TCA_BPF_POLICE: 2,
  TCA_BPF_CLASSID: 3,
  TCA_BPF_OPS_LEN: 4,
  TCA_BPF_OPS: 5,
  TCA_BPF_FD: 6,
  TCA_BPF_NAME: 7,
  TCA_BPF_FLAGS: 8,
  TCA_BPF_FLAGS_GEN: 9,
  TCA_BPF_TAG: 10,
  TCA_BPF_ID: 11,
} as const;

/** TCA_BPF_FLAGS bits (pkt_cls.h). */
export const TCA_BPF_FLAG_ACT_DIRECT = 1 << 0;

/** Handles and parents (pkt_sched.h). */
export const TC_H = {
  TC_H_MAJ_MASK: 0xffff0000,
  TC_H_MIN_MASK: 0x0000ffff,
  TC_H_UNSPEC: 0,
  TC_H_ROOT: 0xffffffff,
  TC_H_INGRESS: 0xfffffff1,
  TC_H_CLSACT: 0xfffffff1,
  TC_H_MIN_PRIORITY: 0xffe0,
  TC_H_MIN_INGRESS: 0xfff2,
  TC_H_MIN_EGRESS: 0xfff3,
} as const;

/** TC_H_MAKE (pkt_sched.h), as an unsigned 32-bit number. */
export function TC_H_MAKE(maj: number, min: number): number {
  return ((maj & TC_H.TC_H_MAJ_MASK) | (min & TC_H.TC_H_MIN_MASK)) >>> 0;
}

/** ETH_P_ALL (if_ether.h): every protocol; a filter's protocol is in network byte order in tcm_info. */
export const ETH_P_ALL = 0x0003;

/** CLONE_NEWNET (include/uapi/linux/sched.h), for setns(2). */
export const CLONE_NEWNET = 0x40000000;

/** struct timeval as SO_RCVTIMEO takes it on 64-bit architectures (include/uapi/linux/time_types.h __kernel_old_timeval). */
export const TIMEVAL = layout(
  'struct timeval',
  {
    tv_sec: [0, 8],
    tv_usec: [8, 8],
  },
  { size: 16 },
);

export const NLMSGHDR = layout(
  'struct nlmsghdr',
  {
    nlmsg_len: [0, 4],
    nlmsg_type: [4, 2],
    nlmsg_flags: [6, 2],
    nlmsg_seq: [8, 4],
    nlmsg_pid: [12, 4],
  },
  { size: 16 },
);

/** struct nlmsgerr: error, then the header of the request it answers (netlink.h). */
export const NLMSGERR = layout(
  'struct nlmsgerr',
  {
    error: [0, 4],
    msg: [4, 16],
  },
  { size: 20 },
);

export const SOCKADDR_NL = layout(
  'struct sockaddr_nl',
  {
    nl_family: [0, 2],
    nl_pid: [4, 4],
    nl_groups: [8, 4],
  },
  { size: 12 },
);

export const RTATTR = layout(
  'struct rtattr',
  {
    rta_len: [0, 2],
    rta_type: [2, 2],
  },
  { size: 4 },
);

/** struct ifinfomsg (rtnetlink.h). */
export const IFINFOMSG = layout(
  'struct ifinfomsg',
  {
    ifi_family: [0, 1],
    ifi_type: [2, 2],
    ifi_index: [4, 4],
    ifi_flags: [8, 4],
    ifi_change: [12, 4],
  },
  { size: 16 },
);

/** struct tcmsg (rtnetlink.h). */
export const TCMSG = layout(
  'struct tcmsg',
  {
    tcm_family: [0, 1],
    tcm_ifindex: [4, 4],
    tcm_handle: [8, 4],
    tcm_parent: [12, 4],
    tcm_info: [16, 4],
  },
  { size: 20 },
);
