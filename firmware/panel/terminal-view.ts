import type { Framebuffer } from '../../drivers/ssd1306/framebuffer.js';

// Quadrant block characters indexed by a 4-bit mask: 1 top-left, 2 top-right, 4 bottom-left, 8 bottom-right.
const QUADRANTS = [' ', '▘', '▝', '▀', '▖', '▌', '▞', '▛', '▗', '▚', '▐', '▜', '▄', '▙', '▟', '█'];

/** Draws a frame as text, two by two pixels per character: 64x32 characters for the 128x64 panel. */
export function frameToBlocks(fb: Framebuffer): string[] {
  const lines: string[] = [];
  for (let y = 0; y < fb.height; y += 2) {
    let line = '';
    for (let x = 0; x < fb.width; x += 2) {
      const mask =
        (fb.getPixel(x, y) ? 1 : 0) |
        (fb.getPixel(x + 1, y) ? 2 : 0) |
        (fb.getPixel(x, y + 1) ? 4 : 0) |
        (fb.getPixel(x + 1, y + 1) ? 8 : 0);
      line += QUADRANTS[mask];
    }
    lines.push(line);
  }
  return lines;
}
