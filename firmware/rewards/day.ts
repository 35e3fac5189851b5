/** Reward days are UTC days: the network counts uptime from 00:00 to 24:00 UTC. */
export const DAY_MS = 86_400_000;

/** Start of the UTC day holding `ms`. */
export function dayStart(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** The UTC day holding `ms`, as YYYY-MM-DD. */
export function utcDay(ms: number): string {
  return new Date(dayStart(ms)).toISOString().slice(0, 10);
}
