import font5x7 from 'oled-font-5x7';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EmulatedI2cBus } from '../../../drivers/i2c/emulated-bus.js';
import { MemoryLogger } from '../../../drivers/logger.js';
import {
  initSequence,
  resyncSequence,
  Ssd1306,
  type Ssd1306Options,
} from '../../../drivers/ssd1306/driver.js';
import { Ssd1306Model } from '../../../drivers/ssd1306/emulator.js';
import { Framebuffer } from '../../../drivers/ssd1306/framebuffer.js';

function rig(options: Ssd1306Options = {}) {
  const bus = new EmulatedI2cBus();
  const model = new Ssd1306Model(128, options.height ?? 64);
  bus.attach(0x3c, model);
  const logger = new MemoryLogger();
  const driver = new Ssd1306(bus, { logger, retryMinMs: 10, retryMaxMs: 40, ...options });
  const hex = () => bus.transfers.map((t) => Buffer.from(t.bytes).toString('hex'));
  const since = (n: number) => hex().slice(n);
  return { bus, model, driver, logger, hex, since };
}

/** Draws one 5x7 glyph straight from the font table, independently of the panel's canvas. */
function glyph(fb: Framebuffer, x: number, y: number, ch: string): void {
  const at = font5x7.lookup.indexOf(ch) * font5x7.width;
  for (let col = 0; col < font5x7.width; col++) {
    const bits = font5x7.fontData[at + col]!;
    for (let row = 0; row < font5x7.height; row++) fb.setPixel(x + col, y + row, ((bits >> row) & 1) === 1);
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('SSD1306 driver', () => {
  it('sends the init sequence as one command run, charge pump before display on', async () => {
    const { driver, hex } = rig();
    await driver.show(new Framebuffer());
    expect(hex()[0]).toBe('00' + Buffer.from(initSequence(64, 0xcf)).toString('hex'));
    expect(hex()[0]).toBe('00aed580a83fd300408d142000a1c8da1281cfd9f1db40a4a62eaf');
  });

  it('initialises a 128x32 panel with 32 lines multiplexed and sequential COM pins', async () => {
    const { driver, hex, model } = rig({ height: 32 });
    await driver.show(new Framebuffer(128, 32));
    expect(hex()[0]).toBe('00aed580a81fd300408d142000a1c8da0281cfd9f1db40a4a62eaf');
    expect(hex().slice(1)).toEqual(['0021007f220003', '40' + '00'.repeat(512)]);
    expect(model.reg.displayOn).toBe(true);
  });

  it('sends the first frame whole: one window command and one 1024-byte data run', async () => {
    const { driver, bus, model } = rig();
    const fb = new Framebuffer();
    fb.setPixel(5, 9, true);
    await driver.show(fb);
    const [, window, run] = bus.transfers;
    expect(Buffer.from(window!.bytes).toString('hex')).toBe('0021007f220007');
    expect(run!.bytes.length).toBe(1025);
    expect(run!.bytes[0]).toBe(0x40);
    expect(model.picture().equals(fb)).toBe(true);
  });

  it('sends only the changed span of a later frame', async () => {
    const { driver, bus, model } = rig();
    const fb = new Framebuffer();
    await driver.show(fb);
    const before = bus.transfers.length;
    const next = fb.clone();
    for (let y = 16; y < 23; y++) next.setPixel(40, y, true); // one column of page 2
    await driver.show(next);
    const sent = bus.transfers.slice(before).map((t) => Buffer.from(t.bytes).toString('hex'));
    expect(sent).toEqual(['00212828220202', '407f']);
    expect(model.picture().equals(next)).toBe(true);
  });

  it('sends a one-digit change as one window and the five changed glyph columns', async () => {
    const { driver, since, model } = rig();
    const before = new Framebuffer();
    glyph(before, 34, 8, '1');
    glyph(before, 40, 8, '2');
    await driver.show(before);
    const n = since(0).length;
    const after = before.clone();
    glyph(after, 40, 8, '3');
    await driver.show(after);
    // '2' is 42 61 51 49 46 and '3' is 21 41 45 4b 31 in the 5x7 font: every column of page 1 changes.
    expect(since(n)).toEqual(['002128 2c 220101'.replaceAll(' ', ''), '402141454b31']);
    expect(model.picture().equals(after)).toBe(true);
  });

  it('sends a digit that straddles two pages as one window over both pages', async () => {
    const { driver, since, model } = rig();
    const before = new Framebuffer();
    glyph(before, 40, 4, '2');
    await driver.show(before);
    const n = since(0).length;
    const after = before.clone();
    glyph(after, 40, 4, '3');
    await driver.show(after);
    // Rows 4..10: the low nibble of each column lands in page 0's top half, the rest in page 1.
    const top = [0x21, 0x41, 0x45, 0x4b, 0x31].map((b) => (b << 4) & 0xff);
    const bottom = [0x21, 0x41, 0x45, 0x4b, 0x31].map((b) => b >> 4);
    const run = Buffer.from([0x40, ...top, ...bottom]).toString('hex');
    expect(since(n)).toEqual(['002128 2c 220001'.replaceAll(' ', ''), run]);
    expect(model.picture().equals(after)).toBe(true);
  });

  it('sends nothing when the frame did not change', async () => {
    const { driver, bus } = rig();
    await driver.show(new Framebuffer());
    const before = bus.transfers.length;
    await driver.show(new Framebuffer());
    expect(bus.transfers.length).toBe(before);
  });

  it('keeps only the newest of frames that arrive while one is on the bus', async () => {
    const { driver, model, bus } = rig();
    await driver.show(new Framebuffer());
    const before = bus.transfers.length;
    const frames = [1, 2, 3].map((n) => {
      const fb = new Framebuffer();
      fb.setPixel(n, 0, true);
      return fb;
    });
    await Promise.all(frames.map((f) => driver.show(f)));
    const sent = bus.transfers.slice(before).map((t) => Buffer.from(t.bytes).toString('hex'));
    // Frame 1 was already on the bus; frame 2 was replaced by frame 3 before its turn came.
    expect(sent).toEqual(['00210101220000', '4001', '00210103220000', '40000001']);
    expect(model.picture().equals(frames[2]!)).toBe(true);
  });

  it('logs a missing panel once, and re-initialises and redraws in full when it answers', async () => {
    const { driver, bus, model, logger } = rig();
    bus.setFault('nack');
    const fb = new Framebuffer();
    fb.setPixel(0, 0, true);
    await driver.show(fb);
    expect(driver.isFaulted).toBe(true);
    await new Promise((r) => setTimeout(r, 60)); // two retries at 10 and 20 ms, still failing
    expect(logger.lines.filter((l) => l.includes('not answering'))).toHaveLength(1);
    bus.setFault('none');
    await new Promise((r) => setTimeout(r, 60));
    expect(driver.isFaulted).toBe(false);
    expect(model.reg.displayOn).toBe(true);
    expect(model.picture().equals(fb)).toBe(true);
    expect(logger.lines.at(-1)).toMatch(/answers again/);
  });

  it('sends only the newest contrast, invert and display state, after the frame', async () => {
    const { driver, since, model } = rig();
    await driver.show(new Framebuffer());
    const n = since(0).length;
    const next = new Framebuffer();
    next.setPixel(0, 0, true);
    const done = driver.show(next);
    void driver.setContrast(10);
    void driver.setContrast(20);
    void driver.setInverted(true);
    void driver.setDisplayOn(false);
    await done;
    expect(since(n)).toEqual(['00210000220000', '4001', '008114a7ae']);
    expect(model.reg).toMatchObject({ contrast: 20, inverted: true, displayOn: false });
  });

  it('re-applies contrast, invert and display off in the init sequence after a fault', async () => {
    const { driver, bus, since, model } = rig();
    await driver.show(new Framebuffer());
    await driver.setContrast(0x10);
    await driver.setDisplayOn(false);
    bus.setFault('nack');
    await driver.setInverted(true);
    expect(driver.isFaulted).toBe(true);
    const n = since(0).length;
    bus.setFault('none');
    await vi.waitFor(() => expect(driver.isFaulted).toBe(false));
    const init = Buffer.from([0, ...initSequence(64, 0x10, { displayOn: false, inverted: true })]).toString(
      'hex',
    );
    expect(since(n)[0]).toBe(init);
    expect(init.endsWith('a72eae')).toBe(true);
    expect(model.reg).toMatchObject({ contrast: 0x10, inverted: true, displayOn: false });
  });

  it('gives up on a transfer that never completes, and starts no other until it settles', async () => {
    vi.useFakeTimers();
    const { driver, bus, logger, model } = rig({ transferTimeoutMs: 100 });
    await driver.show(new Framebuffer());
    bus.setFault('hang');
    const fb = new Framebuffer();
    fb.setPixel(3, 3, true);
    const shown = driver.show(fb);
    await vi.advanceTimersByTimeAsync(100);
    await shown; // the caller is never held longer than the timeout
    expect(driver.status).toMatchObject({ faulted: true, lastError: 'ETIMEDOUT, no answer within 100 ms' });
    const attempts = bus.attempts;
    await vi.advanceTimersByTimeAsync(1000); // many retry periods: the hung transfer still holds the bus
    expect(bus.attempts).toBe(attempts);
    bus.setFault('none'); // the adapter gives the transfer up; the next retry goes through
    await vi.advanceTimersByTimeAsync(100);
    expect(driver.isFaulted).toBe(false);
    expect(model.picture().equals(fb)).toBe(true);
    expect(logger.lines.filter((l) => l.includes('not answering'))).toHaveLength(1);
  });

  it('redraws a panel that lost power between two frames at the next resync', async () => {
    let now = 0;
    const { driver, model, since } = rig({ resyncMs: 60_000, now: () => now });
    const fb = new Framebuffer();
    glyph(fb, 10, 10, '7');
    await driver.show(fb);
    model.powerCycle();
    expect(model.picture().litCount()).toBe(0);
    now = 30_000;
    await driver.show(fb);
    expect(model.reg.displayOn).toBe(false); // nothing told the driver yet
    now = 60_000;
    const n = since(0).length;
    await driver.show(fb);
    const sent = since(n);
    // No display-off first: a healthy panel does not blink at a resync.
    expect(sent[0]).toBe('00' + Buffer.from(resyncSequence(64, driver.registers)).toString('hex'));
    expect(sent[0]!.startsWith('00ae')).toBe(false);
    expect(sent.slice(1)).toHaveLength(2);
    expect(sent[2]!.length).toBe(2 * 1025);
    expect(model.picture().equals(fb)).toBe(true);
  });

  it('recovers from a panel that loses power and NACKs, with one warning and a full redraw', async () => {
    const { driver, bus, model, logger, since } = rig();
    const fb = new Framebuffer();
    glyph(fb, 0, 0, '5');
    await driver.show(fb);
    bus.detach(0x3c);
    model.powerCycle();
    await driver.show(fb);
    const changed = fb.clone();
    glyph(changed, 0, 0, '6');
    await driver.show(changed); // queued while faulted: the newest frame wins
    expect(driver.status).toMatchObject({ faulted: true, lastError: 'ENXIO', episodes: 1 });
    const n = since(0).length;
    bus.attach(0x3c, model);
    await vi.waitFor(() => expect(driver.isFaulted).toBe(false));
    const sent = since(n);
    expect(sent[0]!.startsWith('00ae')).toBe(true);
    expect(sent[2]!.length).toBe(2 * 1025);
    expect(model.picture().equals(changed)).toBe(true);
    expect(logger.lines.filter((l) => l.startsWith('warn:'))).toHaveLength(1);
  });
});

describe('SSD1306 driver queueing', () => {
  it('sends a frame queued right after a register change that needed no transfer', async () => {
    const { driver, model } = rig();
    await driver.show(new Framebuffer());
    const fb = new Framebuffer();
    fb.setPixel(9, 9, true);
    void driver.setContrast(0xcf); // unchanged: its pump finds nothing to do
    await driver.show(fb);
    expect(model.picture().equals(fb)).toBe(true);
  });
});
