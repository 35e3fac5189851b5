// The UTC days configs name (a version floor's date): parsed strictly, a day that does not exist refused.
/** A UTC day as configs write it, `2026-05-22`: its midnight in ms, or null for anything else. */
export function parseUtcDate(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  // Date.UTC rolls 2026-02-30 over into March: a day that does not exist is refused, not moved.
  return new Date(ms).toISOString().slice(0, 10) === text ? ms : null;
}

/** The UTC day of an instant, as `2026-05-22`. */
export function utcDateText(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
