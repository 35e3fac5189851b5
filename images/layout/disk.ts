// Puts the pieces of a card together in one file: MBR, bootloader at its offset, the boot partition, two root
// slots (an update writes the one not running) and the data partition that outlives both.
import { open } from 'node:fs/promises';
import { encodeMbr, SECTOR, type Mbr } from './mbr.js';

const MIB = 1024 * 1024;
export const SUNXI_MAGIC = 'eGON.BT0';

export interface DiskPlan {
  mbr: Mbr;
  totalBytes: number;
  bootStart: number;
  /** Root slot A (partition 2), the one the image starts from. */
  rootStart: number;
  /** Root slot B (partition 3), empty until the first update. */
  slotBStart: number;
  slotBytes: number;
  /** The data partition (4): identity, keys, passwords, ledger and supervisor state. */
  dataStart: number;
}

/** The partition numbers of the root slots and the data partition (the MBR's four primaries, all used). */
export const SLOT_PARTITIONS = { A: 2, B: 3 } as const;
export const DATA_PARTITION = 4;

export class LayoutError extends Error {
  override readonly name = 'LayoutError';
}

/**
 * Partition 1: FAT boot (bootable flag, which U-Boot's distro boot looks for); 2 and 3: the root slots, equal
 * in size; 4: the ext4 data partition, last so that first boot can grow it to the card.
 */
export function planDisk(o: {
  firstPartitionMib: number;
  bootBytes: number;
  rootBytes: number;
  slotMib: number;
  dataBytes: number;
  signature: number;
}): DiskPlan {
  const slotBytes = o.slotMib * MIB;
  if (o.rootBytes > slotBytes)
    throw new LayoutError(
      `the root filesystem (${Math.ceil(o.rootBytes / MIB)} MiB) does not fit a root slot (layout.slot_mib = ${o.slotMib})`,
    );
  const bootStart = o.firstPartitionMib * MIB;
  const rootStart = bootStart + Math.ceil(o.bootBytes / MIB) * MIB;
  const slotBStart = rootStart + slotBytes;
  const dataStart = slotBStart + slotBytes;
  const totalBytes = dataStart + Math.ceil(o.dataBytes / MIB) * MIB;
  const linux = (start: number, bytes: number) => ({
    start: start / SECTOR,
    sectors: bytes / SECTOR,
    type: 0x83,
    bootable: false,
  });
  return {
    bootStart,
    rootStart,
    slotBStart,
    slotBytes,
    dataStart,
    totalBytes,
    mbr: {
      signature: o.signature,
      partitions: [
        { start: bootStart / SECTOR, sectors: o.bootBytes / SECTOR, type: 0x0c, bootable: true },
        linux(rootStart, slotBytes),
        linux(slotBStart, slotBytes),
        linux(dataStart, totalBytes - dataStart),
      ],
    },
  };
}

/** Whether a file is a sunxi SPL (the boot ROM's eGON header: a branch, then "eGON.BT0"). */
export function isSunxiSpl(data: Buffer): boolean {
  return data.length >= 12 && data.subarray(4, 12).toString('latin1') === SUNXI_MAGIC;
}

export interface DiskParts {
  bootloader?: { data: Buffer; offset: number }[];
  bootImage: string;
  rootImage: string;
  dataImage: string;
}

/** Writes the image; all-zero chunks are skipped so the file stays sparse (the bytes read back the same). */
export async function writeDisk(out: string, plan: DiskPlan, parts: DiskParts): Promise<void> {
  const bl = parts.bootloader ?? [];
  for (const part of bl) {
    if (part.offset < SECTOR) throw new Error('the bootloader would overwrite the partition table');
    if (part.offset + part.data.length > plan.bootStart)
      throw new Error(
        `the bootloader (${part.data.length} bytes at ${part.offset}) runs into the first partition at ${plan.bootStart}`,
      );
  }
  const fh = await open(out, 'w');
  try {
    await fh.truncate(plan.totalBytes);
    await fh.write(encodeMbr(plan.mbr), 0, SECTOR, 0);
    for (const part of bl) await fh.write(part.data, 0, part.data.length, part.offset);
    await copyInto(fh, parts.bootImage, plan.bootStart, plan.rootStart - plan.bootStart);
    await copyInto(fh, parts.rootImage, plan.rootStart, plan.slotBytes);
    await copyInto(fh, parts.dataImage, plan.dataStart, plan.totalBytes - plan.dataStart);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function copyInto(dst: Awaited<ReturnType<typeof open>>, src: string, at: number, room: number) {
  const fh = await open(src, 'r');
  try {
    const { size } = await fh.stat();
    if (size > room) throw new Error(`${src} (${size} bytes) does not fit its partition (${room} bytes)`);
    const buf = Buffer.alloc(4 * MIB);
    const zero = Buffer.alloc(4 * MIB);
    for (let pos = 0; pos < size;) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - pos), pos);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      if (!chunk.equals(zero.subarray(0, bytesRead))) await dst.write(chunk, 0, bytesRead, at + pos);
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
}
