import type { DiskReport } from '../disks/disk-report.js';
import {
  MAX_HEARTBEAT_DISKS,
  type BoardVisorFigures,
  type HeartbeatFigures,
  type InventoryFigures,
} from '../protocol/figures.js';
import type { TelemetrySummary } from './sample.js';

/**
 * What a heartbeat carries of the board's figures (protocol/figures.ts): the live summary without the per-core,
 * per-interface and per-disk-I/O detail, one report per disk with its first reasons, and the inventory. Kept small
 * so that a heartbeat stays one datagram well under the protocol's limit, whatever the board reports.
 */
export function heartbeatFigures(
  summary: TelemetrySummary | undefined,
  disks: readonly DiskReport[] = [],
  inventory: InventoryFigures | null = null,
  visor: BoardVisorFigures | null = null,
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
    disks: disks.slice(0, MAX_HEARTBEAT_DISKS).map(({ board: _board, ...d }) => ({
      ...d,
      disk: d.disk.slice(0, 32),
      model: d.model?.slice(0, 40) ?? null,
      serial: d.serial?.slice(0, 40) ?? null,
      reasons: d.reasons.slice(0, 3).map((r) => r.slice(0, 120)),
    })),
    inventory,
    visor: visor && { ...visor, last_exit: visor.last_exit?.slice(0, 80) ?? null },
  };
}

function round1(v: number | null | undefined): number | null {
  return v === null || v === undefined || !Number.isFinite(v) ? null : Math.round(v * 10) / 10;
}

function roundInt(v: number | null | undefined): number | null {
  return v === null || v === undefined || !Number.isFinite(v) ? null : Math.round(v);
}
