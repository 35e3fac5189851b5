import type { BlockDisk } from '../../drivers/disks/block-devices.js';
import type { Mount } from '../../drivers/disks/mounts.js';
import type { DiskUsage } from '../../drivers/disks/usage.js';
import type { SmartVerdict, Verdict } from './smart-verdict.js';

/** One line of `skyminer disks --json`. */
export interface DiskReport {
  board: number;
  disk: string;
  model: string | null;
  serial: string | null;
  size_bytes: number;
  verdict: Verdict;
  reasons: string[];
  temperature_c: number | null;
  mounted: boolean;
  used_pct: number | null;
}

/** Builds the report object of one disk from what discovery, the SMART poller and statfs know about it. */
export function diskReport(
  board: number,
  disk: BlockDisk,
  smart: SmartVerdict | null,
  mounts: Mount[],
  usage: DiskUsage | null,
): DiskReport {
  const asleep = smart?.asleep ? ['asleep (SMART from the last reading while awake)'] : [];
  return {
    board,
    disk: disk.name,
    model: disk.model,
    serial: disk.serial,
    size_bytes: disk.sizeBytes,
    verdict: smart?.verdict ?? 'unknown',
    reasons: smart ? [...smart.reasons, ...asleep] : ['not read yet'],
    temperature_c: smart?.temperatureC ?? null,
    mounted: mounts.length > 0,
    used_pct: usage?.used_pct ?? null,
  };
}
