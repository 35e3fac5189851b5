// Debian's U-Boot for QEMU's virt machine (u-boot-qemu) as the firmware of an emulated board: it finds the image's
// boot.scr on the virtio disk and keeps its environment on the machine's second flash bank, so the boot script's
// counting, saveenv and fallback run in the real U-Boot.
//
// Facts of qemu_arm64's U-Boot 2023.01 (read back from its own saveenv): CONFIG_ENV_IS_IN_FLASH at 0x4000000, the
// first byte of the second 64 MiB flash bank, 0x40000 bytes, one copy (no redundant environment: a CRC, then the
// variables). Linux maps both banks as one CFI flash (physmap), so the environment sits 64 MiB into it.
import { execFile } from 'node:child_process';
import { access, open } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const UBOOT_QEMU_ARM64 = '/usr/lib/u-boot/qemu_arm64/u-boot.bin';
export const VIRT_FLASH_BANK_BYTES = 64 * 1024 * 1024;
/** Where U-Boot keeps its environment, as an offset into the second flash bank (the file QEMU is given). */
export const UBOOT_ENV = { offset: 0, size: 0x40000 } as const;
/** The QEMU that can run it: unpacked from bookworm-backports by the Makefile (see uboot-qemu there). */
export const UBOOT_QEMU_DIR = '.cache/qemu-uboot';

/**
 * QEMU 7.2's CFI flash keeps only the first buffer of each of U-Boot's buffered writes (QEMU issue 2343, fixed
 * in 9.1), so saveenv fails there: the tests need a QEMU of 9.1 or later.
 */
export async function ubootQemu(repo: string): Promise<string> {
  const candidates = [join(repo, UBOOT_QEMU_DIR, 'usr/bin/qemu-system-aarch64'), 'qemu-system-aarch64'];
  for (const bin of candidates) {
    if (
      bin.includes('/') &&
      !(await access(bin).then(
        () => true,
        () => false,
      ))
    )
      continue;
    const out = await promisify(execFile)(bin, ['--version']).then(
      (r) => r.stdout,
      () => '',
    );
    const m = /version (\d+)\.(\d+)/.exec(out);
    if (m && (Number(m[1]) > 9 || (Number(m[1]) === 9 && Number(m[2]) >= 1))) return bin;
  }
  throw new Error(
    `no QEMU 9.1 or later for U-Boot's flash writes (bookworm's 7.2 drops them): run make test-hil, which unpacks one into ${UBOOT_QEMU_DIR}`,
  );
}

/** A blank second flash bank: erased NOR reads all ones, and U-Boot starts from its built-in environment. */
export async function blankFlash(path: string): Promise<void> {
  const fh = await open(path, 'w');
  try {
    const chunk = Buffer.alloc(1 << 20, 0xff);
    for (let at = 0; at < VIRT_FLASH_BANK_BYTES; at += chunk.length)
      await fh.write(chunk, 0, chunk.length, at);
  } finally {
    await fh.close();
  }
}
