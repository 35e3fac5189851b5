import { dayStart, utcDay } from './day.js';

/** One board's online time for one UTC day, and the last sample it was built from. */
export interface BoardUptime {
  day: string;
  onlineMs: number;
  /** Our clock at the last sample. */
  lastMs?: number;
  /** The visor's own uptime (seconds since it started) at the last sample. */
  lastUptimeS?: number;
}

export interface UptimeSample {
  nowMs: number;
  online: boolean;
  /** Seconds since the visor started, as the visor reports it; null when unknown. */
  uptimeS: number | null;
}

export interface Accrual {
  next: BoardUptime;
  /** A day that ended between the previous sample and this one, with its final online time. */
  closed?: { day: string; onlineMs: number };
  /** Our clock went backwards: nothing was credited. */
  clockWentBack?: boolean;
}

/**
 * Credits online time between two samples. The visor's own uptime is the witness: it was up for the last
 * (uptime now - uptime before) seconds, or since it restarted, so a gap in our polling, a manager restart or a
 * forward jump of our clock never credits time the visor did not run. Time before midnight goes to the day
 * that ended; an offline or unknown visor earns nothing.
 */
export function accrue(prev: BoardUptime | undefined, sample: UptimeSample): Accrual {
  const { nowMs, online, uptimeS } = sample;
  const today = utcDay(nowMs);
  const midnight = dayStart(nowMs);
  const keep = (onlineMs: number): BoardUptime => ({
    day: today,
    onlineMs,
    lastMs: nowMs,
    ...(uptimeS !== null ? { lastUptimeS: uptimeS } : {}),
  });

  if (prev?.lastMs !== undefined && nowMs < prev.lastMs) {
    return { next: keep(prev.day === today ? prev.onlineMs : 0), clockWentBack: true };
  }

  const windowStart = prev?.lastMs ?? midnight;
  const gap = nowMs - windowStart;
  let credit = 0;
  if (online && uptimeS !== null && uptimeS >= 0) {
    const continuous = prev?.lastUptimeS !== undefined && uptimeS >= prev.lastUptimeS;
    const upMs = (continuous ? uptimeS - prev.lastUptimeS! : uptimeS) * 1000;
    credit = Math.round(Math.max(0, Math.min(gap, upMs)));
  }
  const todayPart = Math.min(credit, nowMs - midnight);
  const beforePart = credit - todayPart;

  if (prev && prev.day !== today) {
    const yesterday = utcDay(midnight - 1);
    const closedMs = prev.onlineMs + (prev.day === yesterday ? beforePart : 0);
    return { next: keep(todayPart), closed: { day: prev.day, onlineMs: closedMs } };
  }
  const base = prev?.day === today ? prev.onlineMs : 0;
  return { next: keep(Math.min(base + todayPart, nowMs - midnight)) };
}
