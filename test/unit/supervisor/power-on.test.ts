import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EmulatedGpioChip } from '../../../drivers/gpio/emulated.js';
import { EmulatedWatchdog } from '../../../drivers/watchdog/emulated.js';
import { DEFAULT_POLICY } from '../../../firmware/supervisor/board-state.js';
import { Supervisor, type BoardLines } from '../../../firmware/supervisor/supervisor.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

function supervisorOn(chip: EmulatedGpioChip, boards: number, watchdog?: EmulatedWatchdog): Supervisor {
  const lines = new Map<number, BoardLines>();
  for (let b = 2; b <= boards; b++) lines.set(b, { power: chip.request({ chip: chip.label, offset: b }) });
  return new Supervisor({
    boards,
    lines,
    listen: { host: '127.0.0.1', port: 0 },
    policy: { ...DEFAULT_POLICY, bootTimeoutMs: 60_000 },
    powerOnGapMs: 1000,
    keyFor: () => Buffer.alloc(32, 1),
    watchdog: watchdog && { device: watchdog, timeoutS: 2 },
  });
}

describe('supervisor start', () => {
  it('switches unpowered boards on one second apart', async () => {
    const chip = new EmulatedGpioChip();
    const sup = supervisorOn(chip, 4);
    await sup.start();
    await vi.advanceTimersByTimeAsync(0);
    expect([chip.level(2), chip.level(3), chip.level(4)]).toEqual([1, 0, 0]);
    await vi.advanceTimersByTimeAsync(999);
    expect([chip.level(2), chip.level(3), chip.level(4)]).toEqual([1, 0, 0]);
    await vi.advanceTimersByTimeAsync(1);
    expect([chip.level(2), chip.level(3), chip.level(4)]).toEqual([1, 1, 0]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(chip.level(4)).toBe(1);
    await sup.stop();
  });

  it('leaves boards that are already powered alone after its own restart', async () => {
    const chip = new EmulatedGpioChip();
    chip.drive(2, 1);
    chip.drive(4, 1);
    const sup = supervisorOn(chip, 4);
    await sup.start();
    await vi.advanceTimersByTimeAsync(5000);
    // Only board 3 was off; boards 2 and 4 never saw their line move.
    expect(chip.history.map(([, offset, level]) => [offset, level])).toEqual([
      [2, 1],
      [4, 1],
      [3, 1],
    ]);
    expect(sup.view().boards.map((b) => b.status)).toEqual(['booting', 'booting', 'booting', 'booting']);
    await sup.stop();
  });

  it('pets the manager watchdog from its loop, and a stalled loop lets it fire', async () => {
    let fired = 0;
    const watchdog = new EmulatedWatchdog(() => fired++);
    const sup = supervisorOn(new EmulatedGpioChip(), 4, watchdog);
    await sup.start();
    expect(watchdog.isArmed).toBe(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fired).toBe(0);
    // A supervisor that stops ticking (as a hung loop would) stops petting: the watchdog resets the manager.
    await sup.halt();
    await vi.advanceTimersByTimeAsync(2001);
    expect(fired).toBe(1);
  });

  it('disarms the manager watchdog on a clean stop', async () => {
    let fired = 0;
    const watchdog = new EmulatedWatchdog(() => fired++);
    const sup = supervisorOn(new EmulatedGpioChip(), 4, watchdog);
    await sup.start();
    await sup.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fired).toBe(0);
    expect(watchdog.isArmed).toBe(false);
  });
});
