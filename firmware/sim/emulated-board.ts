import type { EmulatedGpioChip } from '../../drivers/gpio/emulated.js';
import { EmulatedWatchdog } from '../../drivers/watchdog/emulated.js';

export type EmulatedBoardState = 'off' | 'booting' | 'running';

/** What runs on a board once it has booted: the real agent, started and stopped with the board. */
export interface BoardSoftware {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Freezes the software as a wedged loop would (for the simulator's faults). */
  stall?(): void;
}

export interface EmulatedBoardOptions {
  board: number;
  chip: EmulatedGpioChip;
  /** Physical offsets of the board's power (high = on) and reset (low = held in reset) lines; none for the manager. */
  powerOffset?: number;
  resetOffset?: number;
  bootMs: number;
  /** Creates the software for one boot; a fresh one each boot, as a real reboot starts a fresh process. */
  software: (watchdog: EmulatedWatchdog) => BoardSoftware;
  onState?: (board: number, state: EmulatedBoardState) => void;
}

/**
 * One compute board in the simulator. It obeys its lines the way the hardware does: power low means off and
 * silent; power high boots it after the boot time; a reset pulse reboots it. Its own watchdog reboots it too.
 */
export class EmulatedBoard {
  state: EmulatedBoardState = 'off';
  readonly watchdog: EmulatedWatchdog;
  private software: BoardSoftware | null = null;
  private bootTimer: NodeJS.Timeout | null = null;
  private readonly unwatch: (() => void)[] = [];
  /** The box's supply: a power loss cuts every board, whatever its lines say. */
  private mains = true;
  boots = 0;

  constructor(private readonly options: EmulatedBoardOptions) {
    this.watchdog = new EmulatedWatchdog(() => this.reboot());
  }

  attach(): void {
    const { chip, powerOffset, resetOffset } = this.options;
    // The board's pull-up keeps reset released unless the manager drives it low.
    if (resetOffset !== undefined) {
      chip.drive(resetOffset, 1);
      this.unwatch.push(chip.watch(resetOffset, () => this.follow()));
    }
    if (powerOffset !== undefined) this.unwatch.push(chip.watch(powerOffset, () => this.follow()));
    this.follow();
  }

  async detach(): Promise<void> {
    for (const u of this.unwatch) u();
    this.unwatch.length = 0;
    await this.halt();
  }

  /** True when power is on and reset is released. */
  private get supplied(): boolean {
    const { chip, powerOffset, resetOffset } = this.options;
    const power = powerOffset === undefined ? 1 : chip.level(powerOffset);
    const reset = resetOffset === undefined ? 1 : chip.level(resetOffset);
    return this.mains && power === 1 && reset === 1;
  }

  /** Switches the box's supply (the simulator's power-loss fault). */
  setMains(on: boolean): void {
    this.mains = on;
    this.follow();
  }

  /** The board reboots by itself (a kernel panic with reboot, a reboot command): not the watchdog's doing. */
  crash(): void {
    if (this.state === 'off') return;
    this.watchdog.powerLost();
    this.reboot();
  }

  /** The board hangs: software frozen, watchdog stopped; only the reset line or the power brings it back. */
  hang(): void {
    if (this.state !== 'running') return;
    this.software?.stall?.();
    this.watchdog.suspend();
  }

  /** The board's software freezes; its watchdog still counts and resets it. */
  stallSoftware(): void {
    this.software?.stall?.();
  }

  private follow(): void {
    if (this.supplied && this.state === 'off') this.boot();
    else if (!this.supplied && this.state !== 'off') void this.halt();
  }

  private boot(): void {
    this.setState('booting');
    this.bootTimer = setTimeout(() => {
      this.bootTimer = null;
      if (!this.supplied) return;
      this.boots++;
      const software = this.options.software(this.watchdog);
      this.software = software;
      this.setState('running');
      software.start().catch(() => {
        // Software that cannot start leaves the board running but silent, as a wedged real board would be.
      });
    }, this.options.bootMs);
  }

  private async halt(): Promise<void> {
    if (this.bootTimer) clearTimeout(this.bootTimer);
    this.bootTimer = null;
    this.watchdog.powerLost();
    const software = this.software;
    this.software = null;
    this.setState('off');
    if (software) await software.stop();
  }

  /** A watchdog reset: the software dies at once and the board boots again. */
  private reboot(): void {
    const software = this.software;
    this.software = null;
    if (this.bootTimer) clearTimeout(this.bootTimer);
    this.bootTimer = null;
    this.setState('off');
    void software?.stop();
    this.follow();
  }

  private setState(state: EmulatedBoardState): void {
    this.state = state;
    this.options.onState?.(this.options.board, state);
  }
}
