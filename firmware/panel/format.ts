/** Number formats for the panel: short, with the unit said separately, so a figure keeps its place. */

/**
 * A value in at most `chars` characters, as precise as fits, without trailing zeros: 0.42 -> ".42",
 * 0.8 -> "0.8", 1.234 -> "1.2", 12.3 -> "12", 1234 -> "1k2" (3 characters; `k` for thousands).
 */
export function compact(value: number | undefined, chars = 3): string {
  if (value === undefined || !Number.isFinite(value)) return '--';
  const v = Math.max(0, value);
  for (let decimals = chars - 1; decimals >= 0; decimals--) {
    let s = v.toFixed(decimals);
    if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
    if (s.length <= chars) return s;
    if (s.startsWith('0.') && s.length - 1 <= chars) return s.slice(1);
  }
  if (v < 10_000) return `${Math.floor(v / 1000)}k${Math.floor((v % 1000) / 100)}`;
  if (v < 1_000_000) return `${Math.round(v / 1000)}k`;
  return '9'.repeat(chars) + '+';
}

/** A percentage as a whole number, clamped to 0..100. */
export function percent(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '--';
  return String(Math.round(Math.max(0, Math.min(100, value))));
}

/** A byte rate with its unit, both rates of a pair in one unit so that they compare at a glance. */
export function rateUnit(...rates: (number | undefined)[]): { unit: string; divisor: number } {
  const top = Math.max(0, ...rates.filter((r): r is number => r !== undefined && Number.isFinite(r)));
  if (top >= 999_500) return { unit: 'MB/s', divisor: 1e6 };
  return { unit: 'kB/s', divisor: 1e3 };
}

export function rate(value: number | undefined, divisor: number): string {
  return value === undefined ? '--' : compact(value / divisor);
}

/** Bytes in GB with one decimal under 10 (`0.8`, `3.1`, `12`). */
export function gigabytes(bytes: number | undefined): string {
  return bytes === undefined ? '--' : compact(bytes / 1e9);
}

/** Uptime as the two largest units: `45s`, `12m03s`, `5h07m`, `3d04h`. */
export function duration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.floor(seconds);
  const two = (n: number) => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${two(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d${two(Math.floor((s % 86_400) / 3600))}h`;
}

/** A wallet balance: whole SKY above 1000, otherwise one decimal. */
export function sky(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '--';
  return value >= 1000 ? String(Math.round(value)) : value.toFixed(1);
}
