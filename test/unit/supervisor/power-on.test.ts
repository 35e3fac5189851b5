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

describe('operators and the power-on queue', () => {
  it('cancels a queued power-on when the operator switches the board off first', async () => {
    const chip = new EmulatedGpioChip();
    const sup = supervisorOn(chip, 4);
    await sup.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(chip.level(2)).toBe(1);
    // Board 4 waits its turn (at 2 s); the owner switches it off before then.
    expect(await sup.operate(4, 'off', 'test')).toMatchObject({ ok: true });
    await vi.advanceTimersByTimeAsync(5000);
    expect([chip.level(3), chip.level(4)]).toEqual([1, 0]);
    expect(sup.state(4)!.status).toBe('off');
    await sup.stop();
  });

  it('refuses to reset a board without power, saying why, and counts nothing', async () => {
    const chip = new EmulatedGpioChip();
    const lines = new Map<number, BoardLines>([
      [
        2,
        {
          power: chip.request({ chip: chip.label, offset: 2 }),
          reset: chip.request({ chip: chip.label, offset: 12 }),
        },
      ],
    ]);
    const sup = new Supervisor({
      boards: 2,
      lines,
      listen: { host: '127.0.0.1', port: 0 },
      policy: { ...DEFAULT_POLICY, bootTimeoutMs: 60_000 },
      powerOnGapMs: 1000,
      keyFor: () => Buffer.alloc(32, 1),
    });
    await sup.start();
    await vi.advanceTimersByTimeAsync(0);
    await sup.operate(2, 'off', 'test');
    const before = chip.history.length;
    expect(await sup.operate(2, 'reset', 'test')).toEqual({
      ok: false,
      message: 'board 2 has no power: a reset would do nothing; switch it on instead',
    });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(chip.history.length).toBe(before);
    expect(sup.state(2)).toMatchObject({ status: 'off', restarts: [] });
    await sup.stop();
  });
});

describe('the power-on queue on a stalled loop', () => {
  it('never switches two boards on back to back after the loop stalled', async () => {
    // Real time: the stall is a busy loop, which fake timers cannot show. The gap only grows on a slow machine;
    // the margin is for the line written a moment after its turn. Back to back would be a millisecond or two.
    vi.useRealTimers();
    const chip = new EmulatedGpioChip();
    const lines = new Map<number, BoardLines>();
    for (let b = 2; b <= 5; b++) lines.set(b, { power: chip.request({ chip: chip.label, offset: b }) });
    const sup = new Supervisor({
      boards: 5,
      lines,
      listen: { host: '127.0.0.1', port: 0 },
      policy: { ...DEFAULT_POLICY, bootTimeoutMs: 60_000 },
      powerOnGapMs: 100,
      keyFor: () => Buffer.alloc(32, 1),
    });
    await sup.start();
    const until = Date.now() + 350;
    while (Date.now() < until); // the stall
    await new Promise((r) => setTimeout(r, 800));
    const rises = chip.history.filter(([, , level]) => level === 1).map(([t]) => t);
    expect(rises).toHaveLength(4);
    for (let i = 1; i < rises.length; i++) expect(rises[i]! - rises[i - 1]!).toBeGreaterThanOrEqual(80);
    await sup.stop();
  });
});
