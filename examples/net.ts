// Small helpers the examples share: command-line options, and addresses as the BPF programs store
// them (network byte order; the codec takes raw bytes for any member).
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

/** One of the repository's compiled BPF objects (bpf/build/bpfel), from examples/build/. */
export function object(name: string): string {
  return fileURLToPath(new URL(`../../bpf/build/bpfel/${name}`, import.meta.url));
}

export function options<T extends Record<string, { type: 'string' }>>(spec: T, usage: string) {
  const { values, positionals } = parseArgs({ options: spec, allowPositionals: true });
  if (positionals.length !== 1) {
    console.error(`usage: ${usage}`);
    process.exit(2);
  }
  return { dev: positionals[0]!, ...values };
}

/** "10.0.0.1:80" as an address and a port in network byte order. */
export function endpoint(text: string): { addr: Uint8Array; port: Uint8Array } {
  const [ip, port] = text.split(':');
  return { addr: Uint8Array.from(ip!.split('.').map(Number)), port: Uint8Array.of(Number(port) >> 8, Number(port) & 0xff) };
}

/** A u32 read from network-order bytes on a little-endian host, back to dotted form. */
export function ip(addr: number): string {
  return [0, 8, 16, 24].map((s) => (addr >>> s) & 0xff).join('.');
}

/** A u16 read from network-order bytes on a little-endian host, back to a port number. */
export function port(p: number): number {
  return ((p & 0xff) << 8) | (p >> 8);
}

export function every(seconds: number, fn: () => void): void {
  fn();
  setInterval(fn, seconds * 1000);
}
