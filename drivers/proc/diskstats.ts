import type { FileRoot } from '../fileroot/file-root.js';
import { counterRate, type Rate } from './counters.js';
import { fields, ParseError, uint } from './parse.js';

/** One `/proc/diskstats` line; sectors are always 512 bytes there, whatever the disk's own sector size. */
export interface DiskCounters {
  readsCompleted: number;
  sectorsRead: number;
  writesCompleted: number;
  sectorsWritten: number;
  /** Milliseconds the device had I/O in flight. */
  ioMs: number;
}

export function parseDiskStats(text: string): Map<string, DiskCounters> {
  const out = new Map<string, DiskCounters>();
  for (const line of text.split('\n')) {
    const f = fields(line);
    if (f.length === 0) continue;
    const n = f.slice(3, 14).map(uint);
    if (f.length < 14 || n.some(Number.isNaN))
      throw new ParseError('/proc/diskstats', `malformed line "${line}"`);
    out.set(f[2]!, {
      readsCompleted: n[0]!,
      sectorsRead: n[2]!,
      writesCompleted: n[4]!,
      sectorsWritten: n[6]!,
      ioMs: n[9]!,
    });
  }
  return out;
}

export async function readDiskStats(root: FileRoot): Promise<Map<string, DiskCounters>> {
  return parseDiskStats(await root.readText('proc/diskstats'));
}

/** Whole disks worth reporting: SATA/SCSI, virtio, MMC, NVMe namespaces; not partitions, loops, RAM or zram. */
export function isWholeDisk(name: string): boolean {
  return /^(sd[a-z]+|hd[a-z]+|vd[a-z]+|xvd[a-z]+|mmcblk\d+|nvme\d+n\d+)$/.test(name);
}

export interface DiskRates {
  readBytes: Rate;
  writeBytes: Rate;
  readOps: Rate;
  writeOps: Rate;
  /** Share of the interval with I/O in flight, 0..100. */
  busyPct: Rate;
}

const SATA3_MAX_BYTES_PER_SECOND = 2e9;

export function diskRates(prev: DiskCounters | undefined, next: DiskCounters, dtSeconds: number): DiskRates {
  const bytes = { maxPerSecond: SATA3_MAX_BYTES_PER_SECOND };
  const ops = { maxPerSecond: 2e6 };
  const busy = counterRate(prev?.ioMs, next.ioMs, dtSeconds, { maxPerSecond: 1100 });
  return {
    readBytes: counterRate(prev && prev.sectorsRead * 512, next.sectorsRead * 512, dtSeconds, bytes),
    writeBytes: counterRate(prev && prev.sectorsWritten * 512, next.sectorsWritten * 512, dtSeconds, bytes),
    readOps: counterRate(prev?.readsCompleted, next.readsCompleted, dtSeconds, ops),
    writeOps: counterRate(prev?.writesCompleted, next.writesCompleted, dtSeconds, ops),
    // ioMs per second / 10 = percent; clamp the few-percent overshoot of jiffy accounting.
    busyPct: busy.value === null ? busy : { value: Math.min(100, busy.value / 10) },
  };
}
