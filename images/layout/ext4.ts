// The root filesystem: mkfs.ext4 -d from a staging directory (e2fsprogs sorts the entries, so inode numbers do
// not depend on the host's directory order), then one debugfs pass that sets every owner, mode and ctime from
// the builder's own list. Nothing needs root, a loop device or a mount, and nothing is inherited from the host.
import { truncate, writeFile } from 'node:fs/promises';
import { run } from '../lib/tools.js';
import type { OwnedEntry } from '../rootfs/staging.js';

export type { OwnedEntry };

/**
 * Features: ext4 with extents, 64bit, flex_bg and metadata_csum, which U-Boot's ext4 reader (2023.01) and every
 * Linux since 3.18 read; without metadata_csum_seed and orphan_file (U-Boot refuses to read a filesystem with
 * incompat features it does not know, and orphan_file is newer than both), and without huge_file or large_dir.
 */
export const EXT4_FEATURES = '^metadata_csum_seed,^orphan_file,^large_dir,^huge_file';

/** The features the root is made with (the initramfs must load what mounting them needs: rootfs/modules.ts). */
export const ROOT_FEATURES: readonly string[] = [
  'has_journal',
  'extent',
  'flex_bg',
  'metadata_csum',
  '64bit',
  'dir_index',
  'filetype',
  'sparse_super',
  'large_file',
  'dir_nlink',
  'extra_isize',
];

const TYPE_BITS = {
  dir: 0o040000,
  file: 0o100000,
  symlink: 0o120000,
  chardev: 0o020000,
  blockdev: 0o060000,
  fifo: 0o010000,
} as const;
const MKNOD = { chardev: 'c', blockdev: 'b', fifo: 'p' } as const;

function quote(path: string): string {
  if (/["\n\\]/.test(path))
    throw new Error(`path ${JSON.stringify(path)} cannot be named in a debugfs script`);
  return `"${path}"`;
}

/** The debugfs commands that make owners, modes and change times the builder's, entry by entry. */
export function ownershipScript(entries: readonly OwnedEntry[], epoch: number): string {
  const lines: string[] = [];
  for (const e of entries) {
    const p = quote(e.path);
    if (e.kind === 'chardev' || e.kind === 'blockdev' || e.kind === 'fifo') {
      // mkfs.ext4 -d cannot take them from the staging directory (making them there needs root). debugfs's
      // mknod links the name as given into the current directory, hence the cd.
      const slash = e.path.lastIndexOf('/');
      const numbers = e.kind === 'fifo' ? '' : ` ${e.major ?? 0} ${e.minor ?? 0}`;
      lines.push(
        `cd ${quote(e.path.slice(0, slash) || '/')}`,
        `mknod ${quote(e.path.slice(slash + 1))} ${MKNOD[e.kind]}${numbers}`,
        'cd /',
      );
    }
    lines.push(`sif ${p} uid ${e.uid}`, `sif ${p} gid ${e.gid}`);
    if (e.kind !== 'symlink')
      lines.push(`sif ${p} mode 0${(TYPE_BITS[e.kind] | (e.mode & 0o7777)).toString(8)}`);
    lines.push(`sif ${p} ctime @${epoch}`, `sif ${p} atime @${epoch}`, `sif ${p} mtime @${epoch}`);
  }
  return lines.join('\n') + '\n';
}

export interface Ext4Options {
  /** The image file to create (its size is set here). */
  file: string;
  stagingDir: string;
  sizeBytes: number;
  label: string;
  uuid: string;
  /** Source date: every timestamp in the filesystem. */
  epoch: number;
  inodes: number;
  entries: readonly OwnedEntry[];
  /** Where the debugfs script is written (kept beside the build for inspection). */
  scriptFile: string;
}

export async function makeExt4(o: Ext4Options): Promise<void> {
  const env = { E2FSPROGS_FAKE_TIME: String(o.epoch), MKE2FS_CONFIG: '/dev/null' };
  await writeFile(o.file, '');
  await truncate(o.file, Math.floor(o.sizeBytes / 4096) * 4096);
  // MKE2FS_CONFIG=/dev/null: the host's mke2fs.conf must not add features; the ext4 set is named here in full.
  await run(
    'mkfs.ext4',
    [
      '-q',
      '-F',
      '-t',
      'ext4',
      '-O',
      `${ROOT_FEATURES.join(',')},${EXT4_FEATURES}`,
      '-b',
      '4096',
      '-I',
      '256',
      '-N',
      String(o.inodes),
      '-m',
      '1',
      '-L',
      o.label,
      '-U',
      o.uuid,
      '-E',
      `hash_seed=${o.uuid},root_owner=0:0,nodiscard`,
      '-d',
      o.stagingDir,
      o.file,
    ],
    { env },
  );
  await writeFile(o.scriptFile, ownershipScript(o.entries, o.epoch));
  await run('debugfs', ['-w', '-f', o.scriptFile, o.file], { env });
}

export interface Ext4Summary {
  label: string;
  uuid: string;
  features: string[];
  blockSize: number;
  blocks: number;
  freeBlocks: number;
  inodes: number;
  freeInodes: number;
}

/** `dumpe2fs -h` of a filesystem inside a file at a byte offset (e2fsprogs' `file?offset=N`). */
export async function readExt4Summary(image: string, offset: number): Promise<Ext4Summary> {
  const { stdout } = await run('dumpe2fs', ['-h', `${image}?offset=${offset}`]);
  const field = (name: string): string => {
    const m = new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(stdout);
    if (!m) throw new Error(`dumpe2fs printed no "${name}"`);
    return m[1]!.trim();
  };
  return {
    label: field('Filesystem volume name'),
    uuid: field('Filesystem UUID'),
    features: field('Filesystem features').split(/\s+/),
    blockSize: Number(field('Block size')),
    blocks: Number(field('Block count')),
    freeBlocks: Number(field('Free blocks')),
    inodes: Number(field('Inode count')),
    freeInodes: Number(field('Free inodes')),
  };
}

/** One debugfs request against the root filesystem inside an image (read-only). */
export async function debugfsRequest(image: string, offset: number, request: string): Promise<string> {
  const { stdout } = await run('debugfs', ['-R', request, `${image}?offset=${offset}`]);
  return stdout;
}
