import { describe, expect, it } from 'vitest';
import { Framebuffer } from '../../../drivers/ssd1306/framebuffer.js';
import {
  burnInPlan,
  parseDayRange,
  shiftFrame,
  shiftOrbit,
  type BurnInConfig,
  type BurnInContext,
} from '../../../firmware/panel/burn-in.js';
import { renderPage } from '../../../firmware/panel/pages/index.js';
import { sampleInput } from '../../../firmware/panel/sample-input.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
/** 2023-11-14 00:00 UTC: a midnight, so that hours of the day are easy to read below. */
const MIDNIGHT = Date.UTC(2023, 10, 14);

const config: BurnInConfig = {
  shiftPx: 2,
  shiftPeriodS: 180,
  layoutPeriodS: 1800,
  contrast: 207,
  dimContrast: 16,
  dimAfterIdleS: 900,
  nightHours: parseDayRange('23:00-07:00'),
  blankHours: null,
};

function ctx(over: Partial<BurnInContext> = {}): BurnInContext {
  const startedAt = MIDNIGHT + 12 * HOUR;
  return { startedAt, lastActivityAt: startedAt, utcOffsetMin: 0, alertActive: false, ...over };
}

describe('burn-in plan', () => {
  it('starts next to the centre, at full contrast, in the first layout', () => {
    const c = ctx();
    expect(burnInPlan(c.startedAt, config, c)).toEqual({
      dx: 1,
      dy: 0,
      variant: 0,
      contrast: 207,
      displayOn: true,
      reason: 'normal',
    });
  });

  it('moves the picture one pixel every shift period, visiting every position within 2 across and 1 up or down', () => {
    const c = ctx({ lastActivityAt: Infinity });
    const seen: string[] = [];
    let prev = { dx: 0, dy: 0 };
    for (let step = 0; step < 15; step++) {
      const p = burnInPlan(c.startedAt + step * 180_000 + 1000, config, c);
      seen.push(`${p.dx},${p.dy}`);
      expect(Math.abs(p.dx) <= 2 && Math.abs(p.dy) <= 1).toBe(true);
      if (step > 0) expect(Math.abs(p.dx - prev.dx) + Math.abs(p.dy - prev.dy)).toBeLessThanOrEqual(1);
      prev = p;
    }
    expect(new Set(seen).size).toBe(15);
    // After a full orbit it starts again.
    expect(burnInPlan(c.startedAt + 15 * 180_000, config, c)).toMatchObject({ dx: 1, dy: 0 });
  });

  it('keeps the picture still when the shift is configured off', () => {
    expect(shiftOrbit(0)).toEqual([{ dx: 0, dy: 0 }]);
  });

  it('swaps the layout variant every layout period', () => {
    const c = ctx({ lastActivityAt: Infinity });
    expect(burnInPlan(c.startedAt + 29 * MIN, config, c).variant).toBe(0);
    expect(burnInPlan(c.startedAt + 31 * MIN, config, c).variant).toBe(1);
    expect(burnInPlan(c.startedAt + 61 * MIN, config, c).variant).toBe(0);
  });

  it('dims after the idle time without owner activity, and brightens on activity', () => {
    const c = ctx();
    expect(burnInPlan(c.startedAt + 14 * MIN, config, c)).toMatchObject({ contrast: 207, reason: 'normal' });
    expect(burnInPlan(c.startedAt + 15 * MIN, config, c)).toMatchObject({ contrast: 16, reason: 'idle' });
    const woken = ctx({ lastActivityAt: c.startedAt + 20 * MIN });
    expect(burnInPlan(c.startedAt + 21 * MIN, config, woken)).toMatchObject({ contrast: 207 });
  });

  it('does not dim for idleness while an alert is up', () => {
    const c = ctx({ alertActive: true });
    expect(burnInPlan(c.startedAt + 2 * HOUR, config, c).reason).toBe('normal');
  });

  it('dims during the night hours, across midnight, in local time', () => {
    const c = ctx({ lastActivityAt: Infinity });
    expect(burnInPlan(MIDNIGHT + 22 * HOUR + 59 * MIN, config, c).reason).toBe('normal');
    expect(burnInPlan(MIDNIGHT + 23 * HOUR, config, c)).toMatchObject({
      reason: 'night',
      contrast: 16,
      displayOn: true,
    });
    expect(burnInPlan(MIDNIGHT + 24 * HOUR + 3 * HOUR, config, c).reason).toBe('night');
    expect(burnInPlan(MIDNIGHT + 24 * HOUR + 7 * HOUR, config, c).reason).toBe('normal');
    // 21:30 UTC is 23:30 at UTC+2: night there.
    expect(burnInPlan(MIDNIGHT + 21.5 * HOUR, config, { ...c, utcOffsetMin: 120 }).reason).toBe('night');
  });

  it('blanks during the blank hours unless an alert is up', () => {
    const blanking = { ...config, blankHours: parseDayRange('01:00-06:00') };
    const c = ctx({ lastActivityAt: Infinity });
    const at = MIDNIGHT + 24 * HOUR + 2 * HOUR;
    expect(burnInPlan(at, blanking, c)).toMatchObject({ displayOn: false, reason: 'blank' });
    expect(burnInPlan(at, blanking, { ...c, alertActive: true })).toMatchObject({
      displayOn: true,
      reason: 'night',
    });
    expect(burnInPlan(MIDNIGHT + 24 * HOUR + 6 * HOUR, blanking, c).displayOn).toBe(true);
  });

  it('reads day ranges and refuses what is not one', () => {
    expect(parseDayRange('')).toBeNull();
    expect(parseDayRange('23:30-06:15')).toEqual({ startMin: 23 * 60 + 30, endMin: 6 * 60 + 15 });
    expect(() => parseDayRange('25:00-06:00')).toThrow(/not a time of day/);
    expect(() => parseDayRange('night')).toThrow(/HH:MM-HH:MM/);
  });

  it('shifts the whole picture, dropping what leaves the glass', () => {
    const fb = new Framebuffer();
    fb.setPixel(0, 0, true);
    fb.setPixel(127, 63, true);
    fb.setPixel(40, 20, true);
    const moved = shiftFrame(fb, 2, -1);
    expect(moved.litCount()).toBe(1);
    expect(moved.getPixel(42, 19)).toBe(true);
  });

  it('keeps no pixel of a pinned page lit for an hour on end, nor for most of a day', () => {
    // Each page pinned for 24 hours with an unchanging input and the default care, sampled at every shift
    // step: the worst case, since the page cycle and changing figures would only help.
    const input = sampleInput('mixed');
    const c = ctx({ lastActivityAt: Infinity });
    for (const page of ['overview', 'board:1', 'rewards', 'alerts'] as const) {
      const variants = [renderPage(page, input, 0), renderPage(page, input, 1)];
      const lit = new Uint16Array(128 * 64);
      const run = new Uint16Array(128 * 64);
      let longest = 0;
      let samples = 0;
      for (let t = c.startedAt; t < c.startedAt + 24 * HOUR; t += 180_000) {
        const p = burnInPlan(t, config, c);
        const fb = shiftFrame(variants[p.variant]!, p.dx, p.dy);
        for (let i = 0; i < 128 * 64; i++) {
          const on = fb.getPixel(i % 128, i >> 7);
          lit[i]! += on ? 1 : 0;
          run[i] = on ? run[i]! + 1 : 0;
          longest = Math.max(longest, run[i]!);
        }
        samples++;
      }
      expect(longest * 3, `${page}: minutes a pixel stayed lit`).toBeLessThan(60);
      expect(Math.max(...lit) / samples, `${page}: share of the day the most-lit pixel was lit`).toBeLessThan(
        0.85,
      );
    }
  });
});
