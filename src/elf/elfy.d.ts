// Types for the parts of the untyped `elfy` package that bpfts uses.
declare module 'elfy' {
  interface ElfySection {
    name: string;
    type: string | number;
    off: number;
    size: number;
    link: number;
    info: number;
    data: Buffer;
  }
  interface ElfyFile {
    class: string;
    endian: 'lsb' | 'msb';
    machine: string | undefined;
    shoff: number;
    shnum: number;
    shentsize: number;
    shstrndx: number;
    body: { sections: ElfySection[] };
  }
  const elfy: { parse(buf: Buffer): ElfyFile };
  export default elfy;
}
