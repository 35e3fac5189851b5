// oled-i2c-bus and its fonts ship no types; these cover the drawing calls the panel uses off-screen.
declare module 'oled-i2c-bus' {
  interface OledWire {
    i2cWriteSync(address: number, length: number, buffer: Buffer): number;
    i2cReadSync(address: number, length: number, buffer: Buffer): number;
  }
  interface OledOptions {
    width?: number;
    height?: number;
    address?: number;
  }
  export interface OledFont {
    monospace: boolean;
    width: number;
    height: number;
    fontData: number[];
    lookup: string[];
  }
  type Colour = 0 | 1;
  class Oled {
    constructor(wire: OledWire, options: OledOptions);
    buffer: Buffer;
    dirtyBytes: number[];
    setCursor(x: number, y: number): void;
    writeString(
      font: OledFont,
      size: number,
      text: string,
      colour: Colour,
      wrap: boolean,
      sync: boolean,
    ): void;
    drawPixel(pixel: [number, number, Colour], sync: boolean): void;
    drawLine(x0: number, y0: number, x1: number, y1: number, colour: Colour, sync: boolean): void;
    fillRect(x: number, y: number, w: number, h: number, colour: Colour, sync: boolean): void;
    clearDisplay(sync: boolean): void;
    update(): void;
  }
  export default Oled;
}

declare module 'oled-font-5x7' {
  import type { OledFont } from 'oled-i2c-bus';
  const font: OledFont;
  export default font;
}
