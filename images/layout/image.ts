// Assembles a card image from a staged root and boot files: FAT boot partition, ext4 root, MBR, bootloader.
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { StagingTree } from '../rootfs/staging.js';
import { planDisk, writeDisk, type DiskPlan } from './disk.js';
import { makeExt4 } from './ext4.js';
import { makeFat, type FatFile } from './fat.js';
import { derivedSignature, derivedUuid } from './identity.js';

const MIB = 1024 * 1024;

export interface ImageSpec {
  out: string;
  /** Scratch directory for the partition files and the staging root (emptied first). */
  workDir: string;
  epoch: number;
  /** inputDigest() of everything that went in: UUIDs, hash seed and disk signature derive from it. */
  digest: string;
  firstPartitionMib: number;
  bootMib: number;
  rootFreeMib: number;
  bootFiles: readonly FatFile[];
  root: StagingTree;
  bootloader?: { data: Buffer; offset: number }[];
}

export interface ImageResult {
  plan: DiskPlan;
  rootUuid: string;
  signature: number;
}

/** Root size: content in 4 KiB blocks, metadata for the inodes, the journal, and the free space asked for. */
export function rootSizeBytes(root: StagingTree, freeMib: number): number {
  let blocks = 0;
  for (const [, e] of root.list()) {
    if (e.kind === 'file') blocks += Math.ceil(('size' in e ? e.size : Buffer.byteLength(e.data)) / 4096) + 1;
    else blocks += 1;
  }
  const bytes = blocks * 4096 * 1.08 + root.size * 256 + 16 * MIB + freeMib * MIB;
  return Math.ceil(bytes / MIB) * MIB;
}

export function signatureOf(digest: string): number {
  return derivedSignature(digest);
}

export async function assembleImage(spec: ImageSpec): Promise<ImageResult> {
  await rm(spec.workDir, { recursive: true, force: true });
  const staging = join(spec.workDir, 'root');
  await mkdir(staging, { recursive: true });
  await spec.root.write(staging, spec.epoch);
  const rootUuid = derivedUuid(spec.digest, 'root');
  const rootBytes = rootSizeBytes(spec.root, spec.rootFreeMib);
  const rootImage = join(spec.workDir, 'root.ext4');
  await makeExt4({
    file: rootImage,
    stagingDir: staging,
    sizeBytes: rootBytes,
    label: 'skyroot',
    uuid: rootUuid,
    epoch: spec.epoch,
    inodes: spec.root.size + 2048,
    entries: spec.root.owned(),
    scriptFile: join(spec.workDir, 'owners.debugfs'),
  });
  const bootImage = join(spec.workDir, 'boot.fat');
  await makeFat(bootImage, spec.bootMib * MIB, 'SKYBOOT', spec.bootFiles, spec.epoch);
  const signature = derivedSignature(spec.digest);
  const plan = planDisk({
    firstPartitionMib: spec.firstPartitionMib,
    bootBytes: spec.bootMib * MIB,
    rootBytes: (await stat(rootImage)).size,
    signature,
  });
  await writeDisk(spec.out, plan, {
    bootImage,
    rootImage,
    ...(spec.bootloader ? { bootloader: spec.bootloader } : {}),
  });
  await rm(staging, { recursive: true, force: true });
  return { plan, rootUuid, signature };
}
