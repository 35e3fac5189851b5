import type { Framebuffer } from '../../../drivers/ssd1306/framebuffer.js';
import { Canvas } from '../canvas.js';
import { compact, duration, sky } from '../format.js';
import type { PanelInput, RewardFigures } from '../panel-input.js';
import { Placer, SAFE, stack } from './layout.js';

/** Reward figures older than this are marked with their age. */
export const STALE_S = 15 * 60;

/**
 * Rewards: estimated SKY per hour and per day in large digits, the wallet balance, and today's uptime per board
 * as bars against the eligibility threshold (a dotted line); a board not on track has an empty bar.
 */
export function renderRewards(input: PanelInput, variant: 0 | 1 = 0): Framebuffer {
  const c = new Canvas(128, 64);
  const m = new Placer(c, variant);
  const r = input.rewards;
  if (!r) {
    stack(
      [
        { h: 7, gap: 12, draw: (y) => m.text(SAFE.x0, y, 'REWARDS') },
        { h: 14, gap: 8, draw: (y) => m.text(SAFE.x0, y, 'NO DATA', 2) },
        { h: 7, draw: (y) => m.text(SAFE.x0, y, 'WAITING FOR FIGURES') },
      ],
      variant,
    );
    return c.toFramebuffer();
  }
  const estimated = r.skyPerHour?.estimate || r.skyPerDay?.estimate;
  stack(
    [
      {
        h: 7,
        gap: 4,
        draw: (y) => {
          m.text(SAFE.x0, y, 'REWARDS');
          const note = r.ageS > STALE_S ? `${duration(r.ageS)} OLD` : estimated ? 'ESTIMATED' : '';
          m.textRight(SAFE.x1, y, note);
        },
      },
      {
        h: 14,
        gap: 4,
        draw: (y) => {
          m.figure(SAFE.x0, y, compact(r.skyPerHour?.value), 'SKY', '/h');
          m.figure(64, y, compact(r.skyPerDay?.value), 'SKY', '/day');
        },
      },
      {
        h: 7,
        gap: 5,
        draw: (y) =>
          m.text(SAFE.x0, y, r.walletSky === undefined ? 'WALLET --' : `WALLET ${sky(r.walletSky)} SKY`),
      },
      { h: 18, draw: (y) => drawUptimeBars(m, r, y) },
    ],
    variant,
  );
  return c.toFramebuffer();
}

function drawUptimeBars(m: Placer, r: RewardFigures, y: number): void {
  const c = m.c;
  m.text(SAFE.x0, y + 1, 'UP%');
  m.text(SAFE.x0, y + 10, `>${Math.round(r.thresholdPct)}`);
  // The label trades sides with the bars in the second layout variant.
  const x0 = m.variant === 1 ? SAFE.x0 : 24;
  const n = Math.max(1, r.boards.length);
  const pitch = Math.floor((SAFE.x1 - 24 + 1) / n);
  const barW = Math.max(3, pitch - 3);
  const inner = 10; // bar interior height in pixels, for 0..100 %
  const level = (pct: number) => Math.round((Math.max(0, Math.min(100, pct)) / 100) * inner);
  r.boards.forEach((b, i) => {
    const x = x0 + i * pitch;
    c.rect(x, y, barW, inner + 2);
    const h = level(b.uptimeTodayPct);
    // No solid lit bars: an on-track bar is a checkerboard whose phase flips with the layout variant, so each
    // of its pixels is lit half the time; a board not on track shows only a line at its level.
    if (b.onTrack) c.checkerRect(x + 1, y + 1 + inner - h, barW - 2, h, m.variant);
    else if (h > 0) c.line(x + 1, y + 1 + inner - h, x + barW - 2, y + 1 + inner - h);
    c.tinyNumber(x + Math.floor((barW - Canvas.tinyWidth(b.board)) / 2), y + inner + 3, b.board);
  });
  const ty = y + 1 + inner - level(r.thresholdPct);
  c.dottedLine(Math.max(SAFE.x0, x0 - 2), x0 + n * pitch - 2, ty);
}
