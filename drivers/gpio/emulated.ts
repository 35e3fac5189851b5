import { describeLine, type LineSpec, type OutputLine } from './line.js';

/** A physical line of the emulated chip: its electrical level survives whoever requested it. */
class EmulatedPin {
  level: 0 | 1 = 0;
  owner: object | null = null;
  readonly listeners = new Set<(level: 0 | 1) => void>();
}

/**
 * An emulated GPIO controller. Levels are physical (before active-low), persist when a requester closes its
 * line (like a sysfs export), and notify watchers, which is how emulated boards obey their power and reset.
 */
export class EmulatedGpioChip {
  private readonly pins: EmulatedPin[];
  /** Every level change: [ms timestamp, offset, physical level]; tests read reset pulses and power cycles here. */
  readonly history: [number, number, 0 | 1][] = [];

  constructor(
    readonly label = 'gpiochip0',
    readonly lineCount = 32,
    private readonly lineNames: string[] = [],
  ) {
    this.pins = Array.from({ length: lineCount }, () => new EmulatedPin());
  }

  private pin(offset: number): EmulatedPin {
    const pin = this.pins[offset];
    if (!pin) throw new Error(`${this.label} has no line ${offset} (it has ${this.lineCount})`);
    return pin;
  }

  /** The physical level of a line, as a probe on the pin would read it. */
  level(offset: number): 0 | 1 {
    return this.pin(offset).level;
  }

  /** Watches a line's physical level; returns an unsubscribe function. */
  watch(offset: number, listener: (level: 0 | 1) => void): () => void {
    const pin = this.pin(offset);
    pin.listeners.add(listener);
    return () => pin.listeners.delete(listener);
  }

  /** Sets a line's level from outside the firmware (a board's own pull-up, a test). */
  drive(offset: number, level: 0 | 1): void {
    const pin = this.pin(offset);
    if (pin.level === level) return;
    pin.level = level;
    this.history.push([Date.now(), offset, level]);
    for (const listener of pin.listeners) listener(level);
  }

  /** Requests a line as an output. A second request for a held line fails with EBUSY, as the kernel does. */
  request(spec: LineSpec): OutputLine {
    const offset = spec.offset ?? this.lineNames.indexOf(spec.name ?? '');
    if (offset < 0) throw new Error(`${this.label} has no line named "${spec.name}"`);
    const pin = this.pin(offset);
    const owner = {};
    if (pin.owner) {
      const err: NodeJS.ErrnoException = new Error(`EBUSY: ${describeLine(spec)} is already requested`);
      err.code = 'EBUSY';
      throw err;
    }
    pin.owner = owner;
    const invert = spec.activeLow === true;
    const toLogical = (v: 0 | 1): 0 | 1 => (invert ? ((1 - v) as 0 | 1) : v);
    let open = true;
    return {
      name: describeLine(spec),
      read: () => Promise.resolve(toLogical(pin.level)),
      write: (value) => {
        if (!open) return Promise.reject(new Error(`${describeLine(spec)} is closed`));
        this.drive(offset, toLogical(value));
        return Promise.resolve();
      },
      close: () => {
        open = false;
        if (pin.owner === owner) pin.owner = null;
        return Promise.resolve();
      },
    };
  }
}
