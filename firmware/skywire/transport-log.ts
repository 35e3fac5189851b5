// A visor's own transport counters: `<local_path>/transport_logs/YYYY-MM-DD.csv` (UTC day; columns tp_id, recv,
// sent, time_stamp; rewritten every few seconds). These are the real figures of a board's traffic: through the
// hypervisor every remote visor's counters read 0.
import { join } from 'node:path';

export interface TransportBytes {
  recv: number;
  sent: number;
}

/** The day's log file under the visor's local_path. */
export function transportLogPath(localPath: string, nowMs: number): string {
  return join(localPath, 'transport_logs', `${new Date(nowMs).toISOString().slice(0, 10)}.csv`);
}

/**
 * Sums the day's bytes over every transport. Columns are found by their header names (the CSV library writes
 * them in the struct's order, which a newer Skywire may change); a row that does not parse is skipped.
 */
export function sumTransportLog(text: string): TransportBytes {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines
    .shift()
    ?.split(',')
    .map((h) => h.trim());
  const recvAt = header?.indexOf('recv') ?? -1;
  const sentAt = header?.indexOf('sent') ?? -1;
  const total = { recv: 0, sent: 0 };
  if (recvAt < 0 || sentAt < 0) return total;
  for (const line of lines) {
    const cells = line.split(',');
    const recv = Number(cells[recvAt]);
    const sent = Number(cells[sentAt]);
    if (!Number.isFinite(recv) || !Number.isFinite(sent) || recv < 0 || sent < 0) continue;
    total.recv += recv;
    total.sent += sent;
  }
  return total;
}

/**
 * A rate from two reads of the day's totals (bytes per second); null when there is no earlier read, or when the
 * totals fell (a new UTC day started a new file).
 */
export function transportRate(
  before: { at: number; bytes: TransportBytes } | null,
  now: { at: number; bytes: TransportBytes },
): { rxBps: number; txBps: number } | null {
  if (!before || now.at <= before.at) return null;
  const dr = now.bytes.recv - before.bytes.recv;
  const ds = now.bytes.sent - before.bytes.sent;
  if (dr < 0 || ds < 0) return null;
  const s = (now.at - before.at) / 1000;
  return { rxBps: Math.round(dr / s), txBps: Math.round(ds / s) };
}
