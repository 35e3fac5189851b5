import type { FileRoot } from '../../drivers/fileroot/file-root.js';
import { cpuLoads, readCpuStat, type CpuStat } from '../../drivers/proc/cpu-stat.js';
import { diskRates, isWholeDisk, readDiskStats, type DiskCounters } from '../../drivers/proc/diskstats.js';
import { readLoadAvg } from '../../drivers/proc/loadavg.js';
import { readMemInfo } from '../../drivers/proc/meminfo.js';
import { netRates, readNetDev, type NetCounters } from '../../drivers/proc/net-dev.js';
import { boardTemperature, readThermalZones } from '../../drivers/proc/thermal.js';
import { readUptime } from '../../drivers/proc/uptime.js';

/** The counters one sample keeps so the next can compute rates. */
export interface RawSample {
  /** Monotonic milliseconds when the sample was taken. */
  atMs: number;
  uptimeS: number | null;
  cpu: CpuStat | null;
  net: Map<string, NetCounters> | null;
  disks: Map<string, DiskCounters> | null;
}

export type NetSummary = {
  rx_bps: number | null;
  tx_bps: number | null;
  rx_pps: number | null;
  tx_pps: number | null;
};

export type DiskIoSummary = {
  read_bps: number | null;
  write_bps: number | null;
  read_iops: number | null;
  write_iops: number | null;
  busy_pct: number | null;
};

/**
 * The compact figures a heartbeat carries. Rates are null on the first sample and after any counter reset.
 * A type alias (not an interface) so it fits the heartbeat's `Record<string, unknown>` as it is.
 */
export type TelemetrySummary = {
  uptime_s: number | null;
  cpu_pct: number | null;
  cpu_cores_pct: (number | null)[];
  load1: number | null;
  mem_used_bytes: number | null;
  mem_total_bytes: number | null;
  temp_c: number | null;
  /** Sums over the real interfaces (not `lo`). */
  net_rx_bps: number | null;
  net_tx_bps: number | null;
  net: Record<string, NetSummary>;
  /** Whole disks only (no partitions, loops, zram). */
  disks: Record<string, DiskIoSummary>;
  /** Why rates are missing: 'first-sample', 'rebooted', 'counter-reset' on an interface, ... */
  notes: string[];
  /** One line per reader that failed; the other figures are still good. */
  errors: string[];
};

export interface BoardSample {
  raw: RawSample;
  summary: TelemetrySummary;
}

export interface SampleOptions {
  /** Monotonic clock in milliseconds. */
  now?: () => number;
  /** 32-bit boards: per-driver network counters may wrap at 4 GiB. */
  wrap32?: boolean;
}

/** Reads every figure once and computes rates against `prev`. Never rejects: a failed reader is a null figure. */
export async function sampleBoard(
  root: FileRoot,
  prev: BoardSample | null,
  opts: SampleOptions = {},
): Promise<BoardSample> {
  const errors: string[] = [];
  const guard = <T>(what: string, p: Promise<T>): Promise<T | null> =>
    p.catch((err: unknown) => {
      errors.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      return null;
    });
  const [uptime, cpu, load, mem, zones, net, disks] = await Promise.all([
    guard('uptime', readUptime(root)),
    guard('cpu', readCpuStat(root)),
    guard('loadavg', readLoadAvg(root)),
    guard('meminfo', readMemInfo(root)),
    guard('thermal', readThermalZones(root)),
    guard('net', readNetDev(root)),
    guard('diskstats', readDiskStats(root)),
  ]);
  const atMs = (opts.now ?? (() => performance.now()))();
  const raw: RawSample = { atMs, uptimeS: uptime?.uptime ?? null, cpu, net, disks };

  const notes: string[] = [];
  let p: RawSample | null = prev?.raw ?? null;
  if (!p) notes.push('first-sample');
  else if (raw.uptimeS !== null && p.uptimeS !== null && raw.uptimeS < p.uptimeS) {
    // Every counter restarted; a counter that happens to be higher now would still give a false rate.
    notes.push('rebooted');
    p = null;
  }
  const dt = p ? (atMs - p.atMs) / 1000 : 0;

  const loads = p?.cpu && cpu ? cpuLoads(p.cpu, cpu) : null;
  if (loads?.total.reason) notes.push(`cpu: ${loads.total.reason}`);

  const net_: Record<string, NetSummary> = {};
  let rxSum: number | null = null;
  let txSum: number | null = null;
  if (net) {
    const rates = netRates(p?.net ?? undefined, net, dt, { wrap32: opts.wrap32 ?? false });
    for (const [name, r] of rates) {
      if (name === 'lo') continue;
      net_[name] = {
        rx_bps: r.rxBytes.value,
        tx_bps: r.txBytes.value,
        rx_pps: r.rxPackets.value,
        tx_pps: r.txPackets.value,
      };
      if (p && r.rxBytes.reason && r.rxBytes.reason !== 'no-previous')
        notes.push(`net ${name}: ${r.rxBytes.reason}`);
      if (r.rxBytes.value !== null) rxSum = (rxSum ?? 0) + r.rxBytes.value;
      if (r.txBytes.value !== null) txSum = (txSum ?? 0) + r.txBytes.value;
    }
  }

  const disks_: Record<string, DiskIoSummary> = {};
  if (disks) {
    for (const [name, d] of disks) {
      if (!isWholeDisk(name)) continue;
      const r = diskRates(p?.disks?.get(name), d, dt);
      disks_[name] = {
        read_bps: r.readBytes.value,
        write_bps: r.writeBytes.value,
        read_iops: r.readOps.value,
        write_iops: r.writeOps.value,
        busy_pct: r.busyPct.value,
      };
      if (p && r.readBytes.reason && r.readBytes.reason !== 'no-previous')
        notes.push(`disk ${name}: ${r.readBytes.reason}`);
    }
  }

  const summary: TelemetrySummary = {
    uptime_s: uptime?.uptime ?? null,
    cpu_pct: loads?.total.pct ?? null,
    cpu_cores_pct: loads ? loads.cores.map((c) => c.pct) : (cpu?.cores.map(() => null) ?? []),
    load1: load?.load1 ?? null,
    mem_used_bytes: mem ? mem.total - mem.available : null,
    mem_total_bytes: mem?.total ?? null,
    temp_c: zones ? boardTemperature(zones) : null,
    net_rx_bps: rxSum,
    net_tx_bps: txSum,
    net: net_,
    disks: disks_,
    notes,
    errors,
  };
  return { raw, summary };
}
