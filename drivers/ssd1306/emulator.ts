import type { I2cDevice } from '../i2c/emulated-bus.js';
import { AddressingMode, Cmd, CONTROL_CONTINUATION, parameterCount } from './commands.js';
import { Framebuffer } from './framebuffer.js';

/** The controller's registers that decide what the glass shows, as a test or the simulator reads them. */
export interface Ssd1306Registers {
  displayOn: boolean;
  inverted: boolean;
  entireOn: boolean;
  contrast: number;
  chargePump: boolean;
  mode: AddressingMode;
  columnStart: number;
  columnEnd: number;
  pageStart: number;
  pageEnd: number;
  startLine: number;
  segmentRemap: boolean;
  comScanDescending: boolean;
  multiplex: number;
  scrolling: boolean;
}

/**
 * A model of the SSD1306 controller on an I2C bus. It decodes control, command and data bytes exactly as the
 * datasheet describes (continuation bit, multi-byte commands split across transactions, all three addressing
 * modes and their wrap rules) into its 128xH display RAM, and renders what the glass would show.
 */
export class Ssd1306Model implements I2cDevice {
  readonly ram: Framebuffer;
  readonly reg: Ssd1306Registers;
  /** Bytes of a multi-byte command still waiting for parameters (they may arrive in a later transaction). */
  private pending: number[] = [];
  private column = 0;
  private page = 0;
  /** Counts of what arrived, for tests and the benchmark. */
  readonly stats = { transactions: 0, commandBytes: 0, dataBytes: 0 };
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly width = 128,
    readonly height = 64,
  ) {
    this.ram = new Framebuffer(width, height);
    this.reg = Ssd1306Model.resetRegisters(width, height);
  }

  /**
   * The panel lost power and came back: registers return to their reset values, the display is off and the
   * RAM holds noise (here a fixed pattern, so that a test sees a redraw was needed).
   */
  powerCycle(): void {
    Object.assign(this.reg, Ssd1306Model.resetRegisters(this.width, this.height));
    this.pending = [];
    this.column = 0;
    this.page = 0;
    for (let i = 0; i < this.ram.bytes.length; i++) this.ram.bytes[i] = (i * 37) & 0xff;
    for (const listener of this.listeners) listener();
  }

  private static resetRegisters(width: number, height: number): Ssd1306Registers {
    return {
      displayOn: false,
      inverted: false,
      entireOn: false,
      contrast: 0x7f,
      chargePump: false,
      mode: AddressingMode.Page,
      columnStart: 0,
      columnEnd: width - 1,
      pageStart: 0,
      pageEnd: height / 8 - 1,
      startLine: 0,
      segmentRemap: false,
      comScanDescending: false,
      multiplex: height - 1,
      scrolling: false,
    };
  }

  /** Called after every transaction that changed RAM or registers. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  write(bytes: Uint8Array): void {
    this.stats.transactions++;
    let i = 0;
    while (i < bytes.length) {
      const control = bytes[i++]!;
      const isData = (control & 0x40) !== 0;
      const continuation = (control & CONTROL_CONTINUATION) !== 0;
      // With Co=1 exactly one byte follows before the next control byte; with Co=0 the rest is one stream.
      const end = continuation ? Math.min(i + 1, bytes.length) : bytes.length;
      for (; i < end; i++) {
        if (isData) this.data(bytes[i]!);
        else this.command(bytes[i]!);
      }
    }
    for (const listener of this.listeners) listener();
  }

  private command(byte: number): void {
    this.stats.commandBytes++;
    if (this.pending.length > 0) {
      this.pending.push(byte);
      if (this.pending.length - 1 < parameterCount(this.pending[0]!)) return;
      const [cmd, ...params] = this.pending;
      this.pending = [];
      this.execute(cmd!, params);
      return;
    }
    if (parameterCount(byte) > 0) {
      this.pending = [byte];
      return;
    }
    this.execute(byte, []);
  }

  private execute(cmd: number, p: number[]): void {
    const r = this.reg;
    const pages = this.height / 8;
    if (cmd <= 0x0f) {
      // Page mode: lower nibble of the column start.
      this.column = (this.column & 0xf0) | (cmd & 0x0f);
      return;
    }
    if (cmd <= 0x1f) {
      this.column = ((cmd & 0x07) << 4) | (this.column & 0x0f);
      return;
    }
    if (cmd >= 0x40 && cmd <= 0x7f) {
      r.startLine = cmd & 0x3f;
      return;
    }
    if (cmd >= 0xb0 && cmd <= 0xb7) {
      this.page = (cmd & 0x07) % pages;
      return;
    }
    switch (cmd) {
      case Cmd.MEMORY_MODE:
        // 0b11 is invalid per the datasheet; the controller keeps its mode.
        if ((p[0]! & 0x03) !== 0x03) r.mode = (p[0]! & 0x03) as AddressingMode;
        return;
      case Cmd.COLUMN_ADDR:
        r.columnStart = p[0]! & 0x7f;
        r.columnEnd = p[1]! & 0x7f;
        this.column = r.columnStart;
        return;
      case Cmd.PAGE_ADDR:
        r.pageStart = (p[0]! & 0x07) % pages;
        r.pageEnd = (p[1]! & 0x07) % pages;
        this.page = r.pageStart;
        return;
      case Cmd.CONTRAST:
        r.contrast = p[0]!;
        return;
      case Cmd.CHARGE_PUMP:
        r.chargePump = (p[0]! & 0x04) !== 0;
        return;
      case Cmd.MULTIPLEX:
        r.multiplex = p[0]! & 0x3f;
        return;
      case Cmd.SEG_REMAP_OFF:
      case Cmd.SEG_REMAP_ON:
        r.segmentRemap = cmd === Cmd.SEG_REMAP_ON;
        return;
      case Cmd.COM_SCAN_INC:
      case Cmd.COM_SCAN_DEC:
        r.comScanDescending = cmd === Cmd.COM_SCAN_DEC;
        return;
      case Cmd.RESUME_RAM:
      case Cmd.ENTIRE_ON:
        r.entireOn = cmd === Cmd.ENTIRE_ON;
        return;
      case Cmd.NORMAL:
      case Cmd.INVERT:
        r.inverted = cmd === Cmd.INVERT;
        return;
      case Cmd.DISPLAY_OFF:
      case Cmd.DISPLAY_ON:
        r.displayOn = cmd === Cmd.DISPLAY_ON;
        return;
      case Cmd.SCROLL_START:
      case Cmd.SCROLL_STOP:
        r.scrolling = cmd === Cmd.SCROLL_START;
        return;
      default:
        // Timing and analogue settings (clock, precharge, VCOMH, COM pins, offset, scroll setup) and NOP do not
        // change the picture this model draws.
        return;
    }
  }

  private data(byte: number): void {
    this.stats.dataBytes++;
    const r = this.reg;
    this.ram.bytes[this.page * this.width + this.column] = byte;
    switch (r.mode) {
      case AddressingMode.Horizontal:
        if (this.column >= r.columnEnd) {
          this.column = r.columnStart;
          this.page = this.page >= r.pageEnd ? r.pageStart : this.page + 1;
        } else this.column++;
        return;
      case AddressingMode.Vertical:
        if (this.page >= r.pageEnd) {
          this.page = r.pageStart;
          this.column = this.column >= r.columnEnd ? r.columnStart : this.column + 1;
        } else this.page++;
        return;
      case AddressingMode.Page:
        // In page mode the column pointer wraps within the page; the page never advances by itself.
        this.column = this.column >= this.width - 1 ? 0 : this.column + 1;
        return;
    }
  }

  /** The pointer where the next data byte lands, as (column, page). */
  get cursor(): { column: number; page: number } {
    return { column: this.column, page: this.page };
  }

  /**
   * What the glass shows. Panels are wired so that segment remap (A1) and descending COM scan (C8) draw RAM
   * upright; other settings mirror or flip it, display off or charge pump off shows nothing.
   */
  picture(): Framebuffer {
    const r = this.reg;
    const out = new Framebuffer(this.width, this.height);
    if (!r.displayOn || !r.chargePump) return out;
    for (let y = 0; y < this.height; y++) {
      const ramRow = (((r.comScanDescending ? y : this.height - 1 - y) + r.startLine) % this.height) | 0;
      for (let x = 0; x < this.width; x++) {
        const ramCol = r.segmentRemap ? x : this.width - 1 - x;
        let on = r.entireOn || this.ram.getPixel(ramCol, ramRow);
        if (r.inverted) on = !on;
        out.setPixel(x, y, on);
      }
    }
    return out;
  }

  /** Perceived brightness of a lit pixel, 0..1, from the contrast register (never fully dark while on). */
  brightness(): number {
    return 0.3 + (0.7 * this.reg.contrast) / 255;
  }
}
