import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { CommandRunner } from '../../drivers/disks/command-runner.js';
import { EmulatedBoard } from '../../drivers/proc/emulated.js';
import { DiskService } from '../../firmware/disks/disk-service.js';
import { SimDiskReports } from '../../firmware/sim/sim-disks.js';
import { waitFor } from '../helpers/wait.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/smartctl/${name}`, import.meta.url));
const GB = 1e9;

let reports: SimDiskReports | undefined;
let service: DiskService | undefined;
afterEach(async () => {
  service?.stop();
  await reports?.dispose();
});

async function rig() {
  const board = new EmulatedBoard({ board: 2 });
  reports = await SimDiskReports.create();
  const alerts: string[] = [];
  // mount and umount act on the emulated board's mount table; fsck passes.
  const system: CommandRunner = (file, args) => {
    if (file === 'mount') board.mount(args.at(-2)!, args.at(-1)!);
    if (file === 'umount') board.umount(args.at(-1)!);
    return Promise.resolve({ exitCode: 0, stdout: '', stderr: '' });
  };
  service = new DiskService({
    board: 2,
    root: board.root,
    run: reports.runnerFor(2, system),
    statfs: () =>
      Promise.resolve({
        type: 0xef53,
        bsize: 4096,
        blocks: 1000,
        bfree: 750,
        bavail: 700,
        files: 0,
        ffree: 0,
      }),
    ensureDir: () => Promise.resolve(),
    smartPeriodMs: 50,
    scanPeriodMs: 20,
    onAlert: (level, m) => alerts.push(`${level}: ${m}`),
  });
  return { board, reports, service, alerts };
}

describe('disk service on an emulated board', () => {
  it('reports a new healthy disk, mounts it as the cache, and gives it up with an alert when it turns failing', async () => {
    const { board, reports, service, alerts } = await rig();
    await reports.setReport(2, 'sda', fixture('smart-ata.json'));
    board.addDisk({
      name: 'sda',
      model: 'Hitachi HDS721050DLE630',
      serial: 'MSK423Y20S3HBC',
      sizeBytes: 500 * GB,
      partitions: [499 * GB],
    });
    await service.start();
    await waitFor('sda mounted and reported ok', () => service.reports()[0]?.mounted === true);
    expect(service.reports()).toEqual([
      {
        board: 2,
        disk: 'sda',
        model: 'Hitachi HDS721050DLE630',
        serial: 'MSK423Y20S3HBC',
        size_bytes: 500 * GB,
        verdict: 'ok',
        reasons: expect.any(Array) as unknown,
        temperature_c: expect.any(Number) as unknown,
        mounted: true,
        used_pct: 26.3, // df's figure: used / (used + available to users), 250 / 950
      },
    ]);

    await reports.setReport(2, 'sda', fixture('smart-fail2.json'));
    await waitFor(
      'sda failing and unmounted',
      () => service.reports()[0]?.verdict === 'failing' && !service.reports()[0]!.mounted,
    );
    expect(alerts.some((a) => a.startsWith('critical: disk /dev/sda is now failing'))).toBe(true);
  });

  it('notices a disk pulled out and one plugged in within a few scans', async () => {
    const { board, reports, service, alerts } = await rig();
    await reports.setReport(2, 'sdb', fixture('smart-pass.json'));
    await service.start();
    expect(service.reports()).toEqual([]);
    board.addDisk({ name: 'sdb', model: 'WDC WD40EFRX', serial: 'WD-1', sizeBytes: 4000 * GB });
    await waitFor(
      'sdb reported',
      () => service.reports().length === 1 && service.reports()[0]!.verdict !== 'unknown',
    );
    board.removeDisk('sdb');
    await waitFor('sdb gone', () => service.reports().length === 0);
    expect(alerts).toContain('warning: disk sdb was removed');
  });

  it('gives unknown with a reason for a disk that smartctl cannot open', async () => {
    const { board, service } = await rig();
    board.addDisk({ name: 'sdc', model: 'X', serial: 'S', sizeBytes: GB });
    await service.start();
    await waitFor(
      'sdc read',
      () => service.reports()[0]?.reasons[0] !== 'not read yet' && service.reports().length === 1,
    );
    expect(service.reports()[0]).toMatchObject({ disk: 'sdc', verdict: 'unknown', mounted: false });
    expect(service.reports()[0]!.reasons.join(' ')).toMatch(/open|No such device/i);
  });
});
