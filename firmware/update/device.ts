// Where a running board keeps what an update needs: its slots (from the root it booted), U-Boot's environment
// (/etc/fw_env.config, as fw_setenv reads it), the trusted keys, its profile and version, the update record.
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Slot } from './decision.js';
import type { SlotDevices } from './install.js';
import { loadNativeIoctl } from '../../drivers/native/addon.js';
import { CfiFlashEnvStore, FileEnvStore, RawEnvStore, type EnvStore, type PhysFlash } from './uboot-env.js';

export const FW_ENV_CONFIG = '/etc/fw_env.config';
export const RECORD_FILE = '/var/lib/skyminer/update.json';
export const RELEASE_FILE = '/etc/skyminer/image-release';

export class DeviceError extends Error {
  override readonly name = 'DeviceError';
}

/** The booted slot: skyminer.rootslot= from the boot script, else the root's partition number (2 A, 3 B). */
export function bootedSlot(cmdline: string, mounts: string): { slot: Slot; rootDevice: string } {
  const root = /^(\/dev\/\S+) \/ /m.exec(mounts)?.[1];
  if (!root) throw new DeviceError('cannot tell the root device from /proc/mounts');
  const named = /(?:^|\s)skyminer\.rootslot=([AB])(?:\s|$)/.exec(cmdline)?.[1] as Slot | undefined;
  const part = /(\d+)$/.exec(root)?.[1];
  const slot = named ?? (part === '2' ? 'A' : part === '3' ? 'B' : undefined);
  if (!slot) throw new DeviceError(`the root ${root} is not a root slot (partition 2 or 3)`);
  return { slot, rootDevice: root };
}

export function slotPaths(rootDevice: string): Record<Slot, string> {
  return { A: rootDevice.replace(/\d+$/, '2'), B: rootDevice.replace(/\d+$/, '3') };
}

/** The native addon's /dev/mem access, loaded only when an environment lives on such a flash. */
const nativeFlash: PhysFlash = {
  read: (address, length) => loadNativeIoctl().physRead(address, length),
  write: (address, blockBytes, data) => loadNativeIoctl().cfiWrite(address, blockBytes, data),
};

/**
 * fw_env.config: one line per copy, "device offset size [sector size]"; # comments. /dev/mem names a CFI flash
 * the kernel has no driver for, the offset being its physical address (QEMU virt's, see images/emulator/uboot.ts).
 */
export function parseFwEnvConfig(text: string, flash: PhysFlash = nativeFlash): EnvStore {
  const lines = text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean)
    .map((l) => l.split(/\s+/));
  if (lines.length < 1 || lines.length > 2 || lines.some((l) => l.length < 3))
    throw new DeviceError(`${FW_ENV_CONFIG}: expected one or two lines "device offset size"`);
  const num = (s: string) => Number(s);
  const size = num(lines[0]![2]!);
  if (
    !Number.isInteger(size) ||
    size < 16 ||
    lines.some((l) => num(l[2]!) !== size || !Number.isInteger(num(l[1]!)))
  )
    throw new DeviceError(`${FW_ENV_CONFIG}: offsets and sizes must be numbers, both copies the same size`);
  const device = lines[0]![0]!;
  if (lines.length === 1 && !device.startsWith('/dev/')) return new FileEnvStore(device, size);
  if (device === '/dev/mem') {
    const block = num(lines[0]![3] ?? String(size));
    if (lines.length !== 1 || !Number.isInteger(block) || block < size || block % 4 || num(lines[0]![1]!) % 4)
      throw new DeviceError(
        `${FW_ENV_CONFIG}: /dev/mem takes one copy, word-aligned, its erase block at least its size`,
      );
    return new CfiFlashEnvStore(num(lines[0]![1]!), size, block, flash);
  }
  return new RawEnvStore(
    device,
    lines.map((l) => num(l[1]!)),
    size,
  );
}

export async function loadEnvStore(file = FW_ENV_CONFIG): Promise<EnvStore> {
  const text = await readFile(file, 'utf8').catch(() => {
    throw new DeviceError(`no ${file}: this image has no U-Boot environment to switch the boot with`);
  });
  return parseFwEnvConfig(text);
}

export async function deviceSlots(): Promise<SlotDevices> {
  const { slot, rootDevice } = bootedSlot(
    await readFile('/proc/cmdline', 'utf8'),
    await readFile('/proc/mounts', 'utf8'),
  );
  const path = slotPaths(rootDevice);
  return {
    booted: slot,
    path,
    bytes: async (s) => {
      const sectors = await readFile(`/sys/class/block/${basename(path[s])}/size`, 'utf8').catch(() => '');
      if (/^\d+\s*$/.test(sectors)) return Number(sectors) * 512;
      return (await stat(path[s])).size;
    },
  };
}

export async function release(file = RELEASE_FILE): Promise<{ profile?: string; version?: string }> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const field = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(text)?.[1];
  const profile = field('PROFILE');
  const version = field('FIRMWARE_VERSION');
  return { ...(profile ? { profile } : {}), ...(version ? { version } : {}) };
}
