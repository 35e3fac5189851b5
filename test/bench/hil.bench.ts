// The bytes the firmware's SSD1306 driver put on a real I2C bus (Debian's armhf kernel, i2c-imx, under QEMU)
// for a full overview frame and a figures-only refresh, beside the simulator's figures for the same frames.
import { EmulatedI2cBus } from '../../drivers/i2c/emulated-bus.js';
import { busTimeMs } from '../../drivers/i2c/bus.js';
import { Ssd1306 } from '../../drivers/ssd1306/driver.js';
import { Ssd1306Model } from '../../drivers/ssd1306/emulator.js';
import { panelInputFromView } from '../../firmware/panel/panel-input.js';
import { renderOverview } from '../../firmware/panel/pages/overview.js';
import { FRAMES } from '../hil/guest/oled-frames.js';
import { busTransactions } from '../hil/i2c-trace.js';
import { rigUnavailable, runInRig } from '../rig/qemu.js';

const NAMES = ['init + full frame', 'figures-only refresh'];

async function simulatorFigures(): Promise<number[][]> {
  const bus = new EmulatedI2cBus();
  bus.attach(0x3c, new Ssd1306Model());
  const driver = new Ssd1306(bus, { height: 64 });
  const perFrame: number[][] = [];
  for (const view of FRAMES) {
    const from = bus.transfers.length;
    await driver.show(renderOverview(panelInputFromView(view)));
    perFrame.push(bus.transfers.slice(from).map((t) => t.bytes.length));
  }
  return perFrame;
}

export default async function (): Promise<void> {
  const why = rigUnavailable('armhf');
  if (why) {
    console.log(`skipped: ${why}`);
    return;
  }
  const result = await runInRig({
    machine: 'sabrelite',
    script: 'node dist/test/hil/guest/oled-draw.js 0x3c',
    modules: ['i2c-imx', 'i2c-dev'],
    qemuArgs: ['-device', 'ssd0303,address=0x3c,bus=i2c-bus.0'],
    trace: ['i2c_*'],
    timeoutMs: 500_000,
  });
  const secondAt = result.lines.find((l) => l.text === 'RIG-MARK 0x3c-frame-1')?.atMs;
  if (result.scriptExit !== 0 || secondAt === undefined) throw new Error('the rig run did not finish');
  const panel = busTransactions(result).filter((t) => t.address === 0x3c);
  const real = [panel.filter((t) => t.atMs < secondAt), panel.filter((t) => t.atMs >= secondAt)].map((ts) =>
    ts.map((t) => t.bytes.length),
  );
  const sim = await simulatorFigures();
  const bytes = (ts: number[]): number => ts.reduce((s, n) => s + n + 1, 0);
  console.log('SSD1306 overview page, bytes incl. one address byte per transaction (sabrelite, i2c-imx):');
  for (const [i, name] of NAMES.entries()) {
    const r = real[i]!;
    const s = sim[i]!;
    console.log(
      `  ${name.padEnd(21)} real bus ${String(bytes(r)).padStart(5)} B in ${r.length} transactions` +
        ` (${busTimeMs(r, 400_000).toFixed(1)} ms at 400 kHz)   simulator ${String(bytes(s)).padStart(5)} B` +
        ` in ${s.length} transactions`,
    );
  }
}
