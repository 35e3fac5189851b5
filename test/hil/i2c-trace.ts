import type { RigResult } from '../rig/qemu.js';

export interface BusTransaction {
  atMs: number;
  address: number;
  bytes: number[];
  acked: boolean;
}

/**
 * Rebuilds the transactions that crossed QEMU's I2C bus from its `i2c_*` trace: `start(addr:0x3c)` opens
 * one, `send(addr:0x3c) data:0x40` adds a byte, `nack` marks an address nobody answered.
 */
export function busTransactions(result: RigResult): BusTransaction[] {
  const out: BusTransaction[] = [];
  let current: BusTransaction | null = null;
  for (const t of result.trace) {
    if (t.event === 'i2c_event') {
      const m = /^(\w+)\(addr:0x([0-9a-f]+)\)/.exec(t.args);
      if (m?.[1] === 'start' || m?.[1] === 'start_async') {
        current = { atMs: t.atMs, address: parseInt(m[2]!, 16), bytes: [], acked: true };
        out.push(current);
      } else if (m?.[1] === 'finish') current = null;
      else if (m?.[1] === 'nack' && current) current.acked = false;
    } else if (t.event === 'i2c_send' && current) {
      const m = /data:0x([0-9a-f]+)/.exec(t.args);
      if (m) current.bytes.push(parseInt(m[1]!, 16));
    }
  }
  return out;
}

/** What the driver counts: each transaction's bytes plus its address byte. */
export function busBytes(transactions: BusTransaction[]): number {
  return transactions.reduce((sum, t) => sum + t.bytes.length + 1, 0);
}
