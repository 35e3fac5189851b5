import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  listBlockDisks,
  listSataDisks,
  transportOf,
  vpdSerial,
} from '../../../drivers/disks/block-devices.js';
import { mountsOf, parseMounts, readMounts } from '../../../drivers/disks/mounts.js';
import { diskUsage } from '../../../drivers/disks/usage.js';
import { DiskWatcher, type DiskChanges } from '../../../drivers/disks/watcher.js';
import { DirectoryRoot } from '../../../drivers/fileroot/file-root.js';
import { MemoryRoot } from '../../../drivers/fileroot/memory-root.js';
import { EmulatedBoard } from '../../../drivers/proc/emulated.js';

const fixture = (name: string): DirectoryRoot =>
  new DirectoryRoot(fileURLToPath(new URL(`../../fixtures/proc/${name}/`, import.meta.url)));

describe('disk discovery from sys/block', () => {
  it('finds the SATA disk of the hand-made ARM board with model, VPD serial, size and partition', async () => {
    expect(await listSataDisks(fixture('arm64-board'))).toEqual([
      {
        name: 'sda',
        devPath: '/dev/sda',
        transport: 'sata',
        model: 'WDC WD10JPVX-22J',
        serial: 'WD-WX61A76JHRT4',
        sizeBytes: 1953525168 * 512,
        removable: false,
        readOnly: false,
        partitions: [{ name: 'sda1', number: 1, sizeBytes: 1953523087 * 512, startSector: 2048 }],
        sysPath: '../devices/platform/soc/1c18000.sata/ata1/host0/target0:0:0/0:0:0:0/block/sda',
      },
    ]);
  });

  it('lists the SD card too but leaves zram out', async () => {
    const disks = await listBlockDisks(fixture('arm64-board'));
    expect(disks.map((d) => `${d.name}:${d.transport}`)).toEqual(['mmcblk0:mmc', 'sda:sata']);
    expect(disks[0]!.partitions.map((p) => p.name)).toEqual(['mmcblk0p1', 'mmcblk0p2']);
  });

  it('finds this machine’s virtio disk and no SATA disk, skipping loop and zram devices', async () => {
    const root = fixture('debian-x86');
    const disks = await listBlockDisks(root);
    expect(disks.map((d) => [d.name, d.transport, d.serial])).toEqual([['vda', 'virtio', 'overlayblk']]);
    expect(await listSataDisks(root)).toEqual([]);
  });

  it('names transports from the sysfs device path', () => {
    expect(transportOf('../devices/pci0000:00/0000:00:1f.2/ata3/host2/target2:0:0/2:0:0:0/block/sdb')).toBe(
      'sata',
    );
    expect(
      transportOf('../devices/platform/soc/1c1b000.usb/usb3/3-1/3-1:1.0/host0/target0:0:0/0:0:0:0/block/sda'),
    ).toBe('usb');
    expect(transportOf('../devices/pci0000:00/0000:00:01.0/nvme/nvme0/nvme0n1')).toBe('nvme');
    expect(transportOf('../devices/virtual/block/loop0')).toBe('virtual');
  });

  it('reads a serial only from a well-formed VPD page 0x80', () => {
    expect(vpdSerial('\x00\uFFFD\x00\x05ABCDE')).toBe('ABCDE');
    expect(vpdSerial('\x00\x83\x00\x05ABCDE')).toBeNull();
    expect(vpdSerial('\x00')).toBeNull();
  });

  it('skips a disk with no medium (size 0) and one that vanishes mid-scan', async () => {
    const root = new MemoryRoot()
      .setLink(
        'sys/block/sdb',
        '../devices/platform/soc/1c18000.sata/ata2/host1/target1:0:0/1:0:0:0/block/sdb',
      )
      .set('sys/block/sdb/size', '0\n')
      .setLink(
        'sys/block/sdc',
        '../devices/platform/soc/1c18000.sata/ata3/host2/target2:0:0/2:0:0:0/block/sdc',
      );
    expect(await listBlockDisks(root)).toEqual([]);
  });
});

