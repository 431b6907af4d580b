// Context structures and the packet-program constants of the emulator's test-run model. Offsets are
// those of include/uapi/linux/bpf.h (struct __sk_buff, struct xdp_md); the other constants name their
// header. Return codes, helper flags and errno values are src/uapi's.

/** struct __sk_buff (include/uapi/linux/bpf.h): byte offset and size of every field. */
export const SK_BUFF = {
  len: [0, 4],
  pkt_type: [4, 4],
  mark: [8, 4],
  queue_mapping: [12, 4],
  protocol: [16, 4],
  vlan_present: [20, 4],
  vlan_tci: [24, 4],
  vlan_proto: [28, 4],
  priority: [32, 4],
  ingress_ifindex: [36, 4],
  ifindex: [40, 4],
  tc_index: [44, 4],
  cb: [48, 20],
  hash: [68, 4],
  tc_classid: [72, 4],
  data: [76, 4],
  data_end: [80, 4],
  napi_id: [84, 4],
  family: [88, 4],
  remote_ip4: [92, 4],
  local_ip4: [96, 4],
  remote_ip6: [100, 16],
  local_ip6: [116, 16],
  remote_port: [132, 4],
  local_port: [136, 4],
  data_meta: [140, 4],
  flow_keys: [144, 8],
  tstamp: [152, 8],
  wire_len: [160, 4],
  gso_segs: [164, 4],
  sk: [168, 8],
  gso_size: [176, 4],
  tstamp_type: [180, 1],
  hwtstamp: [184, 8],
} as const satisfies Record<string, readonly [number, number]>;
export type SkBuffField = keyof typeof SK_BUFF;
/** sizeof(struct __sk_buff). */
export const SK_BUFF_SIZE = 192;

/** struct xdp_md (include/uapi/linux/bpf.h). */
export const XDP_MD = {
  data: [0, 4],
  data_end: [4, 4],
  data_meta: [8, 4],
  ingress_ifindex: [12, 4],
  rx_queue_index: [16, 4],
  egress_ifindex: [20, 4],
} as const satisfies Record<string, readonly [number, number]>;
export type XdpMdField = keyof typeof XDP_MD;
export const XDP_MD_SIZE = 24;

/**
 * sizeof(struct xdp_frame) on 64-bit (include/net/xdp.h): the start of the headroom that
 * bpf_xdp_adjust_head/meta may not move into.
 */
export const XDP_FRAME_SIZE = 40;
/**
 * The test run's XDP buffer: one page, of which SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) (320
 * bytes on x86-64, include/linux/skbuff.h) at the end is tailroom bpf_xdp_adjust_tail cannot grow into.
 */
export const XDP_FRAME_BYTES = 4096;
export const XDP_TAILROOM = 320;
/**
 * xdp_metalen_invalid() (include/net/xdp.h): metadata is a multiple of 4 and fits the u8
 * skb_shared_info.meta_len.
 */
export const XDP_META_MAX = 255;

/** Headroom BPF_PROG_TEST_RUN reserves before an skb's data: NET_SKB_PAD (64) + NET_IP_ALIGN (0, x86). */
export const SKB_HEADROOM = 64;
/** __bpf_skb_max_len() for the loopback device: mtu 65536 + hard_header_len 14 (drivers/net/loopback.c). */
export const SKB_MAX_LEN = 65536 + 14;

/** include/uapi/linux/if_ether.h */
export const ETH_HLEN = 14;
export const ETH_ALEN = 6;
export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
export const ETH_P_8021Q = 0x8100;
export const ETH_P_8021AD = 0x88a8;
export const ETH_P_802_3 = 0x0001;
export const ETH_P_802_2 = 0x0004;
export const ETH_P_802_3_MIN = 0x0600;
/** sizeof(struct iphdr) / sizeof(struct ipv6hdr): shorter frames of those protocols are refused by the test run. */
export const IPV4_HLEN = 20;
export const IPV6_HLEN = 40;
export const VLAN_HLEN = 4;

/** skb->pkt_type (include/uapi/linux/if_packet.h). */
export const PACKET_HOST = 0;
export const PACKET_BROADCAST = 1;
export const PACKET_MULTICAST = 2;
export const PACKET_OTHERHOST = 3;

/** CSUM_MANGLED_0 (include/net/checksum.h): a checksum that folded to 0 written as 0xffff. */
export const CSUM_MANGLED_0 = 0xffff;
