// The packets of a `--packets FILE`: a pcap/pcapng capture of Ethernet frames, or hex text with one frame per line.
import { PcapError } from './errors.js';
import { parseHexPackets } from './hex.js';
import { LINKTYPE_ETHERNET } from './packet/constants.js';
import { isCapture, readCapture } from './pcap.js';

/** Frames from a capture file (Ethernet link type only) or from hex text. Throws PcapError or HexError. */
export function readPacketsFile(content: Uint8Array): Uint8Array[] {
  if (isCapture(content)) {
    const capture = readCapture(content);
    const other = capture.packets.find((p) => p.linkType !== LINKTYPE_ETHERNET);
    if (other) {
      throw new PcapError(`capture has link type ${other.linkType}; only Ethernet (${LINKTYPE_ETHERNET}) frames can be run`);
    }
    return capture.packets.map((p) => p.data);
  }
  return parseHexPackets(new TextDecoder().decode(content));
}
