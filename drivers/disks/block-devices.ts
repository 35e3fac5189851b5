import type { FileRoot } from '../fileroot/file-root.js';

/** How a disk is attached, read from where its sysfs device sits (`.../ata1/host0/...` is SATA). */
export type Transport = 'sata' | 'usb' | 'nvme' | 'mmc' | 'virtio' | 'scsi' | 'unknown';

export interface BlockPartition {
  name: string;
  number: number;
  sizeBytes: number;
  startSector: number;
}

export interface BlockDisk {
  /** Kernel name, e.g. `sda`. */
  name: string;
  devPath: string;
  transport: Transport;
  model: string | null;
  serial: string | null;
  sizeBytes: number;
  removable: boolean;
  readOnly: boolean;
  partitions: BlockPartition[];
  /** Where `sys/block/<name>` points, e.g. `../devices/platform/soc/1c18000.sata/ata1/...`. */
  sysPath: string;
}

export function transportOf(sysPath: string): Transport | 'virtual' {
  if (sysPath.includes('/devices/virtual/')) return 'virtual';
  if (/\/ata\d+\//.test(sysPath)) return 'sata';
  if (/\/usb\d*\//.test(sysPath)) return 'usb';
  if (/\/nvme\d*\//.test(sysPath)) return 'nvme';
  if (/\/mmc_host\/|\/mmc\d+:/.test(sysPath)) return 'mmc';
  if (/\/virtio\d+\//.test(sysPath)) return 'virtio';
  if (/\/host\d+\/target\d+:/.test(sysPath)) return 'scsi';
  return 'unknown';
}

/**
 * The real disks of the board from `sys/block` (loops, zram, device-mapper and other virtual devices left out).
 * Rejects only when `sys/block` itself cannot be listed; a disk that vanishes mid-scan is simply not listed.
 */
export async function listBlockDisks(root: FileRoot): Promise<BlockDisk[]> {
  const names = await root.list('sys/block');
  const disks = await Promise.all(names.map((name) => readDisk(root, name).catch(() => null)));
  return disks.filter((d): d is BlockDisk => d !== null);
}

/** The SATA disks only: the ones that can hold the content cache. */
export async function listSataDisks(root: FileRoot): Promise<BlockDisk[]> {
  return (await listBlockDisks(root)).filter((d) => d.transport === 'sata');
}

async function readDisk(root: FileRoot, name: string): Promise<BlockDisk | null> {
  const dir = `sys/block/${name}`;
  const sysPath = await root.link(dir).catch(() => '');
  const transport = transportOf(sysPath);
  if (transport === 'virtual') return null;
  const text = (path: string): Promise<string | null> =>
    root.readText(`${dir}/${path}`).then(
      (t) => t,
      () => null,
    );
  const [size, removable, ro, model, mmcName, serial, devSerial, vpd80, entries] = await Promise.all([
    text('size'),
    text('removable'),
    text('ro'),
    text('device/model'),
    text('device/name'),
    text('serial'),
    text('device/serial'),
    text('device/vpd_pg80'),
    root.list(dir).catch(() => [] as string[]),
  ]);
  const sectors = Number((size ?? '').trim());
  if (!Number.isSafeInteger(sectors) || sectors <= 0) return null; // empty card reader slot, ejected medium
  const partitions = (
    await Promise.all(
      entries.filter((e) => e.startsWith(name)).map((p) => readPartition(root, `${dir}/${p}`, p)),
    )
  )
    .filter((p): p is BlockPartition => p !== null)
    .sort((a, b) => a.number - b.number);
  return {
    name,
    devPath: `/dev/${name}`,
    transport,
    model: clean(model) ?? clean(mmcName),
    serial: clean(serial) ?? clean(devSerial) ?? vpdSerial(vpd80),
    // sysfs counts 512-byte sectors whatever the disk's own sector size.
    sizeBytes: sectors * 512,
    removable: removable?.trim() === '1',
    readOnly: ro?.trim() === '1',
    partitions,
    sysPath,
  };
}

async function readPartition(root: FileRoot, dir: string, name: string): Promise<BlockPartition | null> {
  const [num, size, start] = await Promise.all(
    ['partition', 'size', 'start'].map((f) => root.readText(`${dir}/${f}`).catch(() => null)),
  );
  if (num == null || size == null) return null;
  return {
    name,
    number: Number(num.trim()),
    sizeBytes: Number(size.trim()) * 512,
    startSector: Number((start ?? '0').trim()),
  };
}

/**
 * The serial from SCSI VPD page 0x80: a 4-byte header (device type, page code 0x80, length) then ASCII. Read as
 * UTF-8 text, the lone 0x80 byte arrives as U+FFFD, one character for one byte, so offsets still hold.
 */
export function vpdSerial(page: string | null): string | null {
  if (page === null || page.length < 4 || ![0x80, 0xfffd].includes(page.charCodeAt(1))) return null;
  const len = page.charCodeAt(3);
  return clean(page.slice(4, 4 + len));
}

function clean(v: string | null): string | null {
  const t = (v ?? '').replace(/[\0-\x1f]/g, '').trim();
  return t === '' ? null : t;
}
