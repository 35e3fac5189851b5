// Runs inside the QEMU guest: the firmware's SSD1306 driver over i2c-bus on /dev/i2c-0 draws the overview page
// twice (a full frame, then a figures-only refresh) and reports the bytes it counted and what it logged.
import { setTimeout as sleep } from 'node:timers/promises';
import { openI2cBus } from '../../../drivers/i2c/bus.js';
import { MemoryLogger } from '../../../drivers/logger.js';
import { Ssd1306 } from '../../../drivers/ssd1306/driver.js';
import { panelInputFromView } from '../../../firmware/panel/panel-input.js';
import { renderOverview } from '../../../firmware/panel/pages/overview.js';
import { FRAMES } from './oled-frames.js';

const bus = await openI2cBus(0);
// One run per address given: the panel's, then (for the fault path) one where nothing answers.
for (const arg of process.argv.slice(2)) {
  const address = Number(arg);
  const logger = new MemoryLogger();
  // Every attempt the driver makes, with its time, so the host can see the backoff between retries.
  const attempts: number[] = [];
  const counted = {
    i2cWrite: (a: number, n: number, b: Buffer) => {
      attempts.push(Math.round(performance.now()));
      return bus.i2cWrite(a, n, b);
    },
    close: () => Promise.resolve(),
  };
  const driver = new Ssd1306(counted, { address, height: 64, logger, retryMinMs: 200, retryMaxMs: 800 });
  const bytes: number[] = [];
  for (const [i, view] of FRAMES.entries()) {
    console.log(`RIG-MARK ${arg}-frame-${i}`);
    const before = driver.bytesSent;
    await driver.show(renderOverview(panelInputFromView(view)));
    bytes.push(driver.bytesSent - before);
  }
  // A panel that does not answer is retried with backoff; give it a few rounds.
  if (driver.isFaulted) await sleep(2500);
  const faulted = driver.isFaulted;
  await driver.close();
  console.log(`RIG-JSON oled-${arg} ${JSON.stringify({ bytes, faulted, log: logger.lines, attempts })}`);
}
await bus.close();
