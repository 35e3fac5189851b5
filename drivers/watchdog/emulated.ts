import { WDIOF_CARDRESET, type Watchdog } from './watchdog.js';

/**
 * An emulated SoC watchdog. It behaves like `/dev/watchdog`: opening arms it, writes pet it, a magic close
 * disarms it, and when nobody pets it in time it calls `onReset` (the emulated board reboots) and reports
 * WDIOF_CARDRESET in the boot status until the next expiry-free boot reads it.
 */
export class EmulatedWatchdog implements Watchdog {
  private timer: NodeJS.Timeout | null = null;
  private timeoutS = 0;
  private deadline = 0;
  private armed = false;
  private lastResetByWatchdog = false;
  /** How many times it has fired, for tests. */
  resets = 0;

  constructor(private readonly onReset: () => void) {}

  get isArmed(): boolean {
    return this.armed;
  }

  open(timeoutS: number): Promise<void> {
    if (this.armed)
      return Promise.reject(Object.assign(new Error('EBUSY: watchdog already open'), { code: 'EBUSY' }));
    if (!(timeoutS >= 1 && timeoutS <= 3600))
      return Promise.reject(new Error(`EINVAL: watchdog timeout ${timeoutS}`));
    this.timeoutS = timeoutS;
    this.armed = true;
    this.arm();
    return Promise.resolve();
  }

  pet(): Promise<void> {
    if (this.armed) this.arm();
    return Promise.resolve();
  }

  close(disarm: boolean): Promise<void> {
    // Without the magic character the watchdog keeps counting after close, as the kernel's nowayout-free default.
    if (disarm) this.disarm();
    return Promise.resolve();
  }

  timeLeft(): Promise<number | null> {
    return Promise.resolve(this.armed ? Math.max(0, Math.ceil((this.deadline - Date.now()) / 1000)) : null);
  }

  bootStatus(): Promise<number> {
    return Promise.resolve(this.lastResetByWatchdog ? WDIOF_CARDRESET : 0);
  }

  /**
   * The SoC hangs with the watchdog's counter stopped (a clock or bus lock-up): it will not fire, so only the
   * reset line or the power brings the board back. Used by the simulator's `hang` fault.
   */
  suspend(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The board lost power or rebooted by other means: the watchdog stops, and the boot status clears. */
  powerLost(): void {
    this.disarm();
    this.lastResetByWatchdog = false;
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.deadline = Date.now() + this.timeoutS * 1000;
    this.timer = setTimeout(() => this.fire(), this.timeoutS * 1000);
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.armed = false;
  }

  private fire(): void {
    this.disarm();
    this.resets++;
    this.lastResetByWatchdog = true;
    this.onReset();
  }
}
