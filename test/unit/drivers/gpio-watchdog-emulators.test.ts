import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EmulatedGpioChip } from '../../../drivers/gpio/emulated.js';
import { EmulatedWatchdog } from '../../../drivers/watchdog/emulated.js';
import { WDIOF_CARDRESET } from '../../../drivers/watchdog/watchdog.js';

describe('emulated GPIO chip', () => {
  it('applies active-low between the logical value and the pin', async () => {
    const chip = new EmulatedGpioChip();
    const reset = chip.request({ chip: 'gpiochip0', offset: 5, activeLow: true });
    await reset.write(1);
    expect(chip.level(5)).toBe(0);
    expect(await reset.read()).toBe(1);
  });

  it('keeps a line held after its requester closes it, and lets the next one read it back', async () => {
    const chip = new EmulatedGpioChip();
    const first = chip.request({ chip: 'gpiochip0', offset: 2 });
    await first.write(1);
    await first.close();
    const second = chip.request({ chip: 'gpiochip0', offset: 2 });
    expect(await second.read()).toBe(1);
    expect(chip.history.map(([, o, l]) => [o, l])).toEqual([[2, 1]]);
  });

  it('refuses a second request for a held line with EBUSY', () => {
    const chip = new EmulatedGpioChip();
    chip.request({ chip: 'gpiochip0', offset: 1 });
    expect(() => chip.request({ chip: 'gpiochip0', offset: 1 })).toThrow(/EBUSY/);
  });

  it('finds a line by its name and refuses unknown names and offsets', () => {
    const chip = new EmulatedGpioChip('gpiochip0', 4, ['pwr-b2', 'rst-b2']);
    expect(chip.request({ chip: 'gpiochip0', name: 'rst-b2' }).name).toBe('gpiochip0:"rst-b2"');
    expect(() => chip.request({ chip: 'gpiochip0', name: 'pwr-b9' })).toThrow(/no line named "pwr-b9"/);
    expect(() => chip.request({ chip: 'gpiochip0', offset: 7 })).toThrow(/has no line 7/);
  });

  it('tells watchers about every level change and nothing else', () => {
    const chip = new EmulatedGpioChip();
    const seen: number[] = [];
    chip.watch(3, (l) => seen.push(l));
    chip.drive(3, 1);
    chip.drive(3, 1);
    chip.drive(3, 0);
    expect(seen).toEqual([1, 0]);
  });
});

describe('emulated watchdog', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resets the board when nobody pets it within the timeout', async () => {
    const onReset = vi.fn();
    const wd = new EmulatedWatchdog(onReset);
    await wd.open(5);
    vi.advanceTimersByTime(4999);
    expect(onReset).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onReset).toHaveBeenCalledTimes(1);
    expect(await wd.bootStatus()).toBe(WDIOF_CARDRESET);
  });

  it('never resets while it is petted', async () => {
    const onReset = vi.fn();
    const wd = new EmulatedWatchdog(onReset);
    await wd.open(2);
    for (let i = 0; i < 100; i++) {
      vi.advanceTimersByTime(1500);
      await wd.pet();
    }
    expect(onReset).not.toHaveBeenCalled();
    expect(await wd.timeLeft()).toBe(2);
  });

  it('is disarmed by the magic close but keeps counting after a plain close', async () => {
    const onReset = vi.fn();
    const wd = new EmulatedWatchdog(onReset);
    await wd.open(3);
    await wd.close(true);
    vi.advanceTimersByTime(10_000);
    expect(onReset).not.toHaveBeenCalled();
    await wd.open(3);
    await wd.close(false);
    vi.advanceTimersByTime(3000);
    expect(onReset).toHaveBeenCalledTimes(1);
  });

  it('refuses a second open and a timeout out of range', async () => {
    const wd = new EmulatedWatchdog(() => {});
    await expect(wd.open(0)).rejects.toThrow(/EINVAL/);
    await wd.open(10);
    await expect(wd.open(10)).rejects.toThrow(/EBUSY/);
  });
});
