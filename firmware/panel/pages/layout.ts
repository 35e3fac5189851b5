import { Canvas } from '../canvas.js';

/**
 * Where pages draw: 2 pixels in from the sides and 1 from top and bottom, so that the burn-in pixel shift
 * (up to 2 across, 1 down or up) never pushes anything off the glass.
 */
export const SAFE = { x0: 2, x1: 125, y0: 1, y1: 62 } as const;

/** A horizontal band of a page: its height, the space after it, and how to draw it at a given top. */
export interface Band {
  h: number;
  gap?: number;
  draw(y: number): void;
}

/**
 * Stacks bands from the top of the safe area. Layout variant 1 stacks them in reverse order, so that titles,
 * outlines and labels spend alternate hours on different pixels.
 */
export function stack(bands: Band[], variant: 0 | 1): void {
  const order = variant === 1 ? [...bands].reverse() : bands;
  let y: number = SAFE.y0;
  for (let i = 0; i < order.length; i++) {
    const band = order[i]!;
    band.draw(y);
    // A band's gap belongs between it and its neighbour below in the normal order, whatever the variant.
    const gap = variant === 1 ? (order[i + 1]?.gap ?? 0) : (band.gap ?? 0);
    y += band.h + gap;
  }
}

export const BIG = 2;
export const BIG_H = 14;

/**
 * Places text for one layout variant: in variant 1 every piece of text moves to the mirror-image position
 * across the safe area (its glyphs still read left to right), so left and right columns trade places.
 */
export class Placer {
  constructor(
    readonly c: Canvas,
    readonly variant: 0 | 1,
  ) {}

  /** Where something `w` pixels wide that sits at `x` in variant 0 sits in this variant. */
  x(x: number, w: number): number {
    return this.variant === 1 ? SAFE.x0 + SAFE.x1 - (x + w - 1) : x;
  }

  text(x: number, y: number, text: string, size = 1): this {
    this.c.text(this.x(x, Canvas.textWidth(text, size)), y, text, size);
    return this;
  }

  textRight(right: number, y: number, text: string, size = 1): this {
    return this.text(right - Canvas.textWidth(text, size) + 1, y, text, size);
  }

  /**
   * A key figure: the value in 10x14 digits, its unit above its name in small letters beside it
   * (`23` `%`/`CPU`). Returns the width drawn.
   */
  figure(x: number, y: number, value: string, unit: string, name: string): number {
    this.text(x, y, value, BIG);
    const lx = x + Canvas.textWidth(value, BIG) + 3;
    this.text(lx, y, unit);
    this.text(lx, y + 7, name);
    return lx - x + Math.max(Canvas.textWidth(unit), Canvas.textWidth(name));
  }
}
