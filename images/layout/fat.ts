// The boot partition: FAT32 made by mkfs.vfat on a plain file and filled with mtools, no mount needed.
// --invariant fixes the volume serial and creation time; mtools takes file times from SOURCE_DATE_EPOCH.
import { copyFile, mkdtemp, rm, truncate, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { run } from '../lib/tools.js';

export interface FatFile {
  /** Path inside the partition, e.g. `extlinux/extlinux.conf`. */
  path: string;
  /** Host file to copy. */
  source: string;
}

export async function makeFat(
  file: string,
  sizeBytes: number,
  label: string,
  files: readonly FatFile[],
  epoch: number,
) {
  await writeFile(file, '');
  await truncate(file, sizeBytes);
  const env = { SOURCE_DATE_EPOCH: String(epoch), MTOOLS_SKIP_CHECK: '1' };
  await run('mkfs.vfat', ['-F', '32', '-n', label, '--invariant', file], { env });
  const dirs = new Set<string>();
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (dirs.has(d)) continue;
      dirs.add(d);
      await run('mmd', ['-i', file, `::/${d}`], { env });
    }
    // mcopy -m keeps the file's time: copy it aside with the source date as its time first.
    const tmp = await mkdtemp(join(dirname(file), '.fat-'));
    try {
      const staged = join(tmp, 'f');
      await copyFile(f.source, staged);
      await utimes(staged, epoch, epoch);
      await run('mcopy', ['-i', file, '-m', staged, `::/${f.path}`], { env });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
}

/** A file's text from the FAT partition inside an image at a byte offset. */
export async function readFatText(image: string, offset: number, path: string): Promise<string> {
  const { stdout } = await run('mtype', ['-i', `${image}@@${offset}`, `::/${path}`], {
    env: { MTOOLS_SKIP_CHECK: '1' },
  });
  return stdout;
}

/** Every file in the FAT partition, sorted. */
export async function listFat(image: string, offset: number): Promise<string[]> {
  const { stdout } = await run('mdir', ['-i', `${image}@@${offset}`, '-/', '-a', '-b', '::/'], {
    env: { MTOOLS_SKIP_CHECK: '1' },
  });
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.endsWith('/'))
    .map((l) => l.replace(/^::\//, ''))
    .sort();
}
