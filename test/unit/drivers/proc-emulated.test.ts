import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cpuLoads, readCpuStat } from '../../../drivers/proc/cpu-stat.js';
import { readDiskStats } from '../../../drivers/proc/diskstats.js';
import { EmulatedBoard } from '../../../drivers/proc/emulated.js';
import { readLoadAvg } from '../../../drivers/proc/loadavg.js';
import { readMemInfo } from '../../../drivers/proc/meminfo.js';
import { netRates, readNetDev } from '../../../drivers/proc/net-dev.js';
import { readThermalZones } from '../../../drivers/proc/thermal.js';
import { readUptime } from '../../../drivers/proc/uptime.js';

describe('emulated board /proc and /sys', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is parsed by the real readers in the kernel formats', async () => {
    const board = new EmulatedBoard({ board: 3, seed: 1, memTotalBytes: 2 * 1024 ** 3 });
    const stat = await readCpuStat(board.root);
    expect(stat.cores).toHaveLength(4);
    const mem = await readMemInfo(board.root);
    expect(mem.total).toBe(2 * 1024 ** 3);
    expect(mem.available).toBeLessThan(mem.total);
    expect((await readLoadAvg(board.root)).load1).toBeGreaterThanOrEqual(0);
    expect([...(await readNetDev(board.root)).keys()]).toEqual(['lo', 'eth0']);
    expect((await readThermalZones(board.root))[0]!.type).toBe('cpu-thermal');
    const text = await board.root.readText('proc/meminfo');
    expect(text.split('\n')[0]).toMatch(/^MemTotal: {8}2097152 kB$/);
  });

  it('moves with fake time: uptime, CPU jiffies and network counters grow', async () => {
    const board = new EmulatedBoard({ board: 1, seed: 7 });
    const up0 = (await readUptime(board.root)).uptime;
    const cpu0 = await readCpuStat(board.root);
    const net0 = await readNetDev(board.root);
    vi.advanceTimersByTime(5000);
    expect((await readUptime(board.root)).uptime).toBeCloseTo(up0 + 5, 1);
    const loads = cpuLoads(cpu0, await readCpuStat(board.root));
    expect(loads.total.pct).toBeGreaterThan(0);
    expect(loads.total.pct).toBeLessThan(100);
    const rates = netRates(net0, await readNetDev(board.root), 5);
    expect(rates.get('eth0')!.rxBytes.value).toBeGreaterThan(0);
  });

  it('never lets a counter step backwards over twenty minutes of sub-second samples', async () => {
    const board = new EmulatedBoard({ board: 2, seed: 3 });
    let prev = await readCpuStat(board.root);
    let prevNet = await readNetDev(board.root);
    for (let i = 0; i < 1200 * 3; i++) {
      vi.advanceTimersByTime(333);
      const next = await readCpuStat(board.root);
      const net = await readNetDev(board.root);
      const loads = cpuLoads(prev, next);
      for (const l of [loads.total, ...loads.cores]) expect(l.reason).not.toBe('counter-reset');
      expect(netRates(prevNet, net, 0.333).get('eth0')!.rxBytes.reason).toBeUndefined();
      prev = next;
      prevNet = net;
    }
  });

  it('is deterministic for a board and seed, and differs between boards', async () => {
    const read = async (board: number): Promise<string> => {
      vi.setSystemTime(0);
      const b = new EmulatedBoard({ board, seed: 9 });
      vi.advanceTimersByTime(30_000);
      return b.root.readText('proc/stat');
    };
    expect(await read(1)).toBe(await read(1));
    expect(await read(1)).not.toBe(await read(2));
  });

  it('heats up when the load is high and cools when it is low', async () => {
    const board = new EmulatedBoard({ board: 5, seed: 11 });
    const samples: { load: number; temp: number }[] = [];
    for (let i = 0; i < 600; i++) {
      vi.advanceTimersByTime(10_000);
      samples.push({ load: board.currentLoad(), temp: (await readThermalZones(board.root))[0]!.tempC! });
    }
    // The temperature follows load with a lag: hot samples come from loaded stretches.
    const byTemp = [...samples].sort((a, b) => a.temp - b.temp);
    const mean = (xs: { load: number }[]): number => xs.reduce((a, s) => a + s.load, 0) / xs.length;
    expect(mean(byTemp.slice(-100))).toBeGreaterThan(mean(byTemp.slice(0, 100)));
    for (const s of samples) expect(s.temp).toBeGreaterThan(35);
  });

  it('shows a plugged disk in /sys/block and /proc/diskstats, and drops it when unplugged', async () => {
    const board = new EmulatedBoard({
      board: 1,
      disks: [
        {
          name: 'sda',
          model: 'WDC WD10JPVX-22J',
          serial: 'WD-WX61A76JHRT4',
          sizeBytes: 1e12,
          partitions: [5e11],
        },
      ],
    });
    expect(await board.root.list('sys/block')).toEqual(['mmcblk0', 'sda']);
    expect(await board.root.link('sys/block/sda')).toContain('/ata1/');
    expect([...(await readDiskStats(board.root)).keys()]).toContain('sda1');
    board.removeDisk('sda');
    expect(await board.root.list('sys/block')).toEqual(['mmcblk0']);
    expect([...(await readDiskStats(board.root)).keys()]).not.toContain('sda');
  });
});
