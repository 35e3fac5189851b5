// Puts the pieces of a card together in one file: MBR, bootloader at its offset, boot and root partitions.
import { open } from 'node:fs/promises';
import { encodeMbr, SECTOR, type Mbr } from './mbr.js';

const MIB = 1024 * 1024;
export const SUNXI_MAGIC = 'eGON.BT0';

export interface DiskPlan {
  mbr: Mbr;
  totalBytes: number;
  bootStart: number;
  rootStart: number;
}

/** Partition 1: FAT boot (bootable flag, which U-Boot's distro boot looks for); partition 2: the ext4 root. */
export function planDisk(o: {
  firstPartitionMib: number;
  bootBytes: number;
  rootBytes: number;
  signature: number;
}): DiskPlan {
  const bootStart = o.firstPartitionMib * MIB;
  const rootStart = bootStart + Math.ceil(o.bootBytes / MIB) * MIB;
  const totalBytes = rootStart + Math.ceil(o.rootBytes / MIB) * MIB;
  return {
    bootStart,
    rootStart,
    totalBytes,
    mbr: {
      signature: o.signature,
      partitions: [
        { start: bootStart / SECTOR, sectors: o.bootBytes / SECTOR, type: 0x0c, bootable: true },
        {
          start: rootStart / SECTOR,
          sectors: (totalBytes - rootStart) / SECTOR,
          type: 0x83,
          bootable: false,
        },
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
    await copyInto(fh, parts.rootImage, plan.rootStart, plan.totalBytes - plan.rootStart);
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
