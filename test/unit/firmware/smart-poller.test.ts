import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BlockDisk } from '../../../drivers/disks/block-devices.js';
import { parseSmartctl, type SmartReading } from '../../../drivers/disks/smartctl.js';
import { diskReport } from '../../../firmware/disks/disk-report.js';
import { SmartPoller, type PolledDisk } from '../../../firmware/disks/smart-poller.js';
import { smartVerdict } from '../../../firmware/disks/smart-verdict.js';

const fixture = (name: string): SmartReading =>
  parseSmartctl(
    readFileSync(fileURLToPath(new URL(`../../fixtures/smartctl/${name}`, import.meta.url)), 'utf8'),
    '/dev/sda',
  );
const standby: SmartReading = {
  device: '/dev/sda',
  exitStatus: 2,
  messages: ['Device is in STANDBY mode, exit(2)'],
  standby: true,
  protocol: 'unknown',
};

describe('SMART poller', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads every disk at start, then once per period, one disk at a time', async () => {
    const log: string[] = [];
    let inFlight = 0;
    const poller = new SmartPoller({
      periodMs: 60_000,
      disks: () => [{ devPath: '/dev/sda' }, { devPath: '/dev/sdb' }],
      read: async (dev) => {
        inFlight++;
        expect(inFlight).toBe(1);
        log.push(`${Date.now()} ${dev}`);
        await new Promise((r) => setTimeout(r, 2000)); // smartctl takes a while
        inFlight--;
        return fixture('smart-ata.json');
      },
    });
    poller.start();
    await vi.advanceTimersByTimeAsync(4000);
    expect(log).toEqual(['0 /dev/sda', '2000 /dev/sdb']);
    // The next round starts a full period after the last one ended (at 4 s), not on a fixed beat.
    await vi.advanceTimersByTimeAsync(62_000);
    expect(log).toEqual(['0 /dev/sda', '2000 /dev/sdb', '64000 /dev/sda', '66000 /dev/sdb']);
    poller.stop();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(log).toHaveLength(4);
  });

  it('keeps the verdict of a disk that went to sleep, and marks growth across polls', async () => {
    const readings = [fixture('smart-ata-date.json'), standby, fixture('smart-ata-date2.json')];
    const seen: string[] = [];
    const poller = new SmartPoller({
      periodMs: 1000,
      disks: () => [{ devPath: '/dev/sda', serial: '9RK1XXXX' }],
      read: () => Promise.resolve(readings.shift()!),
      onVerdict: (_, v) => seen.push(`${v.verdict}${v.asleep ? ' asleep' : ''}`),
    });
    poller.start();
    await vi.advanceTimersByTimeAsync(2500);
    poller.stop();
    expect(seen).toEqual(['ok', 'ok asleep', 'failing']);
    expect(poller.verdict('/dev/sda')!.reasons[0]).toBe('10 reallocated sectors');
  });

  it('starts afresh when another disk appears under the same name', async () => {
    const previous: (string | null)[] = [];
    const poller = new SmartPoller({
      disks: () => [],
      read: () => Promise.resolve(fixture('smart-ata.json')),
      onVerdict: (_, __, prev) => previous.push(prev?.verdict ?? null),
    });
    await poller.pollDisk({ devPath: '/dev/sda', serial: 'A' });
    await poller.pollDisk({ devPath: '/dev/sda', serial: 'A' });
    await poller.pollDisk({ devPath: '/dev/sda', serial: 'B' });
    expect(previous).toEqual([null, 'ok', null]);
  });

  it('turns a read that throws into unknown and forgets disks that are gone', async () => {
    let disks: PolledDisk[] = [{ devPath: '/dev/sda' }, { devPath: '/dev/sdb' }];
    const poller = new SmartPoller({
      disks: () => disks,
      read: (dev) =>
        dev === '/dev/sdb' ? Promise.reject(new Error('EIO')) : Promise.resolve(fixture('smart-ata.json')),
    });
    await poller.pollAll();
    expect(poller.verdict('/dev/sdb')).toMatchObject({
      verdict: 'unknown',
      reasons: ['SMART read failed: EIO'],
    });
    disks = [{ devPath: '/dev/sda' }];
    await poller.pollAll();
    expect([...poller.verdicts().keys()]).toEqual(['/dev/sda']);
  });
});

describe('disk report (skyminer disks --json)', () => {
  const disk: BlockDisk = {
    name: 'sda',
    devPath: '/dev/sda',
    transport: 'sata',
    model: 'WDC WD10JPVX-22J',
    serial: 'WD-WX61A76JHRT4',
    sizeBytes: 1000204886016,
    removable: false,
    readOnly: false,
    partitions: [],
    sysPath: '',
  };

  it('has exactly the documented shape', () => {
    const v = smartVerdict(fixture('smart-ata-failed-scrutiny.json'), null);
    const mount = { source: '/dev/sda1', target: '/var/cache/skywire', fstype: 'ext4', options: ['rw'] };
    const usage = { size_bytes: 100, used_bytes: 42, avail_bytes: 58, used_pct: 42 };
    expect(diskReport(3, disk, v, [mount], usage)).toEqual({
      board: 3,
      disk: 'sda',
      model: 'WDC WD10JPVX-22J',
      serial: 'WD-WX61A76JHRT4',
      size_bytes: 1000204886016,
      verdict: 'warning',
      reasons: ['108 interface CRC errors (cable or connector)'],
      temperature_c: 33,
      mounted: true,
      used_pct: 42,
    });
  });

  it('says unknown and not mounted for a disk not read yet', () => {
    expect(diskReport(1, disk, null, [], null)).toMatchObject({
      verdict: 'unknown',
      reasons: ['not read yet'],
      mounted: false,
      used_pct: null,
    });
  });
});
