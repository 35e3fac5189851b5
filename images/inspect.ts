// `skyminer-image inspect IMAGE`: what is on a card image, read without mounting anything.
import { open, stat } from 'node:fs/promises';
import { DIRECT_BOOT_CONF, parseExtlinux, type BootEntry } from './layout/boot-config.js';
import { isSunxiSpl } from './layout/disk.js';
import { debugfsRequest, readExt4Summary, type Ext4Summary } from './layout/ext4.js';
import { listFat, readFatText } from './layout/fat.js';
import { decodeMbr, partitionTypeName, SECTOR, type Mbr } from './layout/mbr.js';

export interface RootSummary extends Ext4Summary {
  firmwareVersion?: string;
  profile?: string;
  /** Runlevel -> services enabled in it. */
  services: Record<string, string[]>;
  /** "locked", "set" or "missing" (no entry). */
  rootPassword: 'locked' | 'set' | 'missing';
  /** The skyminer console's password file: `!` locked, a hash set, absent missing (the console asks for one). */
  /** `unset`: no password file, so the first person at the serial console chooses one. */
  consolePassword: 'locked' | 'set' | 'unset';
  sshKeys: number;
  /** Whether the image carries a box secret (built for one box) or leaves it to the manager's first boot. */
  boxSecret: 'baked' | 'none';
}

export interface InspectReport {
  image: string;
  sizeBytes: number;
  mbr: Mbr;
  bootloader: { kind: 'sunxi-spl'; offset: number; fitOffset?: number } | { kind: 'none' };
  bootFiles: string[];
  bootConfigText: string;
  bootEntry: BootEntry;
  root: RootSummary;
  /** Root slot B: empty until an update writes it, else the firmware it holds. */
  slotB?: { state: 'empty' } | { state: 'written'; firmwareVersion?: string };
  data?: Ext4Summary;
}

/** debugfs `ls -p` lines: /inode/mode/uid/gid/name/size/ */
function names(lsp: string): string[] {
  return lsp
    .split('\n')
    .map((l) => l.split('/'))
    .filter((f) => f.length >= 7 && f[5] !== '.' && f[5] !== '..')
    .map((f) => f[5]!)
    .sort();
}

/** The state directory that lives on the data partition (partition 4) in a two-slot image. */
const STATE_DIR = '/var/lib/skyminer';

/**
 * The root at `offset`; the state files (console password, box secret) are read from the data partition at
 * `dataOffset` where the image has one.
 */
export async function readRootSummary(
  image: string,
  offset: number,
  dataOffset?: number,
): Promise<RootSummary> {
  const summary = await readExt4Summary(image, offset);
  const cat = (p: string) =>
    dataOffset !== undefined && p.startsWith(`${STATE_DIR}/`)
      ? debugfsRequest(image, dataOffset, `cat ${p.slice(STATE_DIR.length)}`)
      : debugfsRequest(image, offset, `cat ${p}`);
  const services: Record<string, string[]> = {};
  for (const level of names(await debugfsRequest(image, offset, 'ls -p /etc/runlevels'))) {
    services[level] = names(await debugfsRequest(image, offset, `ls -p /etc/runlevels/${level}`));
  }
  const pkg = await cat('/usr/lib/skyminer/package.json');
  let firmwareVersion: string | undefined;
  try {
    firmwareVersion = (JSON.parse(pkg) as { version?: string }).version;
  } catch {
    firmwareVersion = undefined;
  }
  const release = await cat('/etc/skyminer/image-release');
  const profile = /^PROFILE=(.*)$/m.exec(release)?.[1];
  const rootLine = (await cat('/etc/shadow')).split('\n').find((l) => l.startsWith('root:'));
  const hash = rootLine?.split(':')[1];
  const rootPassword = hash === undefined ? 'missing' : hash === '' || /^[!*]/.test(hash) ? 'locked' : 'set';
  const consoleLine = (await cat('/var/lib/skyminer/console-password')).split('\n')[0]!.trim();
  const consolePassword = consoleLine === '' ? 'unset' : consoleLine.startsWith('scrypt$') ? 'set' : 'locked';
  const keys = (await cat('/root/.ssh/authorized_keys'))
    .split('\n')
    .filter((l) => /^\s*(ssh|ecdsa|sk-)/.test(l));
  const conf = await cat('/etc/skyminer/skyminer.conf');
  const secretPath = /^box_secret\s*=\s*"([^"]+)"/m.exec(conf)?.[1] ?? '/var/lib/skyminer/box.secret';
  const boxSecret = /^[0-9a-f]{64}$/i.test((await cat(secretPath)).trim()) ? 'baked' : 'none';
  return {
    ...summary,
    ...(firmwareVersion ? { firmwareVersion } : {}),
    ...(profile ? { profile } : {}),
    services,
    rootPassword,
    consolePassword,
    sshKeys: keys.length,
    boxSecret,
  };
}

