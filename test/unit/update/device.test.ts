import { describe, expect, it } from 'vitest';
import { bootedSlot, parseFwEnvConfig, slotPaths } from '../../../firmware/update/device.js';
import {
  CfiFlashEnvStore,
  encodeEnv,
  FileEnvStore,
  RawEnvStore,
  readEnv,
  updateEnv,
  type PhysFlash,
} from '../../../firmware/update/uboot-env.js';

/** A NOR flash as the addon sees it: erased blocks read all ones, writes are whole erased-then-programmed blocks. */
function fakeFlash(base: number, bytes: number) {
  const mem = Buffer.alloc(bytes, 0xff);
  const writes: { address: number; blockBytes: number; length: number }[] = [];
  const flash: PhysFlash = {
    read: (address, length) => Buffer.from(mem.subarray(address - base, address - base + length)),
    write: (address, blockBytes, data) => {
      writes.push({ address, blockBytes, length: data.length });
      data.copy(mem, address - base);
    },
  };
  return { mem, writes, flash };
}

describe('the board an update runs on', () => {
  it('knows its slot from the boot script, else from the root partition', () => {
    const mounts = 'proc /proc proc rw 0 0\n/dev/mmcblk0p3 / ext4 rw,relatime 0 0\n';
    expect(bootedSlot('console=ttyS0 skyminer.rootslot=A', mounts).slot).toBe('A');
    expect(bootedSlot('console=ttyS0', mounts)).toEqual({ slot: 'B', rootDevice: '/dev/mmcblk0p3' });
    expect(slotPaths('/dev/mmcblk0p3')).toEqual({ A: '/dev/mmcblk0p2', B: '/dev/mmcblk0p3' });
    expect(slotPaths('/dev/vda2')).toEqual({ A: '/dev/vda2', B: '/dev/vda3' });
  });

  it('refuses to update from a root that is not a slot', () => {
    expect(() => bootedSlot('', '/dev/sda1 / ext4 rw 0 0\n')).toThrow(
      'the root /dev/sda1 is not a root slot (partition 2 or 3)',
    );
  });

  it('reads fw_env.config as fw_setenv does: a redundant pair on raw storage, or a file on FAT', () => {
    const raw = parseFwEnvConfig(
      '# qemu flash\n/dev/mtd1 0x0 0x40000 0x40000\n/dev/mtd1 0x40000 0x40000 0x40000\n',
    );
    expect(raw).toBeInstanceOf(RawEnvStore);
    expect(raw.redundant).toBe(true);
    expect(raw.where).toBe('/dev/mtd1 at 0 and 262144');
    const file = parseFwEnvConfig('/boot/uboot.env 0x0 0x10000\n');
    expect(file).toBeInstanceOf(FileEnvStore);
    expect(file.size).toBe(0x10000);
    expect(() => parseFwEnvConfig('/dev/mtd1 0x0\n')).toThrow(
      'expected one or two lines "device offset size"',
    );
  });

  it('takes /dev/mem as a CFI flash at a physical address, one copy written a whole erase block at a time', async () => {
    const { mem, writes, flash } = fakeFlash(0x4000000, 0x80000);
    const store = parseFwEnvConfig('/dev/mem 0x4000000 0x20000 0x40000\n', flash);
    expect(store).toBeInstanceOf(CfiFlashEnvStore);
    expect(store.where).toBe('the flash at physical 0x4000000');
    // Blank flash: no saved copy, so no write over U-Boot's built-in defaults.
    expect(await readEnv(store)).toEqual({});
    await expect(updateEnv(store, { skyminer_try: 'B' })).rejects.toThrow(/has no saved copy yet/);
    encodeEnv({ bootcmd: 'run distro_bootcmd', skyminer_slot: 'A' }, 0x20000).copy(mem, 0);
    await updateEnv(store, { skyminer_try: 'B', skyminer_try_left: '1' });
    expect(writes).toEqual([{ address: 0x4000000, blockBytes: 0x40000, length: 0x40000 }]);
    expect(await readEnv(store)).toEqual({
      bootcmd: 'run distro_bootcmd',
      skyminer_slot: 'A',
      skyminer_try: 'B',
      skyminer_try_left: '1',
    });
    // The rest of the block past the environment is left erased.
    expect(mem.subarray(0x20000, 0x40000).every((b) => b === 0xff)).toBe(true);
  });

  it('refuses a /dev/mem environment it cannot write safely', () => {
    const { flash } = fakeFlash(0, 0x40000);
    for (const line of [
      '/dev/mem 0x4000000 0x40000 0x20000',
      '/dev/mem 0x4000002 0x40000',
      '/dev/mem 0x0 0x40000\n/dev/mem 0x40000 0x40000',
    ])
      expect(() => parseFwEnvConfig(line, flash)).toThrow(
        '/dev/mem takes one copy, word-aligned, its erase block at least its size',
      );
  });
});
