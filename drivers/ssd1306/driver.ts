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
}

/** The init sequence for a 128xH module with the internal charge pump (charge pump before display on). */
export function initSequence(height: 64 | 32, contrast: number): number[] {
  return [
    Cmd.DISPLAY_OFF,
    Cmd.CLOCK_DIV, 0x80,
    Cmd.MULTIPLEX, height - 1,
    Cmd.DISPLAY_OFFSET, 0x00,
    Cmd.START_LINE | 0,
    Cmd.CHARGE_PUMP, 0x14,
    Cmd.MEMORY_MODE, 0x00, // horizontal: one window command then one data run per span
    Cmd.SEG_REMAP_ON,
    Cmd.COM_SCAN_DEC,
    Cmd.COM_PINS, height === 64 ? 0x12 : 0x02,
    Cmd.CONTRAST, contrast,
    Cmd.PRECHARGE, 0xf1,
    Cmd.VCOM_DETECT, 0x40,
    Cmd.RESUME_RAM,
    Cmd.NORMAL,
    Cmd.SCROLL_STOP,
    Cmd.DISPLAY_ON,
  ]; // prettier-ignore
}

/**
 * SSD1306 over I2C on the bus's asynchronous calls. Frames are queued, never overlapped: while one is on the
 * bus the newest requested frame waits and older ones are dropped. Only what changed since the last frame that
 * reached the panel is sent. A panel that stops answering is logged once, retried with backoff, and gets a
 * fresh init and a full frame when it answers again.
 */
export class Ssd1306 {
  readonly address: number;
  readonly width: number;
  readonly height: 64 | 32;
  private readonly logger: Logger;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private contrast: number;
  private needsInit = true;
  /** What the panel's RAM holds, as far as we know; null forces a full frame. */
  private shown: Uint8Array | null = null;
  private nextFrame: Uint8Array | null = null;
  /** The newest frame asked for; redrawn in full after a re-init. */
  private latest: Uint8Array | null = null;
  private commands: number[][] = [];
  private busy: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelay: number;
  private faulted = false;
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
    this.contrast = options.contrast ?? 0xcf;
    this.logger = options.logger ?? silentLogger;
    this.retryMinMs = options.retryMinMs ?? 500;
    this.retryMaxMs = options.retryMaxMs ?? 30_000;
    this.retryDelay = this.retryMinMs;
  }

  /** True while the panel is not answering. */
  get isFaulted(): boolean {
    return this.faulted;
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
    this.contrast = Math.max(0, Math.min(255, Math.round(value)));
    return this.queueCommand([Cmd.CONTRAST, this.contrast]);
  }

  setDisplayOn(on: boolean): Promise<void> {
    return this.queueCommand([on ? Cmd.DISPLAY_ON : Cmd.DISPLAY_OFF]);
  }

  setInverted(inverted: boolean): Promise<void> {
    return this.queueCommand([inverted ? Cmd.INVERT : Cmd.NORMAL]);
  }

  /** Waits for the bus to go idle, stops retrying, and leaves the panel as it is. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.busy;
  }

  private queueCommand(bytes: number[]): Promise<void> {
    this.commands.push(bytes);
    return this.kick();
  }

  private kick(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.faulted) return Promise.resolve(); // the retry timer will pick the newest work up
    this.busy ??= this.pump().finally(() => {
      this.busy = null;
    });
    return this.busy;
  }

  private async pump(): Promise<void> {
    try {
      while (!this.closed && (this.needsInit || this.commands.length > 0 || this.nextFrame)) {
        if (this.needsInit) {
          await this.send(CONTROL_COMMANDS, initSequence(this.height, this.contrast));
          this.needsInit = false;
          this.shown = null;
          this.nextFrame ??= this.latest;
          continue;
        }
        const command = this.commands.shift();
        if (command) {
          await this.send(CONTROL_COMMANDS, command);
          continue;
        }
        const frame = this.nextFrame!;
        this.nextFrame = null;
        await this.sendFrame(frame);
      }
      if (this.faulted) {
        this.faulted = false;
        this.retryDelay = this.retryMinMs;
        this.logger.info(`panel at 0x${this.address.toString(16)} answers again`);
      }
    } catch (err) {
      this.onFault(err);
    }
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
    await this.bus.i2cWrite(this.address, buf.length, buf);
    this.bytesSent += buf.length + 1;
  }

  private onFault(err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
    if (!this.faulted) {
      this.faulted = true;
      this.logger.warn(
        `panel at 0x${this.address.toString(16)} not answering (${code}); retrying with backoff`,
      );
    }
    // Whatever the panel holds now is unknown: it may have lost power. Start over when it answers.
    this.needsInit = true;
    this.shown = null;
    if (this.closed) return;
    const wait = this.retryDelay;
    this.retryDelay = Math.min(this.retryMaxMs, this.retryDelay * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.busy ??= this.pump().finally(() => {
        this.busy = null;
      });
    }, wait);
    this.retryTimer.unref?.();
  }
}
