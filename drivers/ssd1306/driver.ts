import type { I2cBus } from '../i2c/bus.js';
import { silentLogger, type Logger } from '../logger.js';
import { Cmd, CONTROL_COMMANDS, CONTROL_DATA } from './commands.js';
import type { Framebuffer } from './framebuffer.js';
import { changedSpans, spanBytes, type Span } from './spans.js';

export interface Ssd1306Options {
  address?: number;
  width?: number;
  height?: 64 | 32;
  /** Contrast after init, 0..255. */
  contrast?: number;
  logger?: Logger;
  /** First and longest wait before retrying a panel that does not answer. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** A transfer that has not completed after this long counts as failed (ETIMEDOUT); 0 waits forever. */
  transferTimeoutMs?: number;
  /**
   * Every this often the configuration and a full frame are sent again, without switching the display off:
   * a panel that lost power between two transfers cannot say so on a write-only bus. 0 never.
   */
  resyncMs?: number;
  /** The clock for resync; tests pass a fake one. */
  now?: () => number;
}

/** What the panel is asked to show besides the picture; re-applied after every init. */
export interface PanelRegisters {
  contrast: number;
  displayOn: boolean;
  inverted: boolean;
}

/** The configuration commands shared by init and resync (charge pump before display on). */
function configuration(height: 64 | 32, r: PanelRegisters): number[] {
  return [
    Cmd.CLOCK_DIV, 0x80,
    Cmd.MULTIPLEX, height - 1,
    Cmd.DISPLAY_OFFSET, 0x00,
    Cmd.START_LINE | 0,
    Cmd.CHARGE_PUMP, 0x14,
    Cmd.MEMORY_MODE, 0x00, // horizontal: one window command then one data run per span
    Cmd.SEG_REMAP_ON,
    Cmd.COM_SCAN_DEC,
    Cmd.COM_PINS, height === 64 ? 0x12 : 0x02,
    Cmd.CONTRAST, r.contrast,
    Cmd.PRECHARGE, 0xf1,
    Cmd.VCOM_DETECT, 0x40,
    Cmd.RESUME_RAM,
    r.inverted ? Cmd.INVERT : Cmd.NORMAL,
    Cmd.SCROLL_STOP,
    r.displayOn ? Cmd.DISPLAY_ON : Cmd.DISPLAY_OFF,
  ]; // prettier-ignore
}

/** The init sequence for a 128xH module with the internal charge pump: display off, configure, display on. */
export function initSequence(
  height: 64 | 32,
  contrast: number,
  registers: Partial<Omit<PanelRegisters, 'contrast'>> = {},
): number[] {
  const r = { contrast, displayOn: true, inverted: false, ...registers };
  return [Cmd.DISPLAY_OFF, ...configuration(height, r)];
}

/** The resync sequence: the init sequence without the display-off that would make the panel blink. */
export function resyncSequence(height: 64 | 32, registers: PanelRegisters): number[] {
  return configuration(height, registers);
}

/** What the driver knows of the panel, for the console and the logs. */
export interface Ssd1306Status {
  faulted: boolean;
  /** The errno (or message) of the failure that started the current fault episode. */
  lastError: string | null;
  framesSent: number;
  bytesSent: number;
  /** Fault episodes since start: each logged once, however many retries it took. */
  episodes: number;
}

class TransferTimeout extends Error {
  readonly code = 'ETIMEDOUT';
}

/**
 * SSD1306 over I2C on the bus's asynchronous calls. Frames are queued, never overlapped: while one is on the
 * bus the newest requested frame waits and older ones are dropped. Only what changed since the last frame that
 * reached the panel is sent, one window command and one data run per changed span. Contrast, display on/off
 * and invert are kept as wanted values: only the newest of each is sent, and all are re-applied after an init.
 *
 * Faults (missing panel, NACK, a transfer that fails or never completes, a panel that lost power) are logged
 * once per episode and retried with backoff; when the panel answers again it gets a fresh init and a full frame.
 * A transfer that never completes is given up on after `transferTimeoutMs`, and no further transfer is started
 * until it settles: another would only queue behind it on the thread pool. Nothing here blocks the event loop
 * beyond comparing two 1 KiB frames.
 */
