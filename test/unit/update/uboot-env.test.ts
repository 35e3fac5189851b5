import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  activeCopy,
  crc32,
  decodeEnv,
  encodeEnv,
  readEnv,
  RawEnvStore,
  updateEnv,
} from '../../../firmware/update/uboot-env.js';

const SIZE = 0x1000;

async function rawStore(copies: Buffer[]): Promise<RawEnvStore> {
  const file = join(await mkdtemp(join(tmpdir(), 'env-')), 'flash');
  await writeFile(file, Buffer.concat(copies));
  return new RawEnvStore(file, copies.length === 2 ? [0, SIZE] : [0], SIZE);
}

describe('U-Boot environment', () => {
  it('computes the CRC-32 zlib and U-Boot compute', () => {
    const data = Buffer.from('bootdelay=2\0baudrate=115200\0\0');
    expect(crc32(data)).toBe(zlibCrc32(data));
  });

  it('reads back what it encodes, CRC first, variables NUL-separated', () => {
    const buf = encodeEnv({ bootdelay: '2', skyminer_slot: 'A' }, SIZE);
    expect(buf.length).toBe(SIZE);
    expect(buf.subarray(4, 32).toString()).toBe('bootdelay=2\0skyminer_slot=A\0');
    expect(decodeEnv(buf, false)).toEqual({ env: { bootdelay: '2', skyminer_slot: 'A' }, flags: 0 });
  });

  it('takes a copy with a wrong CRC for no environment (a torn write)', () => {
    const buf = encodeEnv({ a: '1' }, SIZE);
    buf[10]! ^= 1;
    expect(decodeEnv(buf, false)).toBeUndefined();
  });

  it('of a redundant pair takes the copy whose flags are one higher, 0 after 255', () => {
    const a = encodeEnv({ v: 'a' }, SIZE, 7);
    const b = encodeEnv({ v: 'b' }, SIZE, 8);
    expect(activeCopy([a, b])?.env.v).toBe('b');
    expect(activeCopy([encodeEnv({ v: 'a' }, SIZE, 255), encodeEnv({ v: 'b' }, SIZE, 0)])?.env.v).toBe('b');
    expect(activeCopy([encodeEnv({ v: 'a' }, SIZE, 0), encodeEnv({ v: 'b' }, SIZE, 255)])?.env.v).toBe('a');
  });

  it('writes a change into the spare copy, so the one in force is untouched until the new one is whole', async () => {
    const store = await rawStore([
      encodeEnv({ bootcmd: 'run distro_bootcmd', skyminer_slot: 'A' }, SIZE, 1),
      Buffer.alloc(SIZE, 0xff),
    ]);
    const before = (await readFile(store.path)).subarray(0, SIZE);
    await updateEnv(store, { skyminer_try: 'B', skyminer_try_left: '1' });
    const after = await readFile(store.path);
    expect(after.subarray(0, SIZE).equals(before)).toBe(true);
    expect(decodeEnv(after.subarray(SIZE), true)).toEqual({
      env: { bootcmd: 'run distro_bootcmd', skyminer_slot: 'A', skyminer_try: 'B', skyminer_try_left: '1' },
      flags: 2,
    });
    // The next change goes back to the first copy.
    await updateEnv(store, { skyminer_try: undefined, skyminer_try_left: undefined });
    expect(decodeEnv((await readFile(store.path)).subarray(0, SIZE), true)?.flags).toBe(3);
    expect(await readEnv(store)).toEqual({ bootcmd: 'run distro_bootcmd', skyminer_slot: 'A' });
  });

  it('keeps the environment in force when the write of the spare copy is cut short', async () => {
    const store = await rawStore([
      encodeEnv({ skyminer_slot: 'A' }, SIZE, 4),
      encodeEnv({ skyminer_slot: 'A' }, SIZE, 3),
    ]);
    const torn = encodeEnv({ skyminer_slot: 'A', skyminer_try: 'B' }, SIZE, 5).subarray(0, 20);
    const raw = await readFile(store.path);
    torn.copy(raw, SIZE);
    await writeFile(store.path, raw);
    expect(await readEnv(store)).toEqual({ skyminer_slot: 'A' });
  });

  it('refuses to write over an environment U-Boot never saved (its built-in bootcmd would be lost)', async () => {
    const store = await rawStore([Buffer.alloc(SIZE, 0xff), Buffer.alloc(SIZE, 0xff)]);
    await expect(updateEnv(store, { skyminer_try: 'B' })).rejects.toThrow('has no saved copy yet');
  });
});
