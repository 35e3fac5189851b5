import type { DiskReport } from '../disks/disk-report.js';
import type { TelemetrySummary } from './sample.js';

/** At most this many disks ride in a heartbeat; a board has one or two SATA ports. */
const MAX_DISKS = 4;

/**
 * What a heartbeat carries of the board's figures: the live summary without the per-core, per-interface and
 * per-disk-I/O detail, and one report per disk with its first reasons. Kept small so that a heartbeat stays one
 * datagram well under the protocol's limit, whatever the board reports.
 */
export type HeartbeatFigures = Pick<
  TelemetrySummary,
  | 'uptime_s'
  | 'cpu_pct'
  | 'load1'
  | 'mem_used_bytes'
  | 'mem_total_bytes'
  | 'temp_c'
  | 'net_rx_bps'
  | 'net_tx_bps'
> & { [key: string]: unknown; disks: Omit<DiskReport, 'board'>[] };

export function heartbeatFigures(
  summary: TelemetrySummary | undefined,
  disks: DiskReport[] = [],
): HeartbeatFigures {
  return {
    uptime_s: summary?.uptime_s ?? null,
    cpu_pct: round1(summary?.cpu_pct),
    load1: summary?.load1 ?? null,
    mem_used_bytes: summary?.mem_used_bytes ?? null,
    mem_total_bytes: summary?.mem_total_bytes ?? null,
    temp_c: round1(summary?.temp_c),
    net_rx_bps: roundInt(summary?.net_rx_bps),
    net_tx_bps: roundInt(summary?.net_tx_bps),
    disks: disks.slice(0, MAX_DISKS).map(({ board: _board, ...d }) => ({
      ...d,
      model: d.model?.slice(0, 40) ?? null,
      serial: d.serial?.slice(0, 40) ?? null,
      reasons: d.reasons.slice(0, 3).map((r) => r.slice(0, 120)),
    })),
  };
}

function round1(v: number | null | undefined): number | null {
  return v === null || v === undefined ? null : Math.round(v * 10) / 10;
}

function roundInt(v: number | null | undefined): number | null {
  return v === null || v === undefined ? null : Math.round(v);
}
