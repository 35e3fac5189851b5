import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DirectoryRoot } from '../../../drivers/fileroot/file-root.js';
import { MemoryRoot } from '../../../drivers/fileroot/memory-root.js';
import { EmulatedBoard } from '../../../drivers/proc/emulated.js';
import { inventory, type InventorySource } from '../../../firmware/telemetry/inventory.js';
import { sampleBoard } from '../../../firmware/telemetry/sample.js';
import { TelemetrySampler } from '../../../firmware/telemetry/sampler.js';

const arm = new DirectoryRoot(fileURLToPath(new URL('../../fixtures/proc/arm64-board/', import.meta.url)));
const x86 = new DirectoryRoot(fileURLToPath(new URL('../../fixtures/proc/debian-x86/', import.meta.url)));

describe('board telemetry sample', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('summarises the recorded ARM board; rates wait for a second sample', async () => {
    const { summary } = await sampleBoard(arm, null, { now: () => 1000 });
    expect(summary).toEqual({
      uptime_s: 127101.37,
      cpu_pct: null,
      cpu_cores_pct: [null, null, null, null],
      load1: 0.42,
      mem_used_bytes: (2031876 - 1563104) * 1024,
      mem_total_bytes: 2031876 * 1024,
      temp_c: 46.27,
      net_rx_bps: null,
      net_tx_bps: null,
      net: { eth0: { rx_bps: null, tx_bps: null, rx_pps: null, tx_pps: null } },
      disks: {
        mmcblk0: { read_bps: null, write_bps: null, read_iops: null, write_iops: null, busy_pct: null },
        sda: { read_bps: null, write_bps: null, read_iops: null, write_iops: null, busy_pct: null },
      },
      notes: ['first-sample'],
      errors: [],
    });
  });

  it('summarises this machine’s recorded tree, which has no thermal zone', async () => {
    const { summary } = await sampleBoard(x86, null);
    expect(summary.temp_c).toBeNull();
    expect(Object.keys(summary.net)).toEqual(['ifb0', 'ifb1', 'eth0']);
    expect(Object.keys(summary.disks)).toEqual(['vda']);
    expect(summary.errors).toEqual([]);
  });

  it('gives live rates on an emulated board driven by fake time', async () => {
    vi.useFakeTimers();
    const board = new EmulatedBoard({ board: 4, seed: 2, disks: [sata()] });
    let s = await sampleBoard(board.root, null);
    vi.advanceTimersByTime(1000);
    s = await sampleBoard(board.root, s);
    const m = s.summary;
    expect(m.notes).toEqual([]);
    expect(m.cpu_pct).toBeGreaterThan(0);
    expect(m.cpu_pct).toBeLessThan(100);
    expect(m.cpu_cores_pct).toHaveLength(4);
    expect(m.net_rx_bps).toBeGreaterThan(0);
    expect(m.net.eth0!.rx_bps).toBe(m.net_rx_bps);
    expect(m.disks.sda!.read_bps).toBeGreaterThanOrEqual(0);
    expect(m.temp_c).toBeGreaterThan(30);
  });

  it('reports a reboot instead of rates when uptime goes backwards', async () => {
    const root = new MemoryRoot();
    const set = (uptime: number, jiffies: number, rx: number): void => {
      root.set('proc/uptime', `${uptime} 0.00\n`);
      root.set(
        'proc/stat',
        `cpu  ${jiffies} 0 0 ${jiffies} 0 0 0 0 0 0\ncpu0 ${jiffies} 0 0 ${jiffies} 0 0 0 0 0 0\n`,
      );
      root.set('proc/net/dev', `h|\nh|\n  eth0: ${rx} 1 0 0 0 0 0 0 ${rx} 1 0 0 0 0 0 0\n`);
    };
    set(5000, 90000, 5e9);
    const a = await sampleBoard(root, null, { now: () => 0 });
    set(12, 100000, 6e9);
    const b = await sampleBoard(root, a, { now: () => 1000 });
    expect(b.summary.notes).toContain('rebooted');
    expect(b.summary.cpu_pct).toBeNull();
    expect(b.summary.net.eth0!.rx_bps).toBeNull();
  });

  it('keeps going when files are missing, naming each one that failed', async () => {
    const root = new MemoryRoot()
      .set('proc/loadavg', '0.50 0.40 0.30 1/80 99\n')
      .set('proc/stat', 'garbage\n');
    const { summary } = await sampleBoard(root, null);
    expect(summary.load1).toBe(0.5);
    expect(summary.errors).toEqual([
      "uptime: ENOENT: no such file or directory, 'proc/uptime'",
      'cpu: /proc/stat: no aggregate "cpu" line',
      "meminfo: ENOENT: no such file or directory, 'proc/meminfo'",
      "net: ENOENT: no such file or directory, 'proc/net/dev'",
      "diskstats: ENOENT: no such file or directory, 'proc/diskstats'",
    ]);
  });
});

