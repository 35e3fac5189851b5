import { appendFileSync, writeFileSync } from 'node:fs';
import { busTimeMs, type I2cBus } from './bus.js';

/** A device on the emulated bus: it receives the bytes of each write transaction addressed to it. */
export interface I2cDevice {
  write(bytes: Uint8Array): void;
}

/**
 * What the bus does with the next transactions; lets tests pull the cable or make the panel NACK.
 * `timeout` fails after 25 ms with ETIMEDOUT, as an adapter with a clock-stretch limit does; `hang` does not
 * settle until the fault is cleared, as a wedged adapter (its transfers then fail with ETIMEDOUT).
 */
export type BusFault = 'none' | 'nack' | 'timeout' | 'hang';

export interface EmulatedBusOptions {
  /** Bus clock used to model how long each transfer occupies the bus; transfers resolve after that time. */
  clockHz?: number;
  /** When set, resolve transfers after the modelled bus time instead of at once. */
  realTiming?: boolean;
}

/** An in-process I2C bus: routes writes to device models, records a trace, and can inject faults. */
export class EmulatedI2cBus implements I2cBus {
  private readonly devices = new Map<number, I2cDevice>();
  private traceFile: string | undefined;
  private traceLines: string[] = [];
  private fault: BusFault = 'none';
  private pendingFault: { after: number; fault: BusFault } | null = null;
  private hung: ((err: Error) => void)[] = [];
  /** Every call of i2cWrite, answered or not. */
  attempts = 0;
  private closed = false;
  /** Every transaction since creation, for tests and benchmarks. */
  readonly transfers: { address: number; bytes: Uint8Array }[] = [];
  bytesOnBus = 0;

  constructor(private readonly options: EmulatedBusOptions = {}) {}

  attach(address: number, device: I2cDevice): void {
    this.devices.set(address, device);
  }

  detach(address: number): void {
    this.devices.delete(address);
  }

  setFault(fault: BusFault): void {
    this.fault = fault;
    this.pendingFault = null;
    if (fault !== 'hang') this.releaseHung();
  }

  /** Transfers held by a `hang` fail when the fault ends, as the kernel's adapter timeout finally fires. */
  private releaseHung(): void {
    const hung = this.hung;
    this.hung = [];
    for (const reject of hung) reject(errno('ETIMEDOUT', 'connection timed out'));
  }

  /** Lets `transfers` more transactions through, then applies `fault`: a cable pulled in the middle of a frame. */
  faultAfter(transfers: number, fault: BusFault): void {
    this.pendingFault = { after: transfers, fault };
  }

  /**
   * Records every transfer to a file: `<ms since start> <address in hex> <bytes in hex>` per line, the time
   * counted from the start of the process so that a trace also tells how long start-up took.
   */
  traceTo(file: string): void {
    writeFileSync(file, '');
    this.traceFile = file;
  }

  async i2cWrite(
    address: number,
    length: number,
    buffer: Buffer,
  ): Promise<{ bytesWritten: number; buffer: Buffer }> {
    this.attempts++;
    if (this.closed) throw errno('EBADF', 'bus is closed');
    if (!Number.isInteger(address) || address < 0 || address > 0x7f)
      throw errno('EINVAL', `bad address ${address}`);
    const bytes = Uint8Array.prototype.slice.call(buffer, 0, length);
    if (this.pendingFault && this.pendingFault.after-- <= 0) {
      this.fault = this.pendingFault.fault;
      this.pendingFault = null;
    }
    if (this.fault === 'hang') {
      return new Promise((_, reject) => {
        this.hung.push(reject);
      });
    }
    if (this.fault === 'timeout') {
      await delay(25);
      throw errno('ETIMEDOUT', 'connection timed out');
    }
    const device = this.devices.get(address);
    // A missing device never acknowledges its address byte; the kernel reports ENXIO, a mid-transfer NACK EREMOTEIO.
    if (!device) throw errno('ENXIO', 'no such device or address');
    if (this.fault === 'nack') throw errno('EREMOTEIO', 'remote I/O error');
    this.transfers.push({ address, bytes });
    this.bytesOnBus += bytes.length + 1;
    if (this.traceFile) {
      const ms = performance.now().toFixed(3);
      this.traceLines.push(`${ms} ${hex2(address)} ${Buffer.from(bytes).toString('hex')}\n`);
      // Batched so that tracing a live panel does not put a synchronous file write in every transfer.
      if (this.traceLines.length >= 256) this.flushTrace();
    }
    device.write(bytes);
    if (this.options.realTiming) await delay(busTimeMs([bytes.length], this.options.clockHz ?? 400_000));
    return { bytesWritten: length, buffer };
  }

  /** Writes the buffered trace lines to the trace file. */
  flushTrace(): void {
    if (!this.traceFile || this.traceLines.length === 0) return;
    appendFileSync(this.traceFile, this.traceLines.join(''));
    this.traceLines = [];
  }

  close(): Promise<void> {
    this.releaseHung();
    this.flushTrace();
    this.closed = true;
    return Promise.resolve();
  }
}

function hex2(n: number): string {
  return '0x' + n.toString(16).padStart(2, '0');
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function errno(code: string, message: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}, ${message}`);
  err.code = code;
  return err;
}
