import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DevWatchdog, WDIOC_SETTIMEOUT } from '../../../drivers/watchdog/dev-watchdog.js';

let dir: string;
let calls: [number, number][];
const driverRoundsTo = (n: number) => ({
  ioctlInt: (_fd: number, request: number, value: number): number => {
    calls.push([request, value]);
    if (request === WDIOC_SETTIMEOUT && value > 60)
      throw Object.assign(new Error('EINVAL: out of range'), { code: 'EINVAL' });
    return request === WDIOC_SETTIMEOUT ? Math.ceil(value / n) * n : 30;
  },
});

describe('the /dev/watchdog driver', () => {
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wdt-'));
    calls = [];
    await writeFile(join(dir, 'watchdog'), '');
    await mkdir(join(dir, 'sys/class/watchdog/watchdog0'), { recursive: true });
    await writeFile(join(dir, 'sys/class/watchdog/watchdog0/bootstatus'), '32\n');
    await writeFile(join(dir, 'sys/class/watchdog/watchdog0/state'), 'active\n');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const make = (ioctl = driverRoundsTo(1)) =>
    new DevWatchdog(join(dir, 'watchdog'), { ioctl, sysRoot: join(dir, 'sys') });

  it('sets the timeout with WDIOC_SETTIMEOUT and keeps what the driver accepted', async () => {
    const wd = make(driverRoundsTo(2));
    await wd.open(5);
    expect(calls).toEqual([[0xc0045706, 5]]);
    expect(wd.timeoutS).toBe(6);
  });

  it('pets with one byte per call and writes the magic V on a disarming close', async () => {
    const wd = make();
    await wd.open(10);
    await wd.pet();
    await wd.pet();
    await wd.close(true);
    expect(await readFile(join(dir, 'watchdog'), 'latin1')).toBe('\0\0V');
  });

  it('closes without the magic V when told to keep the watchdog counting', async () => {
    const wd = make();
    await wd.open(10);
    await wd.pet();
    await wd.close(false);
    expect(await readFile(join(dir, 'watchdog'), 'latin1')).toBe('\0');
  });

  it("stays open (so it is petted) at the driver's own timeout when the asked-for one is refused", async () => {
    const wd = make();
    await wd.open(600);
    expect(wd.timeoutS).toBe(30);
    expect(wd.refused).toBe('timeout 600 s refused (EINVAL: out of range); armed at 30 s');
  });

  it('reads the boot status and state from sysfs, and no time left where the driver does not tell it', async () => {
    const wd = make();
    expect(await wd.bootStatus()).toBe(0x20);
    expect(await wd.state()).toBe('active');
    expect(await wd.timeLeft()).toBeNull();
    await writeFile(join(dir, 'sys/class/watchdog/watchdog0/timeleft'), '7\n');
    expect(await wd.timeLeft()).toBe(7);
  });

  it('names the device when it cannot be opened', async () => {
    const wd = new DevWatchdog(join(dir, 'missing'), { ioctl: driverRoundsTo(1) });
    await expect(wd.open(5)).rejects.toThrow(/missing: ENOENT/);
  });
});
