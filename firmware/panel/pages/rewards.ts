import type { Framebuffer } from '../../../drivers/ssd1306/framebuffer.js';
import { Canvas } from '../canvas.js';
import { compact, duration, sky } from '../format.js';
import type { PanelInput, RewardFigures } from '../panel-input.js';
import { figure, SAFE, stack } from './layout.js';

/** Reward figures older than this are marked with their age. */
export const STALE_S = 15 * 60;

/**
 * Rewards: estimated SKY per hour and per day in large digits, the wallet balance, and today's uptime per board
 * as bars against the eligibility threshold (a dotted line); a board not on track has a hatched bar.
 */
export function renderRewards(input: PanelInput, variant: 0 | 1 = 0): Framebuffer {
  const c = new Canvas(128, 64);
  const r = input.rewards;
  if (!r) {
    stack(
      [
        { h: 7, gap: 12, draw: (y) => c.text(SAFE.x0, y, 'REWARDS') },
        { h: 14, gap: 8, draw: (y) => c.text(SAFE.x0, y, 'NO DATA', 2) },
        { h: 7, draw: (y) => c.text(SAFE.x0, y, 'WAITING FOR FIGURES') },
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
          c.text(SAFE.x0, y, 'REWARDS');
          const note = r.ageS > STALE_S ? `${duration(r.ageS)} OLD` : estimated ? 'ESTIMATED' : '';
          c.textRight(SAFE.x1, y, note);
        },
      },
      {
        h: 14,
        gap: 4,
        draw: (y) => {
          figure(c, SAFE.x0, y, compact(r.skyPerHour?.value), 'SKY', '/h');
          figure(c, 64, y, compact(r.skyPerDay?.value), 'SKY', '/day');
        },
      },
      {
        h: 7,
        gap: 5,
        draw: (y) =>
          c.text(SAFE.x0, y, r.walletSky === undefined ? 'WALLET --' : `WALLET ${sky(r.walletSky)} SKY`),
      },
      { h: 18, draw: (y) => drawUptimeBars(c, r, y) },
    ],
    variant,
  );
  return c.toFramebuffer();
}

function drawUptimeBars(c: Canvas, r: RewardFigures, y: number): void {
  c.text(SAFE.x0, y + 1, 'UP%');
  c.text(SAFE.x0, y + 10, `>${Math.round(r.thresholdPct)}`);
  const x0 = 24;
  const n = Math.max(1, r.boards.length);
  const pitch = Math.floor((SAFE.x1 - x0 + 1) / n);
  const barW = Math.max(3, pitch - 3);
  const inner = 10; // bar interior height in pixels, for 0..100 %
  const level = (pct: number) => Math.round((Math.max(0, Math.min(100, pct)) / 100) * inner);
  r.boards.forEach((b, i) => {
    const x = x0 + i * pitch;
    c.rect(x, y, barW, inner + 2);
    const h = level(b.uptimeTodayPct);
    if (b.onTrack) c.fillRect(x + 1, y + 1 + inner - h, barW - 2, h, 1);
    else c.hatchRect(x + 1, y + 1 + inner - h, barW - 2, h, 2);
    c.tinyNumber(x + Math.floor((barW - Canvas.tinyWidth(b.board)) / 2), y + inner + 3, b.board);
  });
  const ty = y + 1 + inner - level(r.thresholdPct);
  c.dottedLine(x0 - 2, x0 + n * pitch - 2, ty);
}
