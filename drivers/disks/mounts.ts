import type { FileRoot } from '../fileroot/file-root.js';
import type { BlockDisk } from './block-devices.js';

export interface Mount {
  source: string;
  target: string;
  fstype: string;
  options: string[];
}

/** `\040` and friends: the kernel escapes space, tab, newline and backslash in mount paths. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMounts(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4) continue;
    out.push({ source: unescape(f[0]!), target: unescape(f[1]!), fstype: f[2]!, options: f[3]!.split(',') });
  }
  return out;
}

/** The mount table as this process sees it (`/proc/self/mounts`), or the older `/proc/mounts`. */
export async function readMounts(root: FileRoot): Promise<Mount[]> {
  const text = await root.readText('proc/self/mounts').catch(() => root.readText('proc/mounts'));
  return parseMounts(text);
}

/** Mounts of a disk or any of its partitions. */
export function mountsOf(disk: BlockDisk, mounts: Mount[]): Mount[] {
  const devices = new Set([disk.devPath, ...disk.partitions.map((p) => `/dev/${p.name}`)]);
  return mounts.filter((m) => devices.has(m.source));
}
