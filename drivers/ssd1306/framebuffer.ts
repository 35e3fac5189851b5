import { PNG } from 'pngjs';

/**
 * A monochrome picture in the SSD1306's own memory layout: `height/8` pages of `width` bytes, each byte a
 * column of 8 pixels with the least significant bit on top. Keeping the device layout end to end means a
 * frame goes to the bus without conversion and a changed span is a plain byte range.
 */
export class Framebuffer {
  readonly bytes: Uint8Array;

  constructor(
    readonly width = 128,
    readonly height = 64,
    bytes?: Uint8Array,
  ) {
    if (height % 8 !== 0) throw new Error(`framebuffer height must be a multiple of 8, got ${height}`);
    this.bytes = bytes ?? new Uint8Array((width * height) / 8);
    if (this.bytes.length !== (width * height) / 8)
      throw new Error('framebuffer size does not match its dimensions');
  }

  get pages(): number {
    return this.height / 8;
  }

  getPixel(x: number, y: number): boolean {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return false;
    return ((this.bytes[(y >> 3) * this.width + x]! >> (y & 7)) & 1) === 1;
  }

  setPixel(x: number, y: number, on: boolean): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y >> 3) * this.width + x;
    if (on) this.bytes[i]! |= 1 << (y & 7);
    else this.bytes[i]! &= ~(1 << (y & 7));
  }

  clone(): Framebuffer {
    return new Framebuffer(this.width, this.height, this.bytes.slice());
  }

  equals(other: Framebuffer): boolean {
    return (
      this.width === other.width &&
      this.height === other.height &&
      Buffer.from(this.bytes).equals(other.bytes)
    );
  }

  litCount(): number {
    let n = 0;
    for (const b of this.bytes) for (let v = b; v; v &= v - 1) n++;
    return n;
  }
}

export interface PngOptions {
  /** Pixels per panel pixel; 1 gives an exact image for golden comparisons. */
  scale?: number;
  /** 0..1 brightness of a lit pixel, so a dimmed panel looks dimmed in the picture. */
  brightness?: number;
}

const LIT = [0x9e, 0xe6, 0xff]; // the blue-white of a typical SSD1306 module
const DARK = [0x06, 0x08, 0x0c];

/** Renders a framebuffer as a PNG, lit pixels in the panel's colour. */
export function framebufferToPng(fb: Framebuffer, options: PngOptions = {}): Buffer {
  const scale = options.scale ?? 1;
  const brightness = options.brightness ?? 1;
  const lit = LIT.map((c, i) => Math.round(DARK[i]! + (c - DARK[i]!) * brightness));
  const png = new PNG({ width: fb.width * scale, height: fb.height * scale });
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < png.width; x++) {
      const colour = fb.getPixel(Math.floor(x / scale), Math.floor(y / scale)) ? lit : DARK;
      const o = (y * png.width + x) * 4;
      png.data[o] = colour[0]!;
      png.data[o + 1] = colour[1]!;
      png.data[o + 2] = colour[2]!;
      png.data[o + 3] = 0xff;
    }
  }
  return PNG.sync.write(png);
}

/** Reads a PNG written by `framebufferToPng` (scale 1) back into a framebuffer: any bright pixel is lit. */
export function pngToFramebuffer(data: Buffer): Framebuffer {
  const png = PNG.sync.read(data);
  const fb = new Framebuffer(png.width, png.height);
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < png.width; x++) {
      const o = (y * png.width + x) * 4;
      fb.setPixel(x, y, png.data[o]! + png.data[o + 1]! + png.data[o + 2]! > 3 * 0x40);
    }
  }
  return fb;
}