export async function inspectImage(image: string): Promise<InspectReport> {
  const { size } = await stat(image);
  const fh = await open(image, 'r');
  const head = Buffer.alloc(Math.min(size, 64 * 1024));
  try {
    await fh.read(head, 0, head.length, 0);
  } finally {
    await fh.close();
  }
  const mbr = decodeMbr(head.subarray(0, SECTOR));
  const boot = mbr.partitions.find((p) => p.bootable) ?? mbr.partitions[0];
  const root = mbr.partitions.find((p) => p.type === 0x83);
  if (!boot || !root) throw new Error('expected a boot partition and a Linux root partition');
  // Two root slots and a data partition: partitions 2, 3 and 4.
  const slotB = mbr.partitions.length === 4 ? mbr.partitions[2] : undefined;
  const dataPart = mbr.partitions.length === 4 ? mbr.partitions[3] : undefined;
  // A separate U-Boot FIT (64-bit sunxi) sits at 40 KiB; a combined file has the FIT inside the SPL's file.
  const fitAt40k = head.length >= 40964 && head.readUInt32BE(40960) === 0xd00dfeed;
  const bootloader = isSunxiSpl(head.subarray(8192))
    ? ({ kind: 'sunxi-spl', offset: 8192, ...(fitAt40k ? { fitOffset: 40960 } : {}) } as const)
    : ({ kind: 'none' } as const);
  const bootOffset = boot.start * SECTOR;
  const bootConfigText = await readFatText(image, bootOffset, DIRECT_BOOT_CONF);
  return {
    image,
    sizeBytes: size,
    mbr,
    bootloader,
    bootFiles: await listFat(image, bootOffset),
    bootConfigText,
    bootEntry: parseExtlinux(bootConfigText),
    root: await readRootSummary(image, root.start * SECTOR, dataPart && dataPart.start * SECTOR),
    ...(slotB ? { slotB: await readSlot(image, slotB.start * SECTOR) } : {}),
    ...(dataPart ? { data: await readExt4Summary(image, dataPart.start * SECTOR) } : {}),
  };
}

async function readSlot(image: string, offset: number): Promise<NonNullable<InspectReport['slotB']>> {
  const fh = await open(image, 'r');
  const sb = Buffer.alloc(2);
  try {
    await fh.read(sb, 0, 2, offset + 1024 + 0x38);
  } finally {
    await fh.close();
  }
  if (sb.readUInt16LE(0) !== 0xef53) return { state: 'empty' };
  const pkg = await debugfsRequest(image, offset, 'cat /usr/lib/skyminer/package.json');
  const version = /"version"\s*:\s*"([^"]+)"/.exec(pkg)?.[1];
  return { state: 'written', ...(version ? { firmwareVersion: version } : {}) };
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

export function formatInspect(r: InspectReport): string {
  const out: string[] = [];
  out.push(`image ${r.image}: ${mib(r.sizeBytes)}`);
  out.push(`partition table: MBR, disk signature 0x${r.mbr.signature.toString(16).padStart(8, '0')}`);
  r.mbr.partitions.forEach((p, i) => {
    out.push(
      `  ${i + 1}  start ${p.start} (${mib(p.start * SECTOR)})  sectors ${p.sectors} (${mib(p.sectors * SECTOR)})  ${partitionTypeName(p.type)}${p.bootable ? '  bootable' : ''}`,
    );
  });
  out.push(
    r.bootloader.kind === 'sunxi-spl'
      ? `bootloader: sunxi SPL (eGON.BT0) at offset ${r.bootloader.offset} (${r.bootloader.offset / 1024} KiB)${r.bootloader.fitOffset ? `, U-Boot FIT at ${r.bootloader.fitOffset} (${r.bootloader.fitOffset / 1024} KiB)` : ''}`
      : 'bootloader: none before the first partition (the machine loads the kernel itself)',
  );
  out.push(`boot partition files: ${r.bootFiles.join(', ')}`);
  out.push(`boot config (${DIRECT_BOOT_CONF}):`);
  for (const l of r.bootConfigText.trimEnd().split('\n')) out.push(`  | ${l}`);
  const s = r.root;
  out.push(
    `root filesystem: ext4 "${s.label}" uuid ${s.uuid}, ${mib(s.blocks * s.blockSize)}, ${mib(s.freeBlocks * s.blockSize)} free, ${s.inodes - s.freeInodes} inodes used`,
  );
  out.push(`  features: ${s.features.join(' ')}`);
  out.push(`  firmware: ${s.firmwareVersion ?? 'not found'}${s.profile ? `, profile ${s.profile}` : ''}`);
  for (const [level, list] of Object.entries(s.services))
    out.push(`  services (${level}): ${list.join(', ') || '-'}`);
  if (r.slotB)
    out.push(
      `root slot B (partition 3): ${r.slotB.state === 'empty' ? 'empty (the first update writes it)' : `firmware ${r.slotB.firmwareVersion ?? 'unknown'}`}`,
    );
  if (r.data)
    out.push(
      `data partition (4, ${STATE_DIR}): ext4 "${r.data.label}" uuid ${r.data.uuid}, ${mib(r.data.blocks * r.data.blockSize)}, ${mib(r.data.freeBlocks * r.data.blockSize)} free; kept across updates`,
    );
  out.push(
    `  root password: ${s.rootPassword === 'locked' ? 'none' : s.rootPassword}; console password: ${s.consolePassword === 'unset' ? 'none (chosen at the serial console on first use)' : s.consolePassword}; ssh keys: ${s.sshKeys}; box secret: ${s.boxSecret === 'baked' ? 'baked in' : 'none (drawn by the manager at first boot)'}`,
  );
  return out.join('\n') + '\n';
}
