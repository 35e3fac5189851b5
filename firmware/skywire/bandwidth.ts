import type { TransportCounters } from './visor-summary.js';

/** One read of a visor's transport counters. */
export interface CounterSample {
  atMs: number;
  /** The visor's uptime at the read; a decrease means it restarted and its counters began again at zero. */
  uptimeS: number | null;
  transports: readonly TransportCounters[];
}

/** Receive and send rates in bits per second. */
export interface Rates {
  rxBps: number;
  txBps: number;
}

/** No board link carries more than this; a larger rate is an artefact of a counter, not traffic. */
export const MAX_PLAUSIBLE_BPS = 10e9;

/**
 * Bandwidth between two reads of cumulative counters. Only transports present in both reads count, and only
 * when their counters grew: a visor restart (uptime went down) or a transport whose counters went backwards
 * gives no rate rather than a negative or absurd one. Null when there is no sound basis for a rate.
 */
export function transportRates(prev: CounterSample | undefined, next: CounterSample): Rates | null {
  if (!prev) return null;
  const dtMs = next.atMs - prev.atMs;
  if (dtMs <= 0) return null;
  if (prev.uptimeS !== null && next.uptimeS !== null && next.uptimeS < prev.uptimeS) return null;
  const before = new Map(prev.transports.map((t) => [t.id, t]));
  let recv = 0;
  let sent = 0;
  for (const t of next.transports) {
    const p = before.get(t.id);
    if (!p || t.recv < p.recv || t.sent < p.sent) continue;
    recv += t.recv - p.recv;
    sent += t.sent - p.sent;
  }
  const rxBps = (recv * 8 * 1000) / dtMs;
  const txBps = (sent * 8 * 1000) / dtMs;
  if (rxBps > MAX_PLAUSIBLE_BPS || txBps > MAX_PLAUSIBLE_BPS) return null;
  return { rxBps, txBps };
}
