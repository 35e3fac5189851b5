import { describe, expect, it } from 'vitest';
import { bootedSlot, parseFwEnvConfig, slotPaths } from '../../../firmware/update/device.js';
import { FileEnvStore, RawEnvStore } from '../../../firmware/update/uboot-env.js';

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
});
