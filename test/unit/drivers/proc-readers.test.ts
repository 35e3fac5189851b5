import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DirectoryRoot } from '../../../drivers/fileroot/file-root.js';
import { MemoryRoot } from '../../../drivers/fileroot/memory-root.js';
import { counterRate } from '../../../drivers/proc/counters.js';
import { cpuLoad, cpuLoads, parseCpuStat, readCpuStat } from '../../../drivers/proc/cpu-stat.js';
import { diskRates, isWholeDisk, parseDiskStats, readDiskStats } from '../../../drivers/proc/diskstats.js';
import { parseLoadAvg, readLoadAvg } from '../../../drivers/proc/loadavg.js';
import { parseMemInfo, readMemInfo } from '../../../drivers/proc/meminfo.js';
import { netRates, parseNetDev, readNetDev } from '../../../drivers/proc/net-dev.js';
import { boardTemperature, readThermalZones } from '../../../drivers/proc/thermal.js';
import { parseUptime, readUptime } from '../../../drivers/proc/uptime.js';

const fixture = (name: string): DirectoryRoot =>
  new DirectoryRoot(fileURLToPath(new URL(`../../fixtures/proc/${name}/`, import.meta.url)));

describe('readers over this machine (recorded Debian x86 tree)', () => {
  const root = fixture('debian-x86');

  it('reads total and per-core jiffies from /proc/stat', async () => {
    const stat = await readCpuStat(root);
    expect(stat.total).toEqual({
      user: 13989,
      nice: 0,
      system: 4848,
      idle: 620386,
      iowait: 178,
      irq: 0,
      softirq: 68,
      steal: 39,
    });
    expect(stat.cores).toHaveLength(2);
    expect(stat.cores[1]!.user).toBe(8359);
  });

  it('reads load, uptime and memory', async () => {
    expect(await readLoadAvg(root)).toEqual({
      load1: 0.68,
      load5: 0.39,
      load15: 0.19,
      running: 2,
      total: 129,
    });
    expect(await readUptime(root)).toEqual({ uptime: 3205.36, idle: 6203.86 });
    const mem = await readMemInfo(root);
    expect(mem.total).toBe(24684092 * 1024);
    expect(mem.available).toBe(24181300 * 1024);
    expect(mem.cached).toBe(196172 * 1024);
  });

  it('reads every interface of /proc/net/dev', async () => {
    const net = await readNetDev(root);
    expect([...net.keys()]).toEqual(['lo', 'ifb0', 'ifb1', 'eth0']);
    expect(net.get('eth0')).toEqual({
      rxBytes: 508620122,
      rxPackets: 14213,
      txBytes: 1196612,
      txPackets: 9170,
    });
  });

  it('reads diskstats lines with discard and flush fields', async () => {
    const disks = await readDiskStats(root);
    expect(disks.size).toBe(10);
    expect(disks.get('vda')).toEqual({
      readsCompleted: 18490,
      sectorsRead: 1222658,
      writesCompleted: 4891,
      sectorsWritten: 1996392,
      ioMs: 4320,
    });
    expect([...disks.keys()].filter(isWholeDisk)).toEqual(['vda']);
  });

  it('finds no thermal zone on a VM and says so with null, not 0', async () => {
    const zones = await readThermalZones(root);
    expect(zones).toEqual([]);
    expect(boardTemperature(zones)).toBeNull();
  });
});

describe('readers over a hand-made ARM board tree', () => {
  const root = fixture('arm64-board');

  it('reads four cores and the hottest sunxi thermal zone', async () => {
    const stat = await readCpuStat(root);
    expect(stat.cores.map((c) => c!.idle)).toEqual([11956012, 12119771, 12131507, 12097834]);
    const zones = await readThermalZones(root);
    expect(zones).toEqual([
      { zone: 0, type: 'cpu-thermal', tempC: 46.27 },
      { zone: 1, type: 'gpu-thermal', tempC: 44.12 },
    ]);
    expect(boardTemperature(zones)).toBe(46.27);
  });

  it('reads 64-bit-sized eth0 counters and the SATA disk', async () => {
    expect((await readNetDev(root)).get('eth0')).toEqual({
      rxBytes: 9184733421,
      rxPackets: 31837721,
      txBytes: 3318226690,
      txPackets: 22801474,
    });
    const disks = await readDiskStats(root);
    expect([...disks.keys()].filter(isWholeDisk)).toEqual(['mmcblk0', 'sda']);
    expect(disks.get('sda')!.sectorsRead).toBe(44317226);
  });
});

describe('parsers reject malformed text with a one-line error naming the file', () => {
  it.each([
    ['/proc/stat', () => parseCpuStat('intr 1 2 3\n')],
    ['/proc/stat', () => parseCpuStat('cpu  1 2 x 4\n')],
    ['/proc/loadavg', () => parseLoadAvg('0.1 0.2\n')],
    ['/proc/uptime', () => parseUptime('abc\n')],
    ['/proc/meminfo', () => parseMemInfo('Cached: 5 kB\n')],
    ['/proc/net/dev', () => parseNetDev('  eth0: 1 2 3\n')],
    ['/proc/diskstats', () => parseDiskStats('   8 0 sda 1 2\n')],
  ])('%s', (file, parse) => {
    expect(parse).toThrow(new RegExp(`^${file.replace(/\//g, '\\/')}: `));
  });

  it('estimates available memory on kernels without MemAvailable', () => {
    const mem = parseMemInfo(
      'MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 200 kB\nSReclaimable: 10 kB\n',
    );
    expect(mem.available).toBe(360 * 1024);
  });
});

