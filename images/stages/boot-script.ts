// boot.scr: the U-Boot script on the boot partition that picks the root slot (firmware/update/decision.ts's
// bootChoice, in U-Boot's hush): a new slot gets its tries counted down, with saveenv before each, and once they
// are used up the committed slot boots again with skyminer_fallback naming the one that failed. Stock U-Boot's
// distro boot runs boot.scr, so no bootloader change is needed (none of the sunxi defconfigs has BOOTCOUNT); the
// image has no extlinux/extlinux.conf, which distro boot would take first (the direct boot's is elsewhere:
// DIRECT_BOOT_CONF).
import { crc32 } from '../../firmware/update/uboot-env.js';
import { ENV } from '../../firmware/update/decision.js';
import { DATA_PARTITION, SLOT_PARTITIONS } from '../layout/disk.js';
import type { Profile } from '../profile/schema.js';

export interface BootScriptOptions {
  profile: Profile;
  /** The kernel command line without root= (it follows the chosen slot). */
  cmdline: string;
  /** The MBR signature: root=PARTUUID=<signature>-<partition>. */
  signature: number;
  /** The device tree on the boot partition, where the board needs one loaded. */
  fdt?: string;
}

export function bootScriptText(o: BootScriptOptions): string {
  const sig = (o.signature >>> 0).toString(16).padStart(8, '0');
  const part = (n: number) => n.toString(16).padStart(2, '0');
  const boot = o.profile.arch === 'aarch64' ? 'booti' : 'bootz';
  const fdtAddr = o.fdt ? '${fdt_addr_r}' : '${fdtcontroladdr}';
  return [
    `# Skyminer ${o.profile.name}: choose the root slot (A is partition ${SLOT_PARTITIONS.A}, B is ${SLOT_PARTITIONS.B}; data is ${DATA_PARTITION}).`,
    `if test -z "\${${ENV.slot}}"; then setenv ${ENV.slot} A; saveenv; fi`,
    `setenv skyminer_boot \${${ENV.slot}}`,
    `if test -n "\${${ENV.try}}"; then`,
    `  if test "\${${ENV.tryLeft}}" -gt 0; then`,
    `    setexpr ${ENV.tryLeft} \${${ENV.tryLeft}} - 1`,
    `    setenv skyminer_boot \${${ENV.try}}`,
    '  else',
    `    setenv ${ENV.fallback} \${${ENV.try}}`,
    `    setenv ${ENV.try}`,
    `    setenv ${ENV.tryLeft}`,
    '  fi',
    '  saveenv',
    'fi',
    `if test "\${skyminer_boot}" = B; then setenv skyminer_part ${part(SLOT_PARTITIONS.B)}; else setenv skyminer_part ${part(SLOT_PARTITIONS.A)}; fi`,
    'echo "skyminer: booting root slot ${skyminer_boot} (partition ${skyminer_part})"',
    // panic=5: a root that cannot start init reboots into this script instead of hanging. skyminer_args: the
    // owner's own additions (fw_setenv skyminer_args skyminer.slot=1), kept across updates in the environment.
    `setenv bootargs "root=PARTUUID=${sig}-\${skyminer_part} ${o.cmdline} skyminer.rootslot=\${skyminer_boot} panic=5 \${skyminer_args}"`,
    // A compressed arm64 kernel is unpacked into a scratch buffer first: well past the initramfs, which is loaded
    // before booti runs (U-Boot's QEMU build names no buffer; the sunxi builds do).
    ...(boot === 'booti'
      ? [
          'if test -z "${kernel_comp_addr_r}"; then setexpr kernel_comp_addr_r ${ramdisk_addr_r} + 0x8000000; fi',
          'if test -z "${kernel_comp_size}"; then setenv kernel_comp_size 0x3000000; fi',
        ]
      : []),
    'load ${devtype} ${devnum}:1 ${kernel_addr_r} /vmlinuz',
    ...(o.fdt ? [`load \${devtype} \${devnum}:1 \${fdt_addr_r} /${o.fdt}`] : []),
    'load ${devtype} ${devnum}:1 ${ramdisk_addr_r} /initramfs',
    `${boot} \${kernel_addr_r} \${ramdisk_addr_r}:\${filesize} ${fdtAddr}`,
    '',
  ].join('\n');
}

/** The script wrapped as `mkimage -T script -C none` does: a legacy image header, a length table, the text. */
export function scriptImage(text: string, arch: Profile['arch'], epoch: number): Buffer {
  const script = Buffer.from(text);
  const data = Buffer.alloc(8 + script.length);
  data.writeUInt32BE(script.length, 0);
  data.writeUInt32BE(0, 4);
  script.copy(data, 8);
  const h = Buffer.alloc(64);
  h.writeUInt32BE(0x27051956, 0); // magic
  h.writeUInt32BE(epoch >>> 0, 8);
  h.writeUInt32BE(data.length, 12);
  h.writeUInt32BE(crc32(data), 24);
  h[28] = 5; // os: Linux
  h[29] = arch === 'aarch64' ? 22 : 2; // arch: arm64 or arm
  h[30] = 6; // type: script
  h[31] = 0; // compression: none
  h.write('skyminer slot chooser', 32, 'latin1');
  h.writeUInt32BE(crc32(h), 4); // header CRC, computed with its own field zero
  return Buffer.concat([h, data]);
}
