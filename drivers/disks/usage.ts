import { statfs as fsStatfs } from 'node:fs/promises';

export interface StatFsResult {
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
}

/** `statfs(2)`; injected so tests and the simulator give their own figures. */
export type StatFs = (path: string) => Promise<StatFsResult>;

export const realStatfs: StatFs = (path) => fsStatfs(path);

export interface DiskUsage {
  size_bytes: number;
  used_bytes: number;
  avail_bytes: number;
  /** As df shows it: used / (used + available to unprivileged users), so a full disk reads 100. */
  used_pct: number;
}

export async function diskUsage(mountPoint: string, statfs: StatFs = realStatfs): Promise<DiskUsage> {
  const s = await statfs(mountPoint);
  const used = (s.blocks - s.bfree) * s.bsize;
  const avail = s.bavail * s.bsize;
  return {
    size_bytes: s.blocks * s.bsize,
    used_bytes: used,
    avail_bytes: avail,
    used_pct: used + avail > 0 ? Math.round((1000 * used) / (used + avail)) / 10 : 0,
  };
}
