import { mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GpioChardevApi } from '../../drivers/gpio/chardev.js';

interface FakePin {
  output: boolean;
  level: 0 | 1;
  name: string;
}

/**
 * A GPIO controller behind the character-device calls, as the kernel answers them: an as-is request keeps
 * direction and level, and every electrical change is recorded so that tests can look for glitches.
 */
export class FakeChardevChip implements GpioChardevApi {
  readonly pins: FakePin[];
  /** [offset, physical level] for every change of what the pin drives; a switch to input records 'z'. */
  readonly changes: [number, 0 | 1 | 'z'][] = [];
  private readonly fds = new Map<number, number>();
  private nextFd = 100;

  constructor(
    readonly path: string,
    readonly label: string,
    names: string[] = [],
    lines = 8,
  ) {
    this.pins = Array.from({ length: lines }, (_, i) => ({ output: false, level: 0, name: names[i] ?? '' }));
  }

  private pin(fd: number): FakePin {
    const offset = this.fds.get(fd);
    if (offset === undefined) throw Object.assign(new Error('EBADF'), { code: 'EBADF' });
    return this.pins[offset]!;
  }

  gpioChipInfo(path: string): { name: string; label: string; lines: number } {
    if (path !== this.path) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return { name: 'gpiochip0', label: this.label, lines: this.pins.length };
  }

  gpioLineInfo(_path: string, offset: number) {
    const pin = this.pins[offset]!;
    const used = [...this.fds.values()].includes(offset);
    return { name: pin.name, consumer: used ? 'skyminer' : '', used, output: pin.output, activeLow: false };
  }

  gpioRequestAsIs(_path: string, offset: number): number {
    if ([...this.fds.values()].includes(offset))
      throw Object.assign(new Error('EBUSY: line busy'), { code: 'EBUSY' });
    const fd = this.nextFd++;
    this.fds.set(fd, offset);
    return fd;
  }

  gpioGetValue(fd: number): 0 | 1 {
    return this.pin(fd).level;
  }

  gpioSetOutput(fd: number, value: 0 | 1): void {
    const pin = this.pin(fd);
    if (!pin.output || pin.level !== value) this.changes.push([this.fds.get(fd)!, value]);
    pin.output = true;
    pin.level = value;
  }

  gpioSetValue(fd: number, value: 0 | 1): void {
    const pin = this.pin(fd);
    if (!pin.output) throw Object.assign(new Error('EPERM: not an output'), { code: 'EPERM' });
    if (pin.level !== value) this.changes.push([this.fds.get(fd)!, value]);
    pin.level = value;
  }

  /** The file closed: the kernel releases the line, the controller keeps driving it. */
  closeLine(fd: number): void {
    this.fds.delete(fd);
  }
}

/**
 * A /sys tree with one chip, laid out as the kernel does: class/gpio/gpiochip<base> links into
 * <parent>/gpio/, and the character device's gpiochipN folder sits in the same parent.
 */
export async function makeFakeSysfs(
  root: string,
  chip: { device: string; label: string; base: number; ngpio: number },
): Promise<void> {
  const parent = join(root, 'devices/platform/9030000.pl061');
  const deviceDir = join(parent, 'gpio', `gpiochip${chip.base}`);
  await mkdir(deviceDir, { recursive: true });
  await mkdir(join(parent, chip.device));
  await writeFile(join(deviceDir, 'label'), `${chip.label}\n`);
  await writeFile(join(deviceDir, 'base'), `${chip.base}\n`);
  await writeFile(join(deviceDir, 'ngpio'), `${chip.ngpio}\n`);
  await mkdir(join(root, 'class/gpio'), { recursive: true });
  await symlink(deviceDir, join(root, 'class/gpio', `gpiochip${chip.base}`));
  await writeFile(join(root, 'class/gpio/export'), '');
}

/** An exported line folder as the kernel shows it. */
export async function makeFakeSysfsLine(
  root: string,
  number: number,
  state: { direction: 'in' | 'out'; value: 0 | 1; activeLow?: 0 | 1 },
): Promise<string> {
  const dir = join(root, 'class/gpio', `gpio${number}`);
  // The kernel makes the folder with all its attributes at once: build it aside and rename it into place, so a
  // driver waiting for the export never sees half of it.
  const staging = `${dir}.staging`;
  await mkdir(staging, { recursive: true });
  await writeFile(join(staging, 'direction'), `${state.direction}\n`);
  await writeFile(join(staging, 'value'), `${state.value}\n`);
  await writeFile(join(staging, 'active_low'), `${state.activeLow ?? 0}\n`);
  await rename(staging, dir);
  return dir;
}