describe('telemetry sampler', () => {
  it('keeps the latest summary for the heartbeat, with rates from the second period on', async () => {
    vi.useFakeTimers();
    const board = new EmulatedBoard({ board: 1, seed: 4 });
    const sampler = new TelemetrySampler(board.root, { periodMs: 1000 });
    expect(sampler.latest()).toBeUndefined();
    await sampler.start();
    expect(sampler.latest()!.notes).toEqual(['first-sample']);
    await vi.advanceTimersByTimeAsync(1000);
    const heartbeatField: Record<string, unknown> | undefined = sampler.latest();
    expect(heartbeatField!.cpu_pct).toBeGreaterThan(0);
    sampler.stop();
    vi.useRealTimers();
  });
});

describe('board inventory', () => {
  const empty: InventorySource = {
    system: () => Promise.resolve({ manufacturer: '', model: '', serial: '-' }),
    cpu: () => Promise.resolve({ manufacturer: '', brand: '', cores: 0 }),
    mem: () => Promise.resolve({ total: 0 }),
  };

  it('fills what systeminformation leaves empty on busybox from the device tree and /proc', async () => {
    const inv = await inventory(arm, {
      ...empty,
      system: () => Promise.resolve({ manufacturer: '', model: '', serial: '' }),
    });
    expect(inv).toEqual({
      model: 'Xunlong Orange Pi Prime',
      soc: 'allwinner,sun50i-h5',
      serial: null,
      cpu: 'ARM Cortex-A53',
      cores: 4,
      mac: '02:ba:7c:41:d2:06',
      os: 'Alpine Linux v3.20',
      kernel: '6.6.58-0-lts',
      mem_total_bytes: 2031876 * 1024,
      fallbacks: ['model', 'serial', 'cpu', 'cores', 'mem_total_bytes', 'mac', 'os', 'kernel'],
    });
  });

  it('uses systeminformation’s answers when it has them', async () => {
    const full: InventorySource = {
      system: () =>
        Promise.resolve({ manufacturer: 'Xunlong', model: 'Orange Pi Prime', serial: '02c00142b2a5a4a3' }),
      cpu: () => Promise.resolve({ manufacturer: 'ARM', brand: 'Cortex-A53', cores: 4 }),
      mem: () => Promise.resolve({ total: 2080641024 }),
      osInfo: () => Promise.resolve({ distro: 'Alpine Linux', release: '3.20.3', kernel: '6.6.58-0-lts' }),
      networkInterfaces: () =>
        Promise.resolve([
          { iface: 'lo', mac: '00:00:00:00:00:00', internal: true, virtual: false, type: 'virtual' },
          { iface: 'docker0', mac: '02:42:ac:11:00:01', internal: false, virtual: true, type: 'virtual' },
          { iface: 'eth0', mac: '02:BA:7C:41:D2:06', internal: false, virtual: false, type: 'wired' },
        ]),
    };
    expect(await inventory(arm, full)).toEqual({
      model: 'Xunlong Orange Pi Prime',
      soc: 'allwinner,sun50i-h5',
      serial: '02c00142b2a5a4a3',
      cpu: 'ARM Cortex-A53',
      cores: 4,
      mac: '02:ba:7c:41:d2:06',
      os: 'Alpine Linux 3.20.3',
      kernel: '6.6.58-0-lts',
      mem_total_bytes: 2080641024,
      fallbacks: [],
    });
  });

  it('does not wait forever for a systeminformation call that hangs', async () => {
    vi.useFakeTimers();
    const never = (): Promise<never> => new Promise(() => undefined);
    const pending = inventory(arm, { system: never, cpu: never, mem: never }, { timeoutMs: 5000 });
    await vi.advanceTimersByTimeAsync(5000);
    expect((await pending).cores).toBe(4);
    vi.useRealTimers();
  });
});

function sata() {
  return {
    name: 'sda',
    model: 'WDC WD10JPVX-22J',
    serial: 'WD-WX61A76JHRT4',
    sizeBytes: 1e12,
    partitions: [1e12 - 2 ** 20],
  };
}
