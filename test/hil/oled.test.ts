import { beforeAll, describe, expect, it } from 'vitest';
import { EmulatedI2cBus } from '../../drivers/i2c/emulated-bus.js';
import { Ssd1306 } from '../../drivers/ssd1306/driver.js';
import { Ssd1306Model } from '../../drivers/ssd1306/emulator.js';
import { panelInputFromView } from '../../firmware/panel/panel-input.js';
import { renderOverview } from '../../firmware/panel/pages/overview.js';
import { guestJson, runInRig, type RigResult } from '../rig/qemu.js';
import { FRAMES } from './guest/oled-frames.js';
import { busBytes, busTransactions } from './i2c-trace.js';

interface OledRun {
  bytes: number[];
  faulted: boolean;
  log: string[];
  attempts: number[];
}

/** The simulator's side: the same driver and frames on the emulated bus, with the controller model. */
async function simulated(): Promise<{ bytes: number[]; model: Ssd1306Model }> {
  const bus = new EmulatedI2cBus();
  const model = new Ssd1306Model();
  bus.attach(0x3c, model);
  const driver = new Ssd1306(bus, { height: 64 });
  const bytes: number[] = [];
  for (const view of FRAMES) {
    const before = driver.bytesSent;
    await driver.show(renderOverview(panelInputFromView(view)));
    bytes.push(driver.bytesSent - before);
  }
  return { bytes, model };
}

// One boot of the i.MX6 board: the panel at 0x3C, then the same drawing at 0x3D where nothing answers.
describe('the OLED on a real I2C bus (sabrelite, armhf, i2c-imx)', () => {
  let result: RigResult;
  beforeAll(async () => {
    result = await runInRig({
      machine: 'sabrelite',
      script: 'node dist/test/hil/guest/oled-draw.js 0x3c 0x3d',
      modules: ['i2c-imx', 'i2c-dev'],
      qemuArgs: ['-device', 'ssd0303,address=0x3c,bus=i2c-bus.0'],
      trace: ['i2c_*'],
      timeoutMs: 500_000,
    });
  });

  it('draws the overview page through /dev/i2c-0 so that the bytes on the bus rebuild the simulator picture', async () => {
    const log = result.lines.map((l) => l.text).join('\n');
    expect(result.scriptExit, log).toBe(0);
    const real = guestJson<OledRun>(result, 'oled-0x3c');
    expect(real.faulted).toBe(false);
    expect(real.log).toEqual([]);

    const secondFrameAt = result.lines.find((l) => l.text === 'RIG-MARK 0x3c-frame-1')!.atMs;
    const panel = busTransactions(result).filter((t) => t.address === 0x3c);
    const first = panel.filter((t) => t.atMs < secondFrameAt);
    const model = new Ssd1306Model();
    for (const t of first) model.write(Uint8Array.from(t.bytes));
    expect(model.ram.equals(renderOverview(panelInputFromView(FRAMES[0]!)))).toBe(true);
    for (const t of panel.slice(first.length)) model.write(Uint8Array.from(t.bytes));
    expect(model.ram.equals(renderOverview(panelInputFromView(FRAMES[1]!)))).toBe(true);

    const sim = await simulated();
    expect(model.ram.equals(sim.model.ram)).toBe(true);
    expect(model.reg).toEqual(sim.model.reg);
    // What crossed the real bus is what the driver counted, and what it sends the simulator's panel.
    expect([busBytes(first), busBytes(panel.slice(first.length))]).toEqual(real.bytes);
    expect(real.bytes).toEqual(sim.bytes);
  });

  it("takes the driver's fault path on the kernel's error for an empty address: logged once, retried with backoff, no crash", () => {
    const empty = guestJson<OledRun>(result, 'oled-0x3d');
    expect(empty.faulted).toBe(true);
    expect(empty.bytes).toEqual([0, 0]);
    expect(empty.log).toHaveLength(1);
    expect(empty.log[0]).toMatch(
      /^warn: panel at 0x3d not answering \((ENXIO|ETIMEDOUT|EREMOTEIO)\); retrying/,
    );
    // The first try, then retries at growing gaps (200, 400, 800 ms, capped at 800).
    const gaps = empty.attempts.slice(1).map((t, i) => t - empty.attempts[i]!);
    expect(gaps.length).toBeGreaterThanOrEqual(3);
    expect(gaps[0]).toBeGreaterThanOrEqual(190);
    expect(gaps[1]).toBeGreaterThanOrEqual(390);
    expect(gaps[2]).toBeGreaterThanOrEqual(790);
    expect(busTransactions(result).filter((t) => t.address === 0x3d && t.acked)).toEqual([]);
  });
});
