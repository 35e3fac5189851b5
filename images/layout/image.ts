// Assembles a card image from a staged root and boot files: FAT boot partition, ext4 root, MBR, bootloader.
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StagingTree } from '../rootfs/staging.js';
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
  /** Size of each root slot; the root filesystem must fit it (an update's root too). */
  slotMib: number;
  /** The data partition's size in the image (first boot grows it to the card). */
  dataMib: number;
  /** The directory that lives on the data partition: what is under it in `root` goes there instead. */
  dataDir: string;
  bootFiles: readonly FatFile[];
  root: StagingTree;
  bootloader?: { data: Buffer; offset: number }[];
}

export interface ImageResult {
  plan: DiskPlan;
  rootUuid: string;
  dataUuid: string;
  signature: number;
}

/**
 * Moves what is under `dir` out of `root` into a tree of its own (paths relative to `dir`), leaving the empty
 * directory in the root as the mount point. Owners and modes travel with the entries.
 */
export function splitDataTree(root: StagingTree, dir: string): StagingTree {
  const data = new StagingTree();
  const prefix = `${dir}/`;
  for (const [path, e] of root.list()) {
    if (!path.startsWith(prefix)) continue;
    const rel = `/${path.slice(prefix.length)}`;
    const owner = { mode: e.mode, uid: e.uid, gid: e.gid };
    if (e.kind === 'dir') data.dir(rel, owner);
    else if (e.kind === 'symlink') data.symlink(rel, e.target, owner);
    else if (e.kind === 'node') data.node(rel, e.node, e.major, e.minor, owner);
    else if ('source' in e) data.copy(rel, e.source, e.size, owner);
    else data.file(rel, e.data, owner);
  }
  const top = root.get(dir);
  if (top) data.dir('/', { mode: top.mode, uid: top.uid, gid: top.gid });
  for (const [path] of root.list()) if (path.startsWith(prefix)) root.remove(path);
  return data;
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
  const data = splitDataTree(spec.root, spec.dataDir);
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
  const dataStaging = join(spec.workDir, 'data');
  await mkdir(dataStaging, { recursive: true });
  await data.write(dataStaging, spec.epoch);
  const dataUuid = derivedUuid(spec.digest, 'data');
  const dataImage = join(spec.workDir, 'data.ext4');
  await makeExt4({
    file: dataImage,
    stagingDir: dataStaging,
    sizeBytes: spec.dataMib * MIB,
    label: 'skydata',
    uuid: dataUuid,
    epoch: spec.epoch,
    inodes: 4096,
    entries: data.owned(),
    scriptFile: join(spec.workDir, 'data-owners.debugfs'),
  });
  const bootImage = join(spec.workDir, 'boot.fat');
  await makeFat(bootImage, spec.bootMib * MIB, 'SKYBOOT', spec.bootFiles, spec.epoch);
  const signature = derivedSignature(spec.digest);
  const plan = planDisk({
    firstPartitionMib: spec.firstPartitionMib,
    bootBytes: spec.bootMib * MIB,
    rootBytes: (await stat(rootImage)).size,
    slotMib: spec.slotMib,
    dataBytes: spec.dataMib * MIB,
    signature,
  });
  await writeDisk(spec.out, plan, {
    bootImage,
    rootImage,
    dataImage,
    ...(spec.bootloader ? { bootloader: spec.bootloader } : {}),
  });
  await rm(staging, { recursive: true, force: true });
  await rm(dataStaging, { recursive: true, force: true });
  return { plan, rootUuid, dataUuid, signature };
}
