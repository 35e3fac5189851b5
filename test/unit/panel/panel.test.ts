import { afterEach, describe, expect, it, vi } from 'vitest';
import { EmulatedI2cBus } from '../../../drivers/i2c/emulated-bus.js';
import { Ssd1306 } from '../../../drivers/ssd1306/driver.js';
import { Ssd1306Model } from '../../../drivers/ssd1306/emulator.js';
import { shiftFrame } from '../../../firmware/panel/burn-in.js';
import { cyclePages, initialCycle, nextPage } from '../../../firmware/panel/page-cycle.js';
import { DEFAULT_BURN_IN, Panel } from '../../../firmware/panel/panel.js';
import type { PanelInput } from '../../../firmware/panel/panel-input.js';
import { renderPage } from '../../../firmware/panel/pages/index.js';
import { sampleInput } from '../../../firmware/panel/sample-input.js';
import { statusLook } from '../../../firmware/panel/status-look.js';
import { compact, duration } from '../../../firmware/panel/format.js';

afterEach(() => {
  vi.useRealTimers();
});

const PERIOD = 8000;
const noAlerts = (): PanelInput => ({ ...sampleInput('mixed'), alerts: [] });

describe('page cycle', () => {
  it('shows the overview, each board that is not off, and the rewards in turn', () => {
    const input = noAlerts();
    expect(cyclePages(input)).toEqual([
      'overview',
      'board:1',
      'board:2',
      'board:3',
      'board:4',
      'board:5',
      'board:6',
      'board:7',
      'rewards',
    ]);
    let s = initialCycle(0);
    const seen: string[] = [];
    for (let t = 0; t < 10 * PERIOD; t += 1000) {
      s = nextPage(s, input, t, { periodMs: PERIOD, pinned: null });
      if (seen.at(-1) !== s.page) seen.push(s.page);
    }
    expect(seen).toEqual([...cyclePages(input), 'overview']);
  });

  it('pre-empts the cycle with the alerts page when a new alert appears, then resumes', () => {
    const quiet = noAlerts();
    const loud = sampleInput('mixed');
    let s = nextPage(initialCycle(0), quiet, 0, { periodMs: PERIOD, pinned: null });
    s = nextPage(s, quiet, 3000, { periodMs: PERIOD, pinned: null });
    expect(s.page).toBe('overview');
    s = nextPage(s, loud, 4000, { periodMs: PERIOD, pinned: null });
    expect(s.page).toBe('alerts');
    s = nextPage(s, loud, 4000 + PERIOD - 1, { periodMs: PERIOD, pinned: null });
    expect(s.page).toBe('alerts');
    s = nextPage(s, loud, 4000 + PERIOD, { periodMs: PERIOD, pinned: null });
    expect(s.page).toBe('overview');
  });

  it('keeps a pinned page, except for one period when a new alert appears', () => {
    const pinned = 'board:2' as const;
    let s = nextPage(initialCycle(0), noAlerts(), 0, { periodMs: PERIOD, pinned });
    s = nextPage(s, noAlerts(), 5 * PERIOD, { periodMs: PERIOD, pinned });
    expect(s.page).toBe('board:2');
    s = nextPage(s, sampleInput('mixed'), 6 * PERIOD, { periodMs: PERIOD, pinned });
    expect(s.page).toBe('alerts');
    s = nextPage(s, sampleInput('mixed'), 7 * PERIOD, { periodMs: PERIOD, pinned });
    expect(s.page).toBe('board:2');
  });
});

describe('status looks and formats', () => {
  it('maps a status the panel does not know to a dashed cell with its first letters', () => {
    expect(statusLook('rebooting')).toEqual({ label: 'REB?', style: 'dashed', word: 'REBOOTING' });
    expect(statusLook('toString').label).toBe('TOS?'); // not an inherited property of the table
    expect(statusLook('quarantined').style).toBe('hatched');
  });

  it('fits figures in three characters, as precisely as they fit', () => {
    expect([0.42, 0.8, 1.234, 12.3, 123.4, 1234, 0, undefined].map((v) => compact(v))).toEqual([
      '.42',
      '0.8',
      '1.2',
      '12',
      '123',
      '1k2',
      '0',
      '--',
    ]);
    expect([45, 723, 18_420, 273_600].map(duration)).toEqual(['45s', '12m03s', '5h07m', '3d04h']);
  });
});