describe('mounts and usage', () => {
  it('reads mounts with escaped spaces and finds the ones of a disk', async () => {
    const root = fixture('arm64-board');
    const [sda] = await listSataDisks(root);
    expect(mountsOf(sda!, await readMounts(root))).toEqual([
      {
        source: '/dev/sda1',
        target: '/var/cache/skywire content',
        fstype: 'ext4',
        options: ['rw', 'noatime'],
      },
    ]);
  });

  it('falls back to /proc/mounts when /proc/self/mounts is absent', async () => {
    const root = new MemoryRoot().set('proc/mounts', '/dev/sda1 /mnt ext4 ro 0 0\n');
    expect((await readMounts(root))[0]!.options).toEqual(['ro']);
    expect(parseMounts('garbage\n\n')).toEqual([]);
  });

  it('computes usage as df does, from an injected statfs', async () => {
    const seen: string[] = [];
    const usage = await diskUsage('/var/cache/skywire', (path) => {
      seen.push(path);
      return Promise.resolve({ bsize: 4096, blocks: 1000, bfree: 300, bavail: 250 });
    });
    expect(seen).toEqual(['/var/cache/skywire']);
    expect(usage).toEqual({ size_bytes: 4096000, used_bytes: 2867200, avail_bytes: 1024000, used_pct: 73.7 });
  });
});

describe('disk watcher', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const sdb = {
    name: 'sdb',
    model: 'ST2000LM015',
    serial: 'WDZ12345',
    sizeBytes: 2e12,
    partitions: [2e12 - 2 ** 20],
  };

  it('notices a disk plugged in and one pulled within one period', async () => {
    vi.useFakeTimers();
    const board = new EmulatedBoard({ board: 1 });
    const events: string[] = [];
    const watcher = new DiskWatcher(board.root, {
      periodMs: 3000,
      onChange: (c: DiskChanges) =>
        events.push([...c.added.map((d) => `+${d.name}`), ...c.removed.map((d) => `-${d.name}`)].join(' ')),
    });
    await watcher.start();
    expect(events).toEqual(['+mmcblk0']);
    board.addDisk(sdb);
    await vi.advanceTimersByTimeAsync(3000);
    expect(events).toEqual(['+mmcblk0', '+sdb']);
    expect(watcher.current().find((d) => d.name === 'sdb')!.serial).toBe('WDZ12345');
    board.removeDisk('sdb');
    await vi.advanceTimersByTimeAsync(3000);
    expect(events).toEqual(['+mmcblk0', '+sdb', '-sdb']);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(events).toHaveLength(3);
    watcher.stop();
  });

  it('reports a disk swapped under the same name as removed and added', async () => {
    vi.useFakeTimers();
    const board = new EmulatedBoard({ board: 1, disks: [sdb] });
    const events: DiskChanges[] = [];
    const watcher = new DiskWatcher(board.root, { periodMs: 2000, onChange: (c) => events.push(c) });
    await watcher.start();
    board.removeDisk('sdb');
    board.addDisk({ ...sdb, serial: 'OTHER' });
    await vi.advanceTimersByTimeAsync(2000);
    expect(events[1]!.removed.map((d) => d.serial)).toEqual(['WDZ12345']);
    expect(events[1]!.added.map((d) => d.serial)).toEqual(['OTHER']);
    watcher.stop();
  });

  it('keeps the known disks through a failed scan instead of reporting them all gone', async () => {
    vi.useFakeTimers();
    const board = new EmulatedBoard({ board: 1, disks: [sdb] });
    let fail = false;
    const errors: string[] = [];
    const events: DiskChanges[] = [];
    const watcher = new DiskWatcher(board.root, {
      list: (root) => (fail ? Promise.reject(new Error('EIO')) : listBlockDisks(root)),
      onChange: (c) => events.push(c),
      onError: (m) => errors.push(m),
    });
    await watcher.start();
    fail = true;
    await vi.advanceTimersByTimeAsync(3000);
    fail = false;
    await vi.advanceTimersByTimeAsync(3000);
    expect(errors).toEqual(['disk scan failed: EIO']);
    expect(events).toHaveLength(1);
    expect(watcher.current().map((d) => d.name)).toEqual(['mmcblk0', 'sdb']);
    watcher.stop();
  });
});
