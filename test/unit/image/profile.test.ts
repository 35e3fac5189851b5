import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listProfiles, loadProfile, parseProfileText, ProfileError } from '../../../images/profile/load.js';

const minimal = `
name = "test-board"
description = "a test board"
arch = "aarch64"
rootfs = "alpine"
[kernel]
package = "linux-lts"
image = "boot/vmlinuz-lts"
[bootloader]
kind = "none"
[console]
device = "ttyS0"
[watchdog]
module = "sunxi_wdt"
`;
const bad =
  (extra: string, base = minimal) =>
  () =>
    parseProfileText(base + extra, 'test-board.toml');

describe('board profiles', () => {
  it('ships a 64-bit and a 32-bit board, and both emulator profiles', async () => {
    const names = await listProfiles();
    const profiles = await Promise.all(names.map((n) => loadProfile(n)));
    const boards = profiles.filter((p) => p.rootfs === 'alpine');
    expect(boards.some((p) => p.arch === 'aarch64')).toBe(true);
    expect(boards.some((p) => p.arch === 'armv7')).toBe(true);
    expect(names).toContain('qemu-virt-arm64');
    expect(names).toContain('qemu-virt-armv7');
    for (const p of boards) expect(p.bootloader.kind).toBe('sunxi');
  });

  it('names the sunxi SPL offset as 8 KiB on every real board', async () => {
    for (const n of await listProfiles()) {
      const p = await loadProfile(n);
      if (p.bootloader.kind === 'sunxi') expect(p.bootloader.offset).toBe(8192);
    }
  });

  it("puts the card's block driver in every Alpine board's initramfs, not only its controller", async () => {
    for (const name of ['pine64-sopine', 'orangepi-plus', 'orangepi-prime']) {
      const p = await loadProfile(name);
      // linux-lts builds MMC as modules: sunxi_mmc finds the card, mmc_block makes it a disk the root is on.
      expect(p.kernel.initramfs_modules, name).toEqual(['sunxi_mmc', 'mmc_block', 'ext4']);
      expect(p.kernel.boot_modules, name).toEqual(expect.arrayContaining(['i2c_mv64xxx', 'i2c_dev']));
    }
  });

  it("keeps the release check's machine apart from the boards: Alpine with its own kernel, booted by QEMU", async () => {
    const p = await loadProfile(resolve('images/release/alpine-virt-arm64.toml'));
    expect(p).toMatchObject({
      rootfs: 'alpine',
      kernel: { package: 'linux-lts' },
      bootloader: { kind: 'none' },
    });
    expect(p.kernel.initramfs_modules).toEqual(['virtio_pci', 'virtio_blk', 'ext4']);
    expect(await listProfiles()).not.toContain('alpine-virt-arm64');
  });

  it('names an unknown key by its path', () => {
    expect(bad('\n[layout]\nboot_size = 64\n')).toThrow('test-board.toml: unknown key layout.boot_size');
  });

  it('names a bad architecture and what was given', () => {
    expect(() => parseProfileText(minimal.replace('"aarch64"', '"x86"'), 'p.toml')).toThrow(
      /^p\.toml: arch: .*got "x86"$/,
    );
  });

  it('checks the baked device config against the firmware schema', () => {
    expect(bad('\n[firmware_config.box]\nboards = 6\n')).toThrow(
      'test-board.toml: firmware_config: box.boards: expected a multiple of 4',
    );
  });

  it('refuses a bootloader that would run into the first partition', () => {
    const sunxi = minimal.replace(
      'kind = "none"',
      'kind = "sunxi"\noffset = 4194304\nfile = "u-boot.bin"\ndefconfig = "x_defconfig"',
    );
    expect(() => parseProfileText(sunxi, 'p.toml')).toThrow(
      'p.toml: bootloader.offset: must lie before the first partition',
    );
  });

  it('refuses a package without the path of the file in it', () => {
    const sunxi = minimal.replace(
      'kind = "none"',
      'kind = "sunxi"\ninput = "u-boot-sunxi-arm64"\nfile = "u-boot.bin"\ndefconfig = "x_defconfig"',
    );
    expect(() => parseProfileText(sunxi, 'p.toml')).toThrow('bootloader: input and path go together');
  });

  it('gives the line and column of broken TOML', () => {
    expect(() => parseProfileText('name = ', 'p.toml')).toThrow(/^p\.toml:1:\d+: not valid TOML/);
  });

  it('lists the known profiles when asked for one that does not exist', async () => {
    await expect(loadProfile('orangepi-zero9')).rejects.toThrow(ProfileError);
    await expect(loadProfile('orangepi-zero9')).rejects.toThrow(
      /no board profile "orangepi-zero9"; profiles: .*qemu-virt-arm64/,
    );
  });
});
