import { describe, expect, it } from 'vitest';
import { crc32 } from '../../../firmware/update/uboot-env.js';
import { loadProfile } from '../../../images/profile/load.js';
import { bootScriptText, scriptImage } from '../../../images/stages/boot-script.js';

describe('U-Boot boot script', () => {
  it('counts a try down with saveenv, falls back when none are left, and roots the kernel in the chosen slot', async () => {
    const profile = await loadProfile('pine64-sopine');
    const text = bootScriptText({
      profile,
      cmdline: 'rootfstype=ext4 rw console=ttyS0,115200',
      signature: 0x1234abcd,
      fdt: 'dtbs/sun50i-a64-sopine-baseboard.dtb',
    });
    expect(text).toContain('setexpr skyminer_try_left ${skyminer_try_left} - 1');
    expect(text).toContain('setenv skyminer_fallback ${skyminer_try}');
    expect(text).toContain(
      'if test "${skyminer_boot}" = B; then setenv skyminer_part 03; else setenv skyminer_part 02; fi',
    );
    expect(text).toContain(
      'setenv bootargs "root=PARTUUID=1234abcd-${skyminer_part} rootfstype=ext4 rw console=ttyS0,115200 skyminer.rootslot=${skyminer_boot} panic=5 ${skyminer_args}"',
    );
    // Unpacked well past the initramfs where U-Boot names no buffer (its QEMU build).
    expect(text).toContain(
      'if test -z "${kernel_comp_addr_r}"; then setexpr kernel_comp_addr_r ${ramdisk_addr_r} + 0x8000000; fi',
    );
    expect(text).toContain('load ${devtype} ${devnum}:1 ${fdt_addr_r} /dtbs/sun50i-a64-sopine-baseboard.dtb');
    expect(text.trimEnd().split('\n').at(-1)).toBe(
      'booti ${kernel_addr_r} ${ramdisk_addr_r}:${filesize} ${fdt_addr_r}',
    );
    // saveenv only where something changed: never on an ordinary boot.
    expect(text.match(/saveenv/g)).toHaveLength(2);
  });

  it('boots a 32-bit board with bootz', async () => {
    const text = bootScriptText({ profile: await loadProfile('orangepi-plus'), cmdline: 'rw', signature: 1 });
    expect(text).toContain('bootz ${kernel_addr_r} ${ramdisk_addr_r}:${filesize} ${fdtcontroladdr}');
  });

  it('wraps the script as mkimage -T script does, with both CRCs right', () => {
    const img = scriptImage('echo hi\n', 'aarch64', 1_700_000_000);
    expect(img.readUInt32BE(0)).toBe(0x27051956);
    const header = Buffer.from(img.subarray(0, 64));
    const hcrc = header.readUInt32BE(4);
    header.writeUInt32BE(0, 4);
    expect(crc32(header)).toBe(hcrc);
    const data = img.subarray(64);
    expect(img.readUInt32BE(12)).toBe(data.length);
    expect(crc32(data)).toBe(img.readUInt32BE(24));
    expect([img[28], img[29], img[30], img[31]]).toEqual([5, 22, 6, 0]);
    expect(data.readUInt32BE(0)).toBe(8);
    expect(data.subarray(8).toString()).toBe('echo hi\n');
  });
});