describe('rates from two samples', () => {
  it('gives bytes per second from two readings', () => {
    expect(counterRate(1000, 3000, 2)).toEqual({ value: 1000 });
  });

  it('gives null, not a negative rate, when a counter goes backwards (reboot, interface re-created)', () => {
    expect(counterRate(5000, 10, 1, { maxPerSecond: 1e9 })).toEqual({ value: null, reason: 'counter-reset' });
  });

  it('recovers a 32-bit wrap when the recovered rate is believable', () => {
    const r = counterRate(2 ** 32 - 1000, 500, 1, { maxPerSecond: 1.25e8, wrap32: true });
    expect(r).toEqual({ value: 1500, wrapped: true });
  });

  it('calls a 32-bit counter that restarted from zero a reset, not a huge wrap', () => {
    expect(counterRate(3_000_000_000, 10, 1, { maxPerSecond: 1.25e8, wrap32: true })).toEqual({
      value: null,
      reason: 'counter-reset',
    });
  });

  it('rejects an absurd forward jump and a zero interval', () => {
    expect(counterRate(0, 1e12, 1, { maxPerSecond: 1.25e9 })).toEqual({
      value: null,
      reason: 'implausible-jump',
    });
    expect(counterRate(1, 2, 0)).toEqual({ value: null, reason: 'no-time-elapsed' });
  });

  it('gives interface rates and null rates for an interface that just appeared or came back', () => {
    const a = parseNetDev(netDev([['eth0', 1000, 10, 500, 5]]));
    const b = parseNetDev(
      netDev([
        ['eth0', 3000, 12, 900, 9],
        ['wg0', 77, 1, 0, 0],
      ]),
    );
    const r = netRates(a, b, 2);
    expect(r.get('eth0')!.rxBytes).toEqual({ value: 1000 });
    expect(r.get('eth0')!.txPackets).toEqual({ value: 2 });
    expect(r.get('wg0')!.rxBytes).toEqual({ value: null, reason: 'no-previous' });
    const back = netRates(b, parseNetDev(netDev([['eth0', 20, 1, 0, 0]])), 1);
    expect(back.get('eth0')!.rxBytes).toEqual({ value: null, reason: 'counter-reset' });
  });

  it('computes CPU busy share with iowait counted as idle', () => {
    const a = parseCpuStat('cpu  100 0 100 700 100 0 0 0\ncpu0 100 0 100 700 100 0 0 0\n');
    const b = parseCpuStat('cpu  160 0 120 800 120 0 0 0\ncpu0 160 0 120 800 120 0 0 0\n');
    const loads = cpuLoads(a, b);
    expect(loads.total.pct).toBeCloseTo(40, 10);
    expect(loads.cores).toEqual([{ pct: loads.total.pct }]);
  });

  it('gives null CPU load after a reboot and for a core that went offline', () => {
    const a = parseCpuStat('cpu  500 0 100 900 0\ncpu0 250 0 50 450 0\ncpu1 250 0 50 450 0\n');
    const b = parseCpuStat('cpu  10 0 5 30 0\ncpu0 10 0 5 30 0\n');
    const loads = cpuLoads(a, b);
    expect(loads.total).toEqual({ pct: null, reason: 'counter-reset' });
    expect(loads.cores[1]).toEqual({ pct: null, reason: 'core-missing' });
    expect(cpuLoad(a.total, a.total)).toEqual({ pct: null, reason: 'no-time-elapsed' });
  });

  it('gives disk throughput, ops and busy share from diskstats', () => {
    const a = parseDiskStats('   8       0 sda 100 0 800 50 10 0 80 5 0 100 55\n');
    const b = parseDiskStats('   8       0 sda 300 0 4800 150 30 0 1080 15 0 600 155\n');
    const r = diskRates(a.get('sda'), b.get('sda')!, 1);
    expect(r.readBytes).toEqual({ value: 4000 * 512 });
    expect(r.writeBytes).toEqual({ value: 1000 * 512 });
    expect(r.readOps).toEqual({ value: 200 });
    expect(r.busyPct).toEqual({ value: 50 });
  });
});

describe('memory roots used as a /proc', () => {
  it('serves the readers from text set in memory', async () => {
    const root = new MemoryRoot().set('proc/loadavg', '1.00 2.00 3.00 4/5 6\n');
    expect((await readLoadAvg(root)).load15).toBe(3);
  });
});

function netDev(rows: [string, number, number, number, number][]): string {
  const head =
    'Inter-|   Receive                                                |  Transmit\n' +
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n';
  return (
    head +
    rows
      .map(([n, rb, rp, tb, tp]) => `${n.padStart(6)}: ${rb} ${rp} 0 0 0 0 0 0 ${tb} ${tp} 0 0 0 0 0 0`)
      .join('\n') +
    '\n'
  );
}
