/**
 * Rates from two readings of a cumulative kernel counter. A counter that goes backwards means the board rebooted,
 * a driver's 32-bit counter wrapped, or an interface vanished and came back; none of these may become a negative or
 * absurd figure on the panel, so the rate is `null` with a reason instead.
 */

export type RateReason = 'no-previous' | 'no-time-elapsed' | 'counter-reset' | 'implausible-jump';

export interface Rate {
  /** Units per second, or null when no honest figure exists. */
  value: number | null;
  reason?: RateReason;
  /** Set when the delta was recovered across a 32-bit wrap. */
  wrapped?: boolean;
}

export interface RateLimits {
  /** A rate above this is a counter glitch, not traffic (default: unbounded). */
  maxPerSecond?: number;
  /** Try a 32-bit wrap before calling a backwards step a reset (32-bit kernels' per-driver counters). */
  wrap32?: boolean;
}

const TWO_32 = 2 ** 32;

/** The per-second rate between two readings `dtSeconds` apart. */
export function counterRate(
  prev: number | undefined,
  next: number,
  dtSeconds: number,
  limits: RateLimits = {},
): Rate {
  if (prev === undefined) return { value: null, reason: 'no-previous' };
  if (!(dtSeconds > 0)) return { value: null, reason: 'no-time-elapsed' };
  const max = limits.maxPerSecond ?? Infinity;
  if (next >= prev) {
    const rate = (next - prev) / dtSeconds;
    return rate <= max ? { value: rate } : { value: null, reason: 'implausible-jump' };
  }
  if (limits.wrap32 && prev < TWO_32 && next < TWO_32) {
    const rate = (next + TWO_32 - prev) / dtSeconds;
    // Only a wrap when the recovered rate is believable; otherwise the counter restarted from zero.
    if (rate <= max && Number.isFinite(max)) return { value: rate, wrapped: true };
  }
  return { value: null, reason: 'counter-reset' };
}

/** Plain difference of a counter, or null when it went backwards. */
export function counterDelta(prev: number, next: number): number | null {
  return next >= prev ? next - prev : null;
}
