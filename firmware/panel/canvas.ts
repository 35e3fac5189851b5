import Oled from 'oled-i2c-bus';
import font5x7 from 'oled-font-5x7';
import { Framebuffer } from '../../drivers/ssd1306/framebuffer.js';

/** oled-i2c-bus writes to its bus in the constructor; off-screen, the writes go nowhere. */
const nowhere = { i2cWriteSync: () => 0, i2cReadSync: () => 0 };

export const CHAR_W = 6; // 5 columns of glyph and 1 of spacing
export const CHAR_H = 8;

/**
 * 3x5 digits for the board numbers inside the overview's cells, where the 5x7 font leaves no room for the
 * status word. One row of 3 bits per line, top line first, most significant bit on the left.
 */
const TINY_DIGITS: Record<string, number[]> = {
  '0': [7, 5, 5, 5, 7],
  '1': [2, 6, 2, 2, 7],
  '2': [7, 1, 7, 4, 7],
  '3': [7, 1, 3, 1, 7],
  '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7],
  '6': [7, 4, 7, 5, 7],
  '7': [7, 1, 2, 2, 2],
  '8': [7, 5, 7, 5, 7],
  '9': [7, 5, 7, 1, 7],
};

/**
 * An off-screen drawing surface in the panel's own memory layout, drawn with oled-i2c-bus's primitives and
 * its 5x7 font, never its bus path. Page renderers draw here; the driver sends the bytes.
 */
export class Canvas {
  private readonly oled: Oled;
  readonly width: number;
  readonly height: number;

  constructor(width = 128, height = 64) {
    this.width = width;
    this.height = height;
    this.oled = new Oled(nowhere, { width, height });
    this.oled.buffer.fill(0);
  }

  /**
   * Text in the 5x7 font; `size` scales each pixel (2 gives 10x14 glyphs, readable at arm's length). Glyphs
   * sit on a pitch of 6*size pixels: oled-i2c-bus's own spacing stays at one pixel whatever the size, which
   * runs big digits together, so each glyph is placed here.
   */
  text(x: number, y: number, text: string, size = 1, colour: 0 | 1 = 1): this {
    // oled-i2c-bus draws glyph bits as they are and ignores the colour; dark text is lit text inverted.
    const w = Canvas.textWidth(text, size);
    const h = font5x7.height * size;
    if (colour === 0) this.fillRect(x, y, w, h, 0);
    [...text].forEach((ch, i) => {
      if (ch === ' ') return;
      this.oled.setCursor(x + i * CHAR_W * size, y);
      this.oled.writeString(font5x7, size, ch, 1, false, false);
    });
    this.oled.dirtyBytes = []; // only its bus path reads these, and the list grows with every pixel
    if (colour === 0) this.invertRect(x, y, w, h);
    return this;
  }

  /** Right-aligned text ending at column `right` (inclusive). */
  textRight(right: number, y: number, text: string, size = 1): this {
    return this.text(right - Canvas.textWidth(text, size) + 1, y, text, size);
  }

  /** Board numbers in the 3x5 digits, 4 pixels a digit. */
  tinyNumber(x: number, y: number, n: number): this {
    [...String(n)].forEach((d, i) => {
      const rows = TINY_DIGITS[d];
      if (!rows) return;
      rows.forEach((bits, row) => {
        for (let col = 0; col < 3; col++) if ((bits >> (2 - col)) & 1) this.pixel(x + i * 4 + col, y + row);
      });
    });
    return this;
  }

  static tinyWidth(n: number): number {
    return String(n).length * 4 - 1;
  }

  pixel(x: number, y: number, on = true): this {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return this;
    const i = (y >> 3) * this.width + x;
    if (on) this.oled.buffer[i]! |= 1 << (y & 7);
    else this.oled.buffer[i]! &= ~(1 << (y & 7));
    return this;
  }

  invertRect(x: number, y: number, w: number, h: number): this {
    const buf = this.oled.buffer;
    for (let px = Math.max(0, x); px < Math.min(this.width, x + w); px++) {
      for (let py = Math.max(0, y); py < Math.min(this.height, y + h); py++) {
        buf[(py >> 3) * this.width + px]! ^= 1 << (py & 7);
      }
    }
    return this;
  }

  fillRect(x: number, y: number, w: number, h: number, colour: 0 | 1 = 1): this {
    if (w <= 0 || h <= 0) return this;
    this.oled.fillRect(x, y, w, h, colour, false);
    this.oled.dirtyBytes = [];
    return this;
  }

  rect(x: number, y: number, w: number, h: number): this {
    this.line(x, y, x + w - 1, y).line(x, y + h - 1, x + w - 1, y + h - 1);
    return this.line(x, y, x, y + h - 1).line(x + w - 1, y, x + w - 1, y + h - 1);
  }

  /** An outline of every other pixel: a state on its way somewhere (booting, recovering). */
  dashedRect(x: number, y: number, w: number, h: number): this {
    for (let px = x; px < x + w; px++) {
      if ((px - x) % 2 === 0) this.pixel(px, y).pixel(px, y + h - 1);
    }
    for (let py = y; py < y + h; py++) {
      if ((py - y) % 2 === 0) this.pixel(x, py).pixel(x + w - 1, py);
    }
    return this;
  }

  /** Diagonal lines every `step` pixels inside a rectangle: a board set aside (quarantined). */
  hatchRect(x: number, y: number, w: number, h: number, step = 3): this {
    for (let px = x; px < x + w; px++) {
      for (let py = y; py < y + h; py++) if ((px + py) % step === 0) this.pixel(px, py);
    }
    return this;
  }

  /** Every other pixel of a rectangle, in one of the two phases of a checkerboard. */
  checkerRect(x: number, y: number, w: number, h: number, phase: 0 | 1 = 0): this {
    for (let px = x; px < x + w; px++) {
      for (let py = y; py < y + h; py++) if ((px + py + phase) % 2 === 0) this.pixel(px, py);
    }
    return this;
  }

  /**
   * A dotted horizontal line, one pixel in `step`, each dot flipping what is under it: marks a threshold
   * across lit bars and dark gaps alike, without a solid lit line.
   */
  dottedLine(x0: number, x1: number, y: number, step = 2): this {
    for (let x = x0; x <= x1; x += step) this.invertRect(x, y, 1, 1);
    return this;
  }

  line(x0: number, y0: number, x1: number, y1: number, colour: 0 | 1 = 1): this {
    this.oled.drawLine(x0, y0, x1, y1, colour, false);
    this.oled.dirtyBytes = [];
    return this;
  }

  /** Pixel width of a string at a size, for right-aligning figures. */
  static textWidth(text: string, size = 1): number {
    return text.length * CHAR_W * size - size;
  }

  toFramebuffer(): Framebuffer {
    return new Framebuffer(this.width, this.height, new Uint8Array(this.oled.buffer));
  }
}
