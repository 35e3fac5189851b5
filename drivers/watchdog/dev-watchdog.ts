import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { NativeIoctl } from '../native/addon.js';
import type { Watchdog } from './watchdog.js';

/** The watchdog ioctls (linux/watchdog.h); the same numbers on arm, arm64 and x86. */
export const WDIOC_GETBOOTSTATUS = 0x80045702;
export const WDIOC_KEEPALIVE = 0x80045705;
export const WDIOC_SETTIMEOUT = 0xc0045706;
export const WDIOC_GETTIMEOUT = 0x80045707;

export interface DevWatchdogOptions {
  ioctl: Pick<NativeIoctl, 'ioctlInt'>;
  /** Where sysfs is; tests point it at a temp tree. */
  sysRoot?: string;
}

/**
 * The kernel's watchdog device. Opening arms it, any write pets it, and 'V' written right before close
 * disarms it (unless the driver was loaded with nowayout). The timeout is set with WDIOC_SETTIMEOUT right
 * after the open; the driver may round it, so the value it reports back is what counts.
 */
export class DevWatchdog implements Watchdog {
  private fd: number | null = null;
  /** The timeout the driver accepted, in seconds. */
  timeoutS = 0;
  /** Why the asked-for timeout was not set, after an open that kept the driver's own; null when it was. */
  refused: string | null = null;
  private readonly sysDir: string;

  constructor(
    readonly path: string,
    private readonly options: DevWatchdogOptions,
  ) {
    // /dev/watchdog is the legacy name of the first watchdog; /dev/watchdogN is the Nth.
    const n = /^watchdog(\d+)$/.exec(basename(path))?.[1] ?? '0';
    this.sysDir = join(options.sysRoot ?? '/sys', 'class/watchdog', `watchdog${n}`);
  }

  open(timeoutS: number): Promise<void> {
    if (this.fd !== null) return Promise.reject(new Error(`${this.path} is already open`));
    let fd: number;
    try {
      fd = openSync(this.path, constants.O_WRONLY); // never O_CREAT: a missing device is an error
    } catch (err) {
      return Promise.reject(new Error(`${this.path}: ${(err as Error).message}`));
    }
    this.fd = fd;
    try {
      this.timeoutS = this.options.ioctl.ioctlInt(fd, WDIOC_SETTIMEOUT, timeoutS);
      this.refused = null;
    } catch (err) {
      // It is armed now, at the driver's own timeout: failing the open would leave it armed with nobody
      // petting it. The caller compares `timeoutS` with what it asked for and reports `refused`.
      this.timeoutS = this.readTimeoutIoctl();
      this.refused = `timeout ${timeoutS} s refused (${(err as Error).message}); armed at ${this.timeoutS} s`;
    }
    return Promise.resolve();
  }

  pet(): Promise<void> {
    // A one-byte write, synchronous on purpose: the pet happens on the loop's own turn or not at all.
    if (this.fd !== null) writeSync(this.fd, '\0');
    return Promise.resolve();
  }

  close(disarm: boolean): Promise<void> {
    const fd = this.fd;
    if (fd === null) return Promise.resolve();
    this.fd = null;
    try {
      if (disarm) writeSync(fd, 'V');
    } finally {
      closeSync(fd);
    }
    return Promise.resolve();
  }

  /** Seconds until reset, from sysfs where the driver tells it (many, like the i6300ESB, do not). */
  async timeLeft(): Promise<number | null> {
    const text = await readFile(join(this.sysDir, 'timeleft'), 'utf8').catch(() => null);
    return text === null ? null : Number(text.trim());
  }

  async bootStatus(): Promise<number> {
    const text = await readFile(join(this.sysDir, 'bootstatus'), 'utf8').catch(() => null);
    if (text !== null) return Number(text.trim());
    if (this.fd === null) return 0;
    return this.options.ioctl.ioctlInt(this.fd, WDIOC_GETBOOTSTATUS, 0);
  }

  /** The driver's state as sysfs shows it: `active` or `inactive`, null without sysfs. */
  async state(): Promise<string | null> {
    const text = await readFile(join(this.sysDir, 'state'), 'utf8').catch(() => null);
    return text === null ? null : text.trim();
  }

  private readTimeoutIoctl(): number {
    try {
      return this.fd === null ? 0 : this.options.ioctl.ioctlInt(this.fd, WDIOC_GETTIMEOUT, 0);
    } catch {
      return 0;
    }
  }
}
