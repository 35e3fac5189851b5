import { describe, expect, it } from 'vitest';
import { AddressingMode } from '../../../drivers/ssd1306/commands.js';
import { Ssd1306Model } from '../../../drivers/ssd1306/emulator.js';

const cmd = (...bytes: number[]) => Uint8Array.from([0x00, ...bytes]);
const data = (...bytes: number[]) => Uint8Array.from([0x40, ...bytes]);

function lit(): Ssd1306Model {
  const m = new Ssd1306Model();
  m.write(cmd(0x8d, 0x14, 0xa1, 0xc8, 0xaf));
  return m;
}

describe('SSD1306 model', () => {
  it('starts in page addressing mode with the display off', () => {
    const m = new Ssd1306Model();
    expect(m.reg.mode).toBe(AddressingMode.Page);
    expect(m.reg.displayOn).toBe(false);
    expect(m.reg.contrast).toBe(0x7f);
  });

  it('writes horizontally within the column and page window and wraps to its start', () => {
    const m = new Ssd1306Model();
    m.write(cmd(0x20, 0x00, 0x21, 10, 12, 0x22, 2, 3));
    m.write(data(1, 2, 3, 4, 5, 6));
    expect([...m.ram.bytes.subarray(2 * 128 + 10, 2 * 128 + 13)]).toEqual([1, 2, 3]);
    expect([...m.ram.bytes.subarray(3 * 128 + 10, 3 * 128 + 13)]).toEqual([4, 5, 6]);
    expect(m.ram.litCount()).toBe(1 + 1 + 2 + 1 + 2 + 2);
    // The seventh byte wraps back to (column 10, page 2).
    m.write(data(7));
    expect(m.ram.bytes[2 * 128 + 10]).toBe(7);
    expect(m.cursor).toEqual({ column: 11, page: 2 });
  });

  it('writes vertically down the pages first, then moves one column right', () => {
    const m = new Ssd1306Model();
    m.write(cmd(0x20, 0x01, 0x21, 5, 6, 0x22, 0, 2));
    m.write(data(0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 0x1));
    expect([m.ram.bytes[5], m.ram.bytes[128 + 5], m.ram.bytes[256 + 5]]).toEqual([0x1, 0xb, 0xc]);
    expect([m.ram.bytes[6], m.ram.bytes[128 + 6], m.ram.bytes[256 + 6]]).toEqual([0xd, 0xe, 0xf]);
    expect(m.cursor).toEqual({ column: 5, page: 1 });
  });

  it('in page mode takes the column from the nibble commands and wraps within the page', () => {
    const m = new Ssd1306Model();
    m.write(cmd(0xb3, 0x0e, 0x17)); // page 3, column 0x7e
    m.write(data(0x11, 0x22, 0x33));
    expect(m.ram.bytes[3 * 128 + 126]).toBe(0x11);
    expect(m.ram.bytes[3 * 128 + 127]).toBe(0x22);
    expect(m.ram.bytes[3 * 128 + 0]).toBe(0x33);
    expect(m.cursor.page).toBe(3);
  });

  it('ignores the invalid addressing mode 3 and keeps the current one', () => {
    const m = new Ssd1306Model();
    m.write(cmd(0x20, 0x00, 0x20, 0x03));
    expect(m.reg.mode).toBe(AddressingMode.Horizontal);
  });

  it('joins a multi-byte command split across two transactions', () => {
    const m = new Ssd1306Model();
    m.write(cmd(0x81));
    expect(m.reg.contrast).toBe(0x7f);
    m.write(cmd(0x20));
    expect(m.reg.contrast).toBe(0x20);
  });

  it('honours the continuation bit: one byte per control byte, mixing commands and data', () => {
    const m = new Ssd1306Model();
    m.write(Uint8Array.from([0x80, 0xb1, 0x80, 0x04, 0xc0, 0x5a, 0x40, 0x01, 0x02]));
    expect(m.ram.bytes[128 + 4]).toBe(0x5a);
    expect(m.ram.bytes[128 + 5]).toBe(0x01);
    expect(m.ram.bytes[128 + 6]).toBe(0x02);
    expect(m.stats).toEqual({ transactions: 1, commandBytes: 2, dataBytes: 3 });
  });

  it('shows nothing until the charge pump and the display are on', () => {
    const m = new Ssd1306Model();
    m.write(cmd(0x20, 0x00, 0xa1, 0xc8));
    m.write(data(0xff));
    expect(m.picture().litCount()).toBe(0);
    m.write(cmd(0xaf));
    expect(m.picture().litCount()).toBe(0);
    m.write(cmd(0x8d, 0x14));
    expect(m.picture().litCount()).toBe(8);
    m.write(cmd(0xae));
    expect(m.picture().litCount()).toBe(0);
  });

  it('inverts the picture and lights everything on A5 without touching RAM', () => {
    const m = lit();
    m.write(cmd(0x20, 0x00));
    m.write(data(0x01));
    m.write(cmd(0xa7));
    expect(m.picture().litCount()).toBe(128 * 64 - 1);
    m.write(cmd(0xa6, 0xa5));
    expect(m.picture().litCount()).toBe(128 * 64);
    m.write(cmd(0xa4));
    expect(m.picture().getPixel(0, 0)).toBe(true);
    expect(m.ram.litCount()).toBe(1);
  });

  it('mirrors the picture when segment remap or COM scan direction change', () => {
    const m = lit();
    m.write(cmd(0x20, 0x00, 0x21, 0, 127, 0x22, 0, 7));
    m.write(data(0x01)); // RAM pixel (0, 0)
    expect(m.picture().getPixel(0, 0)).toBe(true);
    m.write(cmd(0xa0));
    expect(m.picture().getPixel(127, 0)).toBe(true);
    m.write(cmd(0xa1, 0xc0));
    expect(m.picture().getPixel(0, 63)).toBe(true);
  });

  it('records contrast and derives a brightness that never goes fully dark', () => {
    const m = lit();
    m.write(cmd(0x81, 0x00));
    expect(m.reg.contrast).toBe(0);
    expect(m.brightness()).toBeCloseTo(0.3);
    m.write(cmd(0x81, 0xff));
    expect(m.brightness()).toBeCloseTo(1);
  });

  it('skips the parameters of scroll setup commands instead of reading them as commands', () => {
    const m = lit();
    m.write(cmd(0x26, 0x00, 0x00, 0x00, 0x07, 0x00, 0xff, 0x2f));
    expect(m.reg.scrolling).toBe(true);
    expect(m.reg.displayOn).toBe(true);
    m.write(cmd(0x2e));
    expect(m.reg.scrolling).toBe(false);
  });

  it('models a 128x32 panel with four pages', () => {
    const m = new Ssd1306Model(128, 32);
    m.write(cmd(0x20, 0x00, 0x22, 0, 7));
    expect(m.reg.pageEnd).toBe(3);
    m.write(data(...new Array<number>(128 * 4 + 1).fill(0xff)));
    expect(m.ram.litCount()).toBe(128 * 32);
  });
});
