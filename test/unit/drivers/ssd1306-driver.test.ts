import { describe, expect, it } from 'vitest';
import { EmulatedI2cBus } from '../../../drivers/i2c/emulated-bus.js';
import { MemoryLogger } from '../../../drivers/logger.js';
import { initSequence, Ssd1306 } from '../../../drivers/ssd1306/driver.js';
import { Ssd1306Model } from '../../../drivers/ssd1306/emulator.js';
import { Framebuffer } from '../../../drivers/ssd1306/framebuffer.js';

function rig() {
  const bus = new EmulatedI2cBus();
  const model = new Ssd1306Model();
  bus.attach(0x3c, model);
  const logger = new MemoryLogger();
  const driver = new Ssd1306(bus, { logger, retryMinMs: 10, retryMaxMs: 40 });
  const hex = () => bus.transfers.map((t) => Buffer.from(t.bytes).toString('hex'));
  return { bus, model, driver, logger, hex };
}

describe('SSD1306 driver', () => {
  it('sends the init sequence as one command run, charge pump before display on', async () => {
    const { driver, hex } = rig();
    await driver.show(new Framebuffer());
    expect(hex()[0]).toBe('00' + Buffer.from(initSequence(64, 0xcf)).toString('hex'));
    expect(hex()[0]).toBe('00aed580a83fd300408d142000a1c8da1281cfd9f1db40a4a62eaf');
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
});