export class Ssd1306 {
  readonly address: number;
  readonly width: number;
  readonly height: 64 | 32;
  private readonly logger: Logger;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private readonly transferTimeoutMs: number;
  private readonly resyncMs: number;
  private readonly now: () => number;
  private readonly wanted: PanelRegisters;
  /** Register values the panel holds as far as we know; null fields are unknown. */
  private sent: { [K in keyof PanelRegisters]: PanelRegisters[K] | null };
  private needsInit = true;
  /** What the panel's RAM holds, as far as we know; null forces a full frame. */
  private shown: Uint8Array | null = null;
  private nextFrame: Uint8Array | null = null;
  /** The newest frame asked for; redrawn in full after a re-init. */
  private latest: Uint8Array | null = null;
  private lastSyncAt: number;
  private busy: Promise<void> | null = null;
  /** True while a pump is inside its loop and will still pick up newly queued work. */
  private pumping = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelay: number;
  /** A transfer given up on by timeout whose promise has not settled yet. */
  private stuck: Promise<unknown> | null = null;
  private faulted = false;
  private lastError: string | null = null;
  private episodes = 0;
  private closed = false;
  /** Bytes this driver has put on the bus (payload plus one address byte per transaction). */
  bytesSent = 0;
  framesSent = 0;

  constructor(
    private readonly bus: I2cBus,
    options: Ssd1306Options = {},
  ) {
    this.address = options.address ?? 0x3c;
    this.width = options.width ?? 128;
    this.height = options.height ?? 64;
    this.logger = options.logger ?? silentLogger;
    this.retryMinMs = options.retryMinMs ?? 500;
    this.retryMaxMs = options.retryMaxMs ?? 30_000;
    this.transferTimeoutMs = options.transferTimeoutMs ?? 250;
    this.resyncMs = options.resyncMs ?? 0;
    this.now = options.now ?? Date.now;
    this.lastSyncAt = this.now();
    this.retryDelay = this.retryMinMs;
    this.wanted = { contrast: clampContrast(options.contrast ?? 0xcf), displayOn: true, inverted: false };
    this.sent = { contrast: null, displayOn: null, inverted: null };
  }

  /** True while the panel is not answering. */
  get isFaulted(): boolean {
    return this.faulted;
  }

  get status(): Ssd1306Status {
    return {
      faulted: this.faulted,
      lastError: this.lastError,
      framesSent: this.framesSent,
      bytesSent: this.bytesSent,
      episodes: this.episodes,
    };
  }

  /** The register values asked for (not necessarily on the panel yet). */
  get registers(): PanelRegisters {
    return { ...this.wanted };
  }

  /** Queues a frame; resolves when the bus has gone idle (the frame, or a newer one, was sent or failed). */
  show(frame: Framebuffer): Promise<void> {
    if (frame.width !== this.width || frame.height !== this.height) {
      throw new Error(`frame is ${frame.width}x${frame.height}, panel is ${this.width}x${this.height}`);
    }
    this.nextFrame = frame.bytes.slice();
    this.latest = this.nextFrame;
    return this.kick();
  }

  setContrast(value: number): Promise<void> {
    this.wanted.contrast = clampContrast(value);
    return this.kick();
  }

  setDisplayOn(on: boolean): Promise<void> {
    this.wanted.displayOn = on;
    return this.kick();
  }

  setInverted(inverted: boolean): Promise<void> {
    this.wanted.inverted = inverted;
    return this.kick();
  }

  /** Forgets what the panel holds: the next frame goes out with a fresh init and in full. */
  reinitialise(): Promise<void> {
    this.needsInit = true;
    return this.kick();
  }

