import { Framebuffer } from '../../drivers/ssd1306/framebuffer.js';

/** Minutes of the local day, start inclusive, end exclusive; a range may run past midnight. */
export interface DayRange {
  startMin: number;
  endMin: number;
}

export interface BurnInConfig {
  /** Largest sideways shift of the whole picture in pixels (0 = none); up and down it moves at most 1. */
  shiftPx: number;
  shiftPeriodS: number;
  /** How long one layout variant stays before the page bands swap places. */
  layoutPeriodS: number;
  contrast: number;
  dimContrast: number;
  /** Dim after this long without owner activity or a new alert; 0 never. */
  dimAfterIdleS: number;
  nightHours: DayRange | null;
  blankHours: DayRange | null;
}

export interface BurnInContext {
  /** When the panel started: the shift and layout schedule count from here. */
  startedAt: number;
  /** The last owner activity (console key, pin) or new alert. */
  lastActivityAt: number;
  /** Local time minus UTC in minutes (what `-new Date().getTimezoneOffset()` gives). */
  utcOffsetMin: number;
  /** Alerts are up: the panel does not blank, whatever the schedule. */
  alertActive: boolean;
}

export interface BurnInPlan {
  dx: number;
  dy: number;
  variant: 0 | 1;
  contrast: number;
  displayOn: boolean;
  /** Why the panel is as it is, for the console. */
  reason: 'normal' | 'idle' | 'night' | 'blank';
}

/**
 * The positions the picture visits, one pixel at a time (a path through every offset within `shiftPx` across
 * and 1 up or down; only the return to the start may jump). Every position gets the same
 * time, so wear spreads evenly.
 */
export function shiftOrbit(shiftPx: number): { dx: number; dy: number }[] {
  const sx = Math.max(0, Math.floor(shiftPx));
  const sy = Math.min(1, sx);
  const total = (2 * sx + 1) * (2 * sy + 1);
  const path: { dx: number; dy: number }[] = [];
  const seen = new Set<string>();
  const steps = [
    [1, 0],
    [0, -1],
    [-1, 0],
    [0, 1],
  ] as const;
  // Depth-first search for a path through all of at most 15 cells: instant, and the same path every time.
  const walk = (): boolean => {
    if (path.length === total) return true;
    const { dx, dy } = path[path.length - 1]!;
    for (const [ax, ay] of steps) {
      const next = { dx: dx + ax, dy: dy + ay };
      const key = `${next.dx},${next.dy}`;
      if (Math.abs(next.dx) > sx || Math.abs(next.dy) > sy || seen.has(key)) continue;
      seen.add(key);
      path.push(next);
      if (walk()) return true;
      path.pop();
      seen.delete(key);
    }
    return false;
  };
  // A path through every cell alternates the cells' two colours of a chessboard; from the centre of a 5x3 grid
  // there is none (7 cells of its colour, 8 of the other), so it starts next to the centre.
  for (const start of [
    { dx: 0, dy: 0 },
    { dx: 1, dy: 0 },
  ]) {
    path.splice(0, path.length, start);
    seen.clear();
    seen.add(`${start.dx},${start.dy}`);
    if (walk()) break;
  }
  return path.map((p) => ({ dx: p.dx + 0, dy: p.dy + 0 }));
}

function minuteOfDay(now: number, utcOffsetMin: number): number {
  const m = Math.floor(now / 60_000) + utcOffsetMin;
  return ((m % 1440) + 1440) % 1440;
}

export function inDayRange(minute: number, r: DayRange | null): boolean {
  if (!r || r.startMin === r.endMin) return false;
  return r.startMin < r.endMin
    ? minute >= r.startMin && minute < r.endMin
    : minute >= r.startMin || minute < r.endMin;
}

/**
 * What burn-in care asks of the panel at `now`: where the picture sits, which layout variant, how bright, and
 * whether it is on. Pure: a test drives it with any clock.
 */
export function burnInPlan(now: number, config: BurnInConfig, ctx: BurnInContext): BurnInPlan {
  const elapsed = Math.max(0, now - ctx.startedAt);
  const orbit = shiftOrbit(config.shiftPx);
  const step = Math.floor(elapsed / (Math.max(1, config.shiftPeriodS) * 1000));
  const { dx, dy } = orbit[step % orbit.length]!;
  const variant = (Math.floor(elapsed / (Math.max(1, config.layoutPeriodS) * 1000)) % 2) as 0 | 1;
  const minute = minuteOfDay(now, ctx.utcOffsetMin);
  const base = { dx, dy, variant };
  if (inDayRange(minute, config.blankHours) && !ctx.alertActive) {
    return { ...base, contrast: config.dimContrast, displayOn: false, reason: 'blank' };
  }
  if (inDayRange(minute, config.nightHours)) {
    return { ...base, contrast: config.dimContrast, displayOn: true, reason: 'night' };
  }
  const idle = config.dimAfterIdleS > 0 && now - ctx.lastActivityAt >= config.dimAfterIdleS * 1000;
  if (idle && !ctx.alertActive)
    return { ...base, contrast: config.dimContrast, displayOn: true, reason: 'idle' };
  return { ...base, contrast: config.contrast, displayOn: true, reason: 'normal' };
}

/** Moves the whole picture by (dx, dy); what moves off the glass is dropped, what comes in is dark. */
export function shiftFrame(fb: Framebuffer, dx: number, dy: number): Framebuffer {
  if (dx === 0 && dy === 0) return fb;
  const out = new Framebuffer(fb.width, fb.height);
  for (let y = 0; y < fb.height; y++) {
    const sy = y - dy;
    if (sy < 0 || sy >= fb.height) continue;
    for (let x = 0; x < fb.width; x++) {
      const sx = x - dx;
      if (sx >= 0 && sx < fb.width && fb.getPixel(sx, sy)) out.setPixel(x, y, true);
    }
  }
  return out;
}

/** Reads `HH:MM-HH:MM` (or an empty string for none) into a day range. */
export function parseDayRange(text: string): DayRange | null {
  if (text.trim() === '') return null;
  const m = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(text.trim());
  if (!m) throw new Error(`expected HH:MM-HH:MM, got ${JSON.stringify(text)}`);
  const [h0, m0, h1, m1] = m.slice(1).map(Number) as [number, number, number, number];
  if (h0 > 23 || h1 > 23 || m0 > 59 || m1 > 59) throw new Error(`not a time of day: ${JSON.stringify(text)}`);
  return { startMin: h0 * 60 + m0, endMin: h1 * 60 + m1 };
}

/** The `[panel]` config keys that burn-in care reads. */
export interface PanelBurnInKeys {
  shift_px: number;
  shift_period_s: number;
  layout_period_s: number;
  contrast: number;
  dim_contrast: number;
  dim_after_idle_s: number;
  night_hours: string;
  blank_hours: string;
}

export function burnInConfigFrom(panel: PanelBurnInKeys): BurnInConfig {
  return {
    shiftPx: panel.shift_px,
    shiftPeriodS: panel.shift_period_s,
    layoutPeriodS: panel.layout_period_s,
    contrast: panel.contrast,
    dimContrast: panel.dim_contrast,
    dimAfterIdleS: panel.dim_after_idle_s,
    nightHours: parseDayRange(panel.night_hours),
    blankHours: parseDayRange(panel.blank_hours),
  };
}
