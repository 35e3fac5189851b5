import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { busTimeMs } from '../../../drivers/i2c/bus.js';
import { EmulatedI2cBus } from '../../../drivers/i2c/emulated-bus.js';
import { Ssd1306Model } from '../../../drivers/ssd1306/emulator.js';

describe('emulated I2C bus', () => {
  it('refuses a write to an empty address with ENXIO, as the kernel does', async () => {
    const bus = new EmulatedI2cBus();
    await expect(bus.i2cWrite(0x3d, 2, Buffer.from([0, 0xaf]))).rejects.toMatchObject({ code: 'ENXIO' });
  });

  it('reports a NACK mid-transfer as EREMOTEIO while the fault lasts', async () => {
    const bus = new EmulatedI2cBus();
    bus.attach(0x3c, new Ssd1306Model());
    bus.setFault('nack');
    await expect(bus.i2cWrite(0x3c, 2, Buffer.from([0, 0xaf]))).rejects.toMatchObject({ code: 'EREMOTEIO' });
    bus.setFault('none');
    await expect(bus.i2cWrite(0x3c, 2, Buffer.from([0, 0xaf]))).resolves.toMatchObject({ bytesWritten: 2 });
  });

  it('traces one line per transfer: milliseconds, address and bytes in hex', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trace-'));
    const bus = new EmulatedI2cBus();
    bus.attach(0x3c, new Ssd1306Model());
    bus.traceTo(join(dir, 'trace.txt'));
    await bus.i2cWrite(0x3c, 3, Buffer.from([0x00, 0x81, 0x7f]));
    await bus.i2cWrite(0x3c, 2, Buffer.from([0x40, 0xff]));
    await bus.close();
    const lines = (await readFile(join(dir, 'trace.txt'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d+\.\d{3} 0x3c 00817f$/);
    expect(lines[1]).toMatch(/^\d+\.\d{3} 0x3c 40ff$/);
  });

  it('models nine clock periods per byte including the address byte', () => {
    // 1024 data bytes + control byte + address byte at 400 kHz.
    expect(busTimeMs([1025], 400_000)).toBeCloseTo((1026 * 9) / 400, 5);
  });

  it('holds transfers while hung and fails them with ETIMEDOUT when the fault clears', async () => {
    const bus = new EmulatedI2cBus();
    bus.attach(0x3c, new Ssd1306Model());
    bus.faultAfter(1, 'hang');
    await bus.i2cWrite(0x3c, 2, Buffer.from([0, 0xaf]));
    let settled = false;
    const hung = bus.i2cWrite(0x3c, 2, Buffer.from([0, 0xae])).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    bus.setFault('none');
    await expect(hung).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(bus.attempts).toBe(2);
    expect(bus.transfers).toHaveLength(1);
  });
});
