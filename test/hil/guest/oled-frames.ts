import type { BoxView } from '../../../firmware/supervisor/view.js';

/** The two overview pictures the OLED tests and the bench draw: a box coming up, then only figures change. */
export function fixedView(upTo: number): BoxView {
  return {
    at: 0,
    boards: Array.from({ length: 8 }, (_, i) => ({
      board: i + 1,
      role: i === 0 ? ('manager' as const) : ('worker' as const),
      status: i < upTo ? ('up' as const) : i === 7 ? ('failed' as const) : ('booting' as const),
      forS: 30 + i,
    })),
  };
}

/** A full first frame (4 boards up), then a figures-only refresh (6 up). */
export const FRAMES = [fixedView(4), fixedView(6)];
