import { access, readdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeLine, type LineSpec, type OutputLine } from './line.js';

/** One chip as the legacy sysfs interface shows it. */
export interface SysfsChip {
  /** The sysfs name, `gpiochip<base>`. */
  sysfsName: string;
  /** The character-device name of the same chip (`gpiochip0`), from the parent device's folder. */
  deviceName: string | null;
  label: string;
  base: number;
  ngpio: number;
}

async function readTrimmed(path: string): Promise<string> {
  return (await readFile(path, 'utf8')).trim();
}

export async function listSysfsChips(sysRoot = '/sys'): Promise<SysfsChip[]> {
  const dir = join(sysRoot, 'class/gpio');
  const chips: SysfsChip[] = [];
  for (const entry of (await readdir(dir)).filter((n) => /^gpiochip\d+$/.test(n))) {
    const path = join(dir, entry);
    // class/gpio/gpiochip<base> lives in <parent>/gpio/; the character device's gpiochipN sits beside it.
    const parent = dirname(dirname(await realpath(path)));
    const siblings = (await readdir(parent).catch(() => [])).filter((n) => /^gpiochip\d+$/.test(n));
    chips.push({
      sysfsName: entry,
      deviceName: siblings.length === 1 ? siblings[0]! : null,
      label: await readTrimmed(join(path, 'label')),
      base: Number(await readTrimmed(join(path, 'base'))),
      ngpio: Number(await readTrimmed(join(path, 'ngpio'))),
    });
  }
  return chips;
}

/**
 * The global sysfs number of a line named by chip and offset. Kernels number chips from 512 down (or from 0
 * up on older ones), so the number is looked up at run time, never written in the config.
 */
export async function resolveSysfsNumber(spec: LineSpec, sysRoot = '/sys'): Promise<number> {
  if (spec.offset === undefined)
    throw new Error(`${describeLine(spec)}: the sysfs backend needs an offset (sysfs has no line names)`);
  const chips = await listSysfsChips(sysRoot);
  const chip = chips.find(
    (c) => c.deviceName === spec.chip || c.label === spec.chip || c.sysfsName === spec.chip,
  );
  if (!chip) {
    const found = chips.map((c) => `${c.deviceName ?? c.sysfsName} [${c.label}]`).join(', ');
    throw new Error(`no GPIO chip "${spec.chip}" in sysfs (found: ${found || 'none'})`);
  }
  if (spec.offset >= chip.ngpio)
    throw new Error(`${describeLine(spec)}: the chip has only ${chip.ngpio} lines`);
  return chip.base + spec.offset;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * A line through `/sys/class/gpio`. An exported output keeps its level after the process exits, so closing
 * leaves it exported and driven. Opening adopts an exported output as it is; `initial` only applies to a
 * line that is not an output yet, and is set together with the direction (`high`/`low`), so no other level
 * appears in between.
 */
export async function openSysfsLine(spec: LineSpec, sysRoot = '/sys', initial?: 0 | 1): Promise<OutputLine> {
  const name = describeLine(spec);
  const number = await resolveSysfsNumber(spec, sysRoot);
  const dir = join(sysRoot, 'class/gpio', `gpio${number}`);
  if (!(await exists(dir))) {
    await writeFile(join(sysRoot, 'class/gpio/export'), String(number)).catch((err: Error) => {
      throw new Error(`${name}: export of gpio${number} failed: ${err.message}`);
    });
    // The kernel creates the folder at once; udev may still be fixing its permissions.
    for (let i = 0; !(await exists(join(dir, 'value'))); i++) {
      if (i >= 50) throw new Error(`${name}: gpio${number} did not appear after export`);
      await sleep(10);
    }
  }
  const invert = spec.activeLow === true ? 1 : 0;
  // active_low only changes how `value` reads and writes, never the pin.
  if (Number(await readTrimmed(join(dir, 'active_low'))) !== invert)
    await writeFile(join(dir, 'active_low'), String(invert));
  let driven = (await readTrimmed(join(dir, 'direction'))) === 'out';
  const driveOut = async (value: 0 | 1): Promise<void> => {
    await writeFile(join(dir, 'direction'), (value ^ invert) === 1 ? 'high' : 'low');
    driven = true;
  };
  if (!driven && initial !== undefined) await driveOut(initial);
  let open = true;
  return {
    name,
    read: async () => (Number(await readTrimmed(join(dir, 'value'))) === 1 ? 1 : 0),
    write: async (value) => {
      if (!open) throw new Error(`${name} is closed`);
      if (driven) await writeFile(join(dir, 'value'), String(value));
      else await driveOut(value);
    },
    close: () => {
      open = false;
      return Promise.resolve();
    },
  };
}
