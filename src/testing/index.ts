// bpfts/testing: packets, fast-check arbitraries and capture files for property-testing BPF programs.
export * from './packet/index.js';
export * from './arbitraries.js';
export { HexError, PacketError, PcapError } from './errors.js';
export { formatHex, parseHex, parseHexPackets } from './hex.js';
export { isCapture, readCapture, readPcap, readPcapng, writePcap } from './pcap.js';
export type { CapturedPacket, CaptureFile, PacketToWrite, WritePcapOptions } from './pcap.js';
export { readPacketsFile } from './packets-file.js';
export { resolveSourcePath, writeCoverage, type WriteCoverageOptions } from './coverage-files.js';