function rig(height: 64 | 32 = 64) {
  vi.useFakeTimers({ now: Date.UTC(2023, 10, 14, 12) });
  const bus = new EmulatedI2cBus();
  const model = new Ssd1306Model(128, height);
  bus.attach(0x3c, model);
  const driver = new Ssd1306(bus, { height });
  let input = noAlerts();
  const panel = new Panel(driver, () => input, {
    pagePeriodMs: PERIOD,
    refreshMs: 1000,
    burnIn: DEFAULT_BURN_IN,
    utcOffsetMin: () => 0,
  });
  return { bus, model, driver, panel, set: (next: PanelInput) => (input = next) };
}

describe('front panel service', () => {
  it('puts the current page on the glass, shifted by the burn-in plan', async () => {
    const { panel, model } = rig();
    await panel.refresh();
    const { plan } = panel.state();
    expect(model.picture().equals(shiftFrame(renderPage('overview', noAlerts(), 0), plan.dx, plan.dy))).toBe(
      true,
    );
    expect(panel.snapshot()!.equals(model.picture())).toBe(true);
    await panel.stop();
  });

  it('pins a page for the console and refuses a page that does not exist', async () => {
    const { panel } = rig();
    panel.start();
    expect(panel.pin('board3')).toEqual({ ok: true, message: 'panel pinned to board:3' });
    await vi.advanceTimersByTimeAsync(5 * PERIOD);
    expect(panel.state().page).toBe('board:3');
    expect(panel.pin('board:9').message).toMatch(
      /^no page "board:9"; pages are overview, board:1, .*alerts$/,
    );
    expect(panel.pin(null).ok).toBe(true);
    await vi.advanceTimersByTimeAsync(PERIOD);
    expect(panel.state().page).not.toBe('board:3');
    await panel.stop();
  });

  it('dims, switches off and on for the owner, through the driver registers', async () => {
    const { panel, model } = rig();
    panel.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(model.reg.contrast).toBe(DEFAULT_BURN_IN.contrast);
    panel.dim();
    await vi.advanceTimersByTimeAsync(1000);
    expect(model.reg.contrast).toBe(DEFAULT_BURN_IN.dimContrast);
    panel.off();
    await vi.advanceTimersByTimeAsync(1000);
    expect(model.reg.displayOn).toBe(false);
    panel.on();
    await vi.advanceTimersByTimeAsync(1000);
    expect(model.reg).toMatchObject({ displayOn: true, contrast: DEFAULT_BURN_IN.contrast });
    await panel.stop();
  });

  it('dims by itself after the idle time, and brightens when a new alert appears', async () => {
    const { panel, model, set } = rig();
    panel.start();
    await vi.advanceTimersByTimeAsync(DEFAULT_BURN_IN.dimAfterIdleS * 1000 + 1000);
    expect(model.reg.contrast).toBe(DEFAULT_BURN_IN.dimContrast);
    set(sampleInput('mixed'));
    await vi.advanceTimersByTimeAsync(1000);
    expect(model.reg.contrast).toBe(DEFAULT_BURN_IN.contrast);
    expect(panel.state().page).toBe('alerts');
    await panel.stop();
  });

  it('shows a 64-line page on a 32-line panel as its top half, then its bottom half', async () => {
    const { panel, model } = rig(32);
    panel.pin('overview');
    await vi.advanceTimersByTimeAsync(0);
    const { plan } = panel.state();
    const full = shiftFrame(renderPage('overview', noAlerts(), 0), plan.dx, plan.dy);
    expect(Buffer.from(model.picture().bytes).toString('hex')).toBe(
      Buffer.from(full.bytes.subarray(0, 512)).toString('hex'),
    );
    await vi.advanceTimersByTimeAsync(PERIOD / 2);
    await panel.refresh();
    expect(Buffer.from(model.picture().bytes).toString('hex')).toBe(
      Buffer.from(full.bytes.subarray(512)).toString('hex'),
    );
    await panel.stop();
  });
});
