import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openChardevLine } from '../../../drivers/gpio/chardev.js';
import { openOutputLine } from '../../../drivers/gpio/open.js';
import { listSysfsChips, openSysfsLine, resolveSysfsNumber } from '../../../drivers/gpio/sysfs.js';
import { FakeChardevChip, makeFakeSysfs, makeFakeSysfsLine } from '../../lib/fake-gpio.js';

let dev: string;
let chip: FakeChardevChip;

describe('character-device lines', () => {
  beforeEach(async () => {
    dev = await mkdtemp(join(tmpdir(), 'gpio-dev-'));
    await writeFile(join(dev, 'gpiochip0'), '');
    await writeFile(join(dev, 'watchdog'), '');
    chip = new FakeChardevChip(join(dev, 'gpiochip0'), '9030000.pl061', ['', '', 'pwr-b2']);
  });
  afterEach(() => rm(dev, { recursive: true, force: true }));

  const open = (spec: Parameters<typeof openChardevLine>[0], initial?: 0 | 1) =>
    openChardevLine(spec, { api: chip, devDir: dev }, initial);

  it('adopts a line another process left driven high without touching it, even when asked for low', async () => {
    chip.pins[4] = { output: true, level: 1, name: '' };
    const line = await open({ chip: 'gpiochip0', offset: 4 }, 0);
    expect(await line.read()).toBe(1);
    expect(chip.changes).toEqual([]);
  });

  it('drives a line nobody drives to its initial level in one step', async () => {
    const line = await open({ chip: 'gpiochip0', offset: 1 }, 1);
    expect(chip.pins[1]).toMatchObject({ output: true, level: 1 });
    expect(chip.changes).toEqual([[1, 1]]);
    await line.write(0);
    expect(chip.changes).toEqual([
      [1, 1],
      [1, 0],
    ]);
  });

  it('leaves an undriven line alone until the first write when no initial level is given', async () => {
    const line = await open({ chip: 'gpiochip0', offset: 2 });
    expect(chip.pins[2]!.output).toBe(false);
    await line.write(1);
    expect(chip.changes).toEqual([[2, 1]]);
  });

  it('finds the chip by its label and the line by its name, and inverts an active-low line', async () => {
    const line = await open({ chip: '9030000.pl061', name: 'pwr-b2', activeLow: true }, 1);
    expect(line.name).toBe('9030000.pl061:"pwr-b2" (active-low)');
    expect(chip.pins[2]).toMatchObject({ output: true, level: 0 });
    expect(await line.read()).toBe(1);
  });

  it('keeps the level across a close and a new open (the next supervisor adopts the line)', async () => {
    const first = await open({ chip: 'gpiochip0', offset: 3 }, 1);
    await first.close();
    const second = await open({ chip: 'gpiochip0', offset: 3 }, 0);
    expect(await second.read()).toBe(1);
    expect(chip.changes).toEqual([[3, 1]]);
  });

  it('refuses a second request for a held line, as the kernel does', async () => {
    await open({ chip: 'gpiochip0', offset: 5 }, 0);
    await expect(open({ chip: 'gpiochip0', offset: 5 }, 0)).rejects.toThrow(/EBUSY/);
  });

  it('names the chips it found when the configured chip is missing, and rejects an offset past the end', async () => {
    await expect(open({ chip: 'gpiochip7', offset: 0 })).rejects.toThrow(
      'no GPIO chip "gpiochip7" (found: gpiochip0 [9030000.pl061])',
    );
    await expect(open({ chip: 'gpiochip0', offset: 8 })).rejects.toThrow('the chip has only 8 lines');
  });

  it('rejects writes after close', async () => {
    const line = await open({ chip: 'gpiochip0', offset: 0 }, 0);
    await line.close();
    await expect(line.write(1)).rejects.toThrow('gpiochip0:0 is closed');
  });
});

describe('sysfs lines', () => {
  let sys: string;
  beforeEach(async () => {
    sys = await mkdtemp(join(tmpdir(), 'gpio-sys-'));
    await makeFakeSysfs(sys, { device: 'gpiochip0', label: '9030000.pl061', base: 512, ngpio: 8 });
  });
  afterEach(() => rm(sys, { recursive: true, force: true }));

  it('lists chips with their character-device names, labels and bases', async () => {
    expect(await listSysfsChips(sys)).toEqual([
      { sysfsName: 'gpiochip512', deviceName: 'gpiochip0', label: '9030000.pl061', base: 512, ngpio: 8 },
    ]);
  });

  it('turns chip and offset into the global number by label or by device name, never a fixed number', async () => {
    expect(await resolveSysfsNumber({ chip: 'gpiochip0', offset: 3 }, sys)).toBe(515);
    expect(await resolveSysfsNumber({ chip: '9030000.pl061', offset: 7 }, sys)).toBe(519);
    await expect(resolveSysfsNumber({ chip: 'gpiochip0', offset: 8 }, sys)).rejects.toThrow('only 8 lines');
    await expect(resolveSysfsNumber({ chip: 'gpiochip0', name: 'x' }, sys)).rejects.toThrow(
      'needs an offset',
    );
  });

  it('adopts an exported output as it is, even when asked for another level', async () => {
    const dir = await makeFakeSysfsLine(sys, 514, { direction: 'out', value: 1 });
    const line = await openSysfsLine({ chip: 'gpiochip0', offset: 2 }, sys, 0);
    expect(await line.read()).toBe(1);
    expect((await readFile(join(dir, 'direction'), 'utf8')).trim()).toBe('out');
    expect((await readFile(join(sys, 'class/gpio/export'), 'utf8')).trim()).toBe('');
  });

  it('sets direction and level in one write for an input line, honouring active-low', async () => {
    const dir = await makeFakeSysfsLine(sys, 513, { direction: 'in', value: 0 });
    const line = await openSysfsLine({ chip: 'gpiochip0', offset: 1, activeLow: true }, sys, 1);
    expect(await readFile(join(dir, 'active_low'), 'utf8')).toBe('1');
    // Logical 1 on an active-low line is physical low.
    expect(await readFile(join(dir, 'direction'), 'utf8')).toBe('low');
    await line.write(0);
    expect(await readFile(join(dir, 'value'), 'utf8')).toBe('0');
    await line.close();
    expect(await readFile(join(dir, 'value'), 'utf8')).toBe('0');
  });

  it('exports a line that is not exported yet', async () => {
    const opening = openSysfsLine({ chip: 'gpiochip0', offset: 6 }, sys, 0);
    await vi.waitFor(async () => {
      expect(await readFile(join(sys, 'class/gpio/export'), 'utf8')).toBe('518');
    });
    const dir = await makeFakeSysfsLine(sys, 518, { direction: 'in', value: 0 });
    await opening;
    expect(await readFile(join(dir, 'direction'), 'utf8')).toBe('low');
  });

  it('opens through openOutputLine with either backend', async () => {
    await makeFakeSysfsLine(sys, 512, { direction: 'out', value: 1 });
    const line = await openOutputLine({ chip: 'gpiochip0', offset: 0 }, 'sysfs', 0, { sysRoot: sys });
    expect(await line.read()).toBe(1);
  });
});
