/**
 * The part of i2c-bus's promisified bus object that our drivers use. The real bus (`openI2cBus`) and the
 * emulated one (`EmulatedI2cBus`) both satisfy it, so a driver cannot tell them apart.
 */
export interface I2cBus {
  /** One raw I2C write transaction of `length` bytes to a 7-bit address. Rejects with the kernel's errno. */
  i2cWrite(
    address: number,
    length: number,
    buffer: Buffer,
  ): Promise<{ bytesWritten: number; buffer: Buffer }>;
  close(): Promise<void>;
}

/** Opens `/dev/i2c-<n>` through i2c-bus's asynchronous API (its calls run on the thread pool, not the loop). */
export async function openI2cBus(busNumber: number): Promise<I2cBus> {
  const i2c = await import('i2c-bus');
  return i2c.openPromisified(busNumber);
}

/** Nine clock periods per byte (eight bits and the acknowledge), plus the address byte of each transaction. */
export function busTimeMs(bytesPerTransaction: readonly number[], clockHz: number): number {
  const bytes = bytesPerTransaction.reduce((sum, n) => sum + n + 1, 0);
  return (bytes * 9 * 1000) / clockHz;
}
