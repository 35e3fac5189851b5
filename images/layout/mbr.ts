// The MBR partition table, written byte by byte: a sunxi card needs MBR (the boot ROM reads the SPL at 8 KiB,
// where a GPT's entries would sit), and writing the 512 bytes ourselves keeps them exact and testable.

export const SECTOR = 512;

export interface MbrPartition {
  /** First sector (LBA) and length in sectors. */
  start: number;
  sectors: number;
  /** 0x0c FAT32 (LBA), 0x83 Linux. */
  type: number;
  bootable: boolean;
}

export interface Mbr {
  /** The disk signature; Linux names partitions by it (PARTUUID=<signature>-<nn>). */
  signature: number;
  partitions: MbrPartition[];
}

/** CHS address for an LBA with the usual 255 heads / 63 sectors geometry; past cylinder 1023 the marker FE FF FF. */
export function chs(lba: number): [number, number, number] {
  const heads = 255;
  const sectorsPerTrack = 63;
  const cylinder = Math.floor(lba / (heads * sectorsPerTrack));
  if (cylinder > 1023) return [0xfe, 0xff, 0xff];
  const head = Math.floor(lba / sectorsPerTrack) % heads;
  const sector = (lba % sectorsPerTrack) + 1;
  return [head, ((cylinder >> 2) & 0xc0) | sector, cylinder & 0xff];
}

/** The 512-byte sector 0: empty boot code, disk signature, up to four primary entries, 55 AA. */
export function encodeMbr(mbr: Mbr): Buffer {
  if (mbr.partitions.length > 4) throw new Error('an MBR holds at most 4 primary partitions');
  const b = Buffer.alloc(SECTOR);
  b.writeUInt32LE(mbr.signature >>> 0, 440);
  mbr.partitions.forEach((p, i) => {
    if (p.start < 1 || p.sectors < 1 || p.start + p.sectors > 0xffffffff)
      throw new Error(`partition ${i + 1}: start ${p.start} / length ${p.sectors} sectors out of range`);
    const o = 446 + 16 * i;
    b[o] = p.bootable ? 0x80 : 0x00;
    Buffer.from(chs(p.start)).copy(b, o + 1);
    b[o + 4] = p.type;
    Buffer.from(chs(p.start + p.sectors - 1)).copy(b, o + 5);
    b.writeUInt32LE(p.start, o + 8);
    b.writeUInt32LE(p.sectors, o + 12);
  });
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

/** Reads sector 0 back; a missing 55 AA or overlapping entries are refused with a one-line reason. */
export function decodeMbr(sector0: Buffer): Mbr {
  if (sector0.length < SECTOR || sector0[510] !== 0x55 || sector0[511] !== 0xaa)
    throw new Error('no MBR partition table (sector 0 does not end in 55 AA)');
  const partitions: MbrPartition[] = [];
  for (let i = 0; i < 4; i++) {
    const o = 446 + 16 * i;
    const type = sector0[o + 4]!;
    const sectors = sector0.readUInt32LE(o + 12);
    if (type === 0 || sectors === 0) continue;
    partitions.push({ start: sector0.readUInt32LE(o + 8), sectors, type, bootable: sector0[o] === 0x80 });
  }
  const sorted = [...partitions].sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.start < sorted[i - 1]!.start + sorted[i - 1]!.sectors)
      throw new Error('MBR partitions overlap');
  }
  return { signature: sector0.readUInt32LE(440), partitions };
}

export function partitionTypeName(type: number): string {
  const names: Record<number, string> = {
    0x0b: 'FAT32',
    0x0c: 'FAT32 (LBA)',
    0x0e: 'FAT16 (LBA)',
    0x83: 'Linux',
  };
  return names[type] ?? `type 0x${type.toString(16).padStart(2, '0')}`;
}
