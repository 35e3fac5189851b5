import type { Profile } from '../profile/schema.js';

export interface BootEntry {
  kernel: string;
  initrd: string;
  fdt?: string;
  append: string;
}

/** The root partition's name on the kernel command line: the MBR signature and partition number. */
export function rootPartuuid(signature: number, partition: number): string {
  return `${(signature >>> 0).toString(16).padStart(8, '0')}-${partition.toString(16).padStart(2, '0')}`;
}

/**
 * Where the boot partition keeps the extlinux.conf of a direct boot (QEMU loading the kernel itself, slot A). Not
 * extlinux/extlinux.conf: U-Boot's distro boot looks for that before boot.scr in each place it scans and would
 * boot it, never running the script that chooses the root slot.
 */
export const DIRECT_BOOT_CONF = 'skyminer/extlinux.conf';

/** The extlinux.conf of a direct boot (DIRECT_BOOT_CONF), as the QEMU sessions read it. */
export function extlinuxConf(profile: Profile, entry: BootEntry): string {
  return [
    `# ${profile.name}: ${profile.description}`,
    'MENU TITLE Skyminer',
    'TIMEOUT 10',
    'DEFAULT skyminer',
    '',
    'LABEL skyminer',
    `  KERNEL ${entry.kernel}`,
    `  INITRD ${entry.initrd}`,
    ...(entry.fdt ? [`  FDT ${entry.fdt}`] : []),
    `  APPEND ${entry.append}`,
    '',
  ].join('\n');
}

export function kernelCmdline(profile: Profile, signature: number): string {
  const c = profile.console;
  return [
    `root=PARTUUID=${rootPartuuid(signature, 2)}`,
    'rootfstype=ext4',
    'rw',
    `console=${c.device},${c.baud}`,
    profile.kernel.cmdline,
  ]
    .filter(Boolean)
    .join(' ');
}

/** Reads the default entry of an extlinux.conf; a file without one is refused with a one-line reason. */
export function parseExtlinux(text: string): BootEntry {
  const lines = text.split('\n').map((l) => l.trim());
  const def = /^DEFAULT\s+(\S+)/i.exec(lines.find((l) => /^DEFAULT\s/i.test(l)) ?? '')?.[1];
  let current: string | undefined;
  const labels = new Map<string, Partial<BootEntry>>();
  for (const l of lines) {
    const m = /^(\S+)\s+(.*)$/.exec(l);
    if (!m || l.startsWith('#')) continue;
    const key = m[1]!.toUpperCase();
    if (key === 'LABEL') {
      current = m[2]!;
      labels.set(current, {});
    } else if (current) {
      const e = labels.get(current)!;
      if (key === 'KERNEL' || key === 'LINUX') e.kernel = m[2]!;
      else if (key === 'INITRD') e.initrd = m[2]!;
      else if (key === 'FDT') e.fdt = m[2]!;
      else if (key === 'APPEND') e.append = m[2]!;
    }
  }
  const entry = labels.get(def ?? [...labels.keys()][0] ?? '');
  if (!entry?.kernel) throw new Error('extlinux.conf has no entry with a KERNEL line');
  return {
    kernel: entry.kernel,
    initrd: entry.initrd ?? '',
    append: entry.append ?? '',
    ...(entry.fdt ? { fdt: entry.fdt } : {}),
  };
}
