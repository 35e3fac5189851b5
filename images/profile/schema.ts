import { z } from 'zod';

const name = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected lower-case letters, digits and dashes');
const relPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'expected a relative path without ..');

/** Where the bootloader comes from: a file inside a pinned package, or a file the owner supplies by name. */
const bootloader = z.discriminatedUnion('kind', [
  // Nothing sits before the partitions: QEMU loads the kernel itself (from the boot partition's extlinux.conf),
  // or a U-Boot outside the card (QEMU's -bios) runs its boot.scr.
  z.strictObject({
    kind: z.literal('none'),
    /**
     * Where that outside U-Boot keeps its environment, as Linux sees it: fw_env.config's "device offset size
     * [erase block]" (the updates switch the root slot through it; /dev/mem: a flash at that physical address).
     * Absent: the image has no environment to switch with.
     */
    environment: z
      .string()
      .regex(/^\/dev\/\S+( (0x[0-9a-f]+|\d+)){2,3}$/, 'expected "device offset size [erase block]"')
      .optional(),
  }),
  z.strictObject({
    kind: z.literal('sunxi'),
    /** The sunxi boot ROM reads the SPL 8 KiB into the card. */
    offset: z.int().min(512).default(8192),
    /** Key of a pinned package in images/inputs.lock.json holding the file, and the file's path in it. */
    input: z.string().min(1).optional(),
    path: relPath.optional(),
    /**
     * 64-bit sunxi: U-Boot proper as a FIT image in the same package, written after the SPL (Debian's
     * u-boot-install-sunxi64 writes sunxi-spl.bin at 8 KiB and the .itb at 40 KiB).
     */
    fit_path: relPath.optional(),
    fit_offset: z.int().min(512).default(40960),
    /** The file name to ask the owner for (`--bootloader FILE`) when no reachable package has this board. */
    file: z.string().min(1),
    /** The U-Boot defconfig that builds it, named in the message that asks for the file. */
    defconfig: z.string().min(1),
  }),
]);

export const profileSchema = z.strictObject({
  name,
  description: z.string().min(1),
  arch: z.enum(['aarch64', 'armv7']),
  /**
   * Why no image of this profile would boot, when that is known: the build stops at once with this line instead of
   * making an image that cannot come up on the board.
   */
  unbuildable: z.string().min(1).optional(),
  /** debian-parts: the emulator profiles, from reachable Debian packages; alpine: the real boards. */
  rootfs: z.enum(['debian-parts', 'alpine']),
  kernel: z.strictObject({
    /** debian-parts: key of a pinned kernel package; alpine: the Alpine package name. */
    package: z.string().min(1),
    /** Path of the kernel inside the package. */
    image: relPath,
    /** Device tree inside the package (absent where the machine supplies its own, as QEMU's virt does). */
    devicetree: relPath.optional(),
    /** Modules the initramfs loads, in order, before the root is mounted (dependencies are added). */
    initramfs_modules: z.array(z.string().min(1)).default([]),
    /** Further modules copied into the root for the services (the watchdog driver, ...). */
    root_modules: z.array(z.string().min(1)).default([]),
    /**
     * Modules /etc/modules loads at boot, after the watchdog driver: drivers no device alias loads (i2c_dev, or
     * every driver on the emulator profiles, which have no hwdrivers). They go into the root as root_modules do.
     */
    boot_modules: z.array(z.string().min(1)).default([]),
    cmdline: z.string().default(''),
  }),
  bootloader,
  console: z.strictObject({
    device: z.string().regex(/^tty[A-Za-z0-9]+$/, 'expected a tty name such as ttyS0'),
    baud: z.int().min(1200).max(4_000_000).default(115200),
  }),
  watchdog: z.strictObject({
    /** Kernel module of the SoC's (or emulator's) watchdog; absent when built in. */
    module: z.string().min(1).optional(),
    timeout_s: z.int().min(1).max(600).default(15),
  }),
  layout: z
    .strictObject({
      /** Start of the first partition; the bootloader must end before it. */
      first_partition_mib: z.int().min(1).max(64).default(4),
      boot_mib: z.int().min(34).max(1024).default(64),
      /** Free space left in the root beyond its content (it grows to the card at first boot). */
      root_free_mib: z.int().min(8).max(4096).default(64),
      /** Each of the two root slots (an update's root must fit one). */
      slot_mib: z.int().min(64).max(16384).default(1024),
      /** The data partition in the image; it grows to the card at first boot. */
      data_mib: z.int().min(16).max(4096).default(64),
    })
    .prefault({}),
  /** The device config baked into /etc/skyminer/skyminer.conf; checked against the firmware's own schema. */
  firmware_config: z.record(z.string(), z.unknown()).default({}),
});

export type Profile = z.infer<typeof profileSchema>;
export type BootloaderSpec = Profile['bootloader'];

/** Debian's name for a profile's architecture. */
export function debianArch(arch: Profile['arch']): 'arm64' | 'armhf' {
  return arch === 'aarch64' ? 'arm64' : 'armhf';
}
