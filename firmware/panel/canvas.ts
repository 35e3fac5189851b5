import Oled from 'oled-i2c-bus';
import font5x7 from 'oled-font-5x7';
import { Framebuffer } from '../../drivers/ssd1306/framebuffer.js';

/** oled-i2c-bus writes to its bus in the constructor; off-screen, the writes go nowhere. */
const nowhere = { i2cWriteSync: () => 0, i2cReadSync: () => 0 };

export const CHAR_W = 6; // 5 columns of glyph and 1 of spacing
export const CHAR_H = 8;

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

  /** Text in the 5x7 font; `size` scales each pixel (2 gives 10x14 digits, readable at arm's length). */
  text(x: number, y: number, text: string, size = 1, colour: 0 | 1 = 1): this {
    // oled-i2c-bus draws glyph bits as they are and ignores the colour; dark text is lit text inverted.
    const w = Canvas.textWidth(text, size);
    const h = font5x7.height * size;
    if (colour === 0) this.fillRect(x, y, w, h, 0);
    this.oled.setCursor(x, y);
    this.oled.writeString(font5x7, size, text, 1, false, false);
    this.oled.dirtyBytes = []; // only its bus path reads these, and the list grows with every pixel
    if (colour === 0) this.invertRect(x, y, w, h);
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