  /** Waits for the bus to go idle (at most one transfer timeout), stops retrying, leaves the panel as it is. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.busy;
  }

  private kick(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.faulted) return Promise.resolve(); // the retry timer will pick the newest work up
    return this.startPump();
  }

  private startPump(): Promise<void> {
    // A pump that has left its loop may not have settled yet: work queued now needs a pump of its own.
    if (this.pumping && this.busy) return this.busy;
    this.pumping = true;
    const run: Promise<void> = this.pump().finally(() => {
      if (this.busy === run) this.busy = null;
    });
    this.busy = run;
    return run;
  }

  private registersDiffer(): boolean {
    const w = this.wanted;
    const s = this.sent;
    return w.contrast !== s.contrast || w.displayOn !== s.displayOn || w.inverted !== s.inverted;
  }

  private async pump(): Promise<void> {
    try {
      while (!this.closed) {
        if (this.resyncMs > 0 && !this.needsInit && this.now() - this.lastSyncAt >= this.resyncMs) {
          await this.send(CONTROL_COMMANDS, resyncSequence(this.height, this.wanted));
          this.afterConfiguration();
          continue;
        }
        if (this.needsInit) {
          await this.send(CONTROL_COMMANDS, initSequence(this.height, this.wanted.contrast, this.wanted));
          this.afterConfiguration();
          continue;
        }
        // The picture first: a display switched on (or brightened) shows the new frame, not the old one.
        const frame = this.nextFrame;
        if (frame) {
          this.nextFrame = null;
          await this.sendFrame(frame);
          continue;
        }
        if (this.registersDiffer()) {
          await this.sendRegisters();
          continue;
        }
        break;
      }
      // Synchronously after the last look for work, so that work queued from here on starts a new pump.
      this.pumping = false;
      if (this.faulted) {
        this.faulted = false;
        this.retryDelay = this.retryMinMs;
        this.logger.info(`panel at ${hex(this.address)} answers again; re-initialised and redrawn`);
      }
    } catch (err) {
      this.pumping = false;
      this.onFault(err);
    }
  }

  private afterConfiguration(): void {
    this.needsInit = false;
    this.sent = { ...this.wanted };
    this.shown = null;
    this.lastSyncAt = this.now();
    this.nextFrame ??= this.latest;
  }

  private async sendRegisters(): Promise<void> {
    const w = { ...this.wanted };
    const bytes: number[] = [];
    if (w.contrast !== this.sent.contrast) bytes.push(Cmd.CONTRAST, w.contrast);
    if (w.inverted !== this.sent.inverted) bytes.push(w.inverted ? Cmd.INVERT : Cmd.NORMAL);
    if (w.displayOn !== this.sent.displayOn) bytes.push(w.displayOn ? Cmd.DISPLAY_ON : Cmd.DISPLAY_OFF);
    // Unknown until the transfer completes: a failure leaves the panel in a state we cannot tell.
    this.sent = { contrast: null, displayOn: null, inverted: null };
    await this.send(CONTROL_COMMANDS, bytes);
    this.sent = w;
  }

  private async sendFrame(frame: Uint8Array): Promise<void> {
    const pages = this.height / 8;
    const spans = this.shown
      ? changedSpans(this.shown, frame, this.width)
      : [{ c0: 0, c1: this.width - 1, p0: 0, p1: pages - 1 }];
    // The panel's RAM is unknown while a frame is half sent: a failure below forces a full redraw next time.
    this.shown = null;
    for (const span of spans) await this.sendSpan(frame, span);
    this.shown = frame;
    this.framesSent++;
  }

  private async sendSpan(frame: Uint8Array, s: Span): Promise<void> {
    await this.send(CONTROL_COMMANDS, [Cmd.COLUMN_ADDR, s.c0, s.c1, Cmd.PAGE_ADDR, s.p0, s.p1]);
    await this.send(CONTROL_DATA, spanBytes(frame, this.width, s));
  }

  private async send(control: number, payload: ArrayLike<number>): Promise<void> {
    const buf = Buffer.allocUnsafe(payload.length + 1);
    buf[0] = control;
    buf.set(payload, 1);
    await this.withTimeout(this.bus.i2cWrite(this.address, buf.length, buf));
    this.bytesSent += buf.length + 1;
  }

  private withTimeout<T>(transfer: Promise<T>): Promise<T> {
    if (this.transferTimeoutMs <= 0) return transfer;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        const settled = (): void => {
          if (this.stuck === marker) this.stuck = null;
        };
        const marker: Promise<unknown> = transfer.then(settled, settled);
        this.stuck = marker;
        reject(new TransferTimeout(`no answer within ${this.transferTimeoutMs} ms`));
      }, this.transferTimeoutMs);
      transfer.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  private onFault(err: unknown): void {
    const code = describe(err);
    if (!this.faulted) {
      this.faulted = true;
      this.episodes++;
      this.lastError = code;
      this.logger.warn(`panel at ${hex(this.address)} not answering (${code}); retrying with backoff`);
    }
    // Whatever the panel holds now is unknown: it may have lost power. Start over when it answers.
    this.needsInit = true;
    this.shown = null;
    this.sent = { contrast: null, displayOn: null, inverted: null };
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.closed) return;
    const wait = this.retryDelay;
    this.retryDelay = Math.min(this.retryMaxMs, this.retryDelay * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.closed) return;
      // A transfer still pending on the thread pool: starting another would only queue behind it.
      if (this.stuck) return this.scheduleRetry();
      void this.startPump();
    }, wait);
    this.retryTimer.unref?.();
  }
}

function clampContrast(value: number): number {
  if (!Number.isFinite(value)) return 0xcf;
  return Math.max(0, Math.min(255, Math.round(value)));
}

function hex(n: number): string {
  return '0x' + n.toString(16);
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (err instanceof TransferTimeout) return `ETIMEDOUT, ${err.message}`;
  return e?.code ?? (err instanceof Error ? err.message : String(err));
}
