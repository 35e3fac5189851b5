import { chmod, copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listSataDisks } from '../../drivers/disks/block-devices.js';
import { spawnRunner, type CommandRunner } from '../../drivers/disks/command-runner.js';
import { mountsOf, readMounts } from '../../drivers/disks/mounts.js';
import { readSmart } from '../../drivers/disks/smartctl.js';
import { EmulatedBoard } from '../../drivers/proc/emulated.js';
import { CacheDiskCare, cacheCandidates } from '../../firmware/disks/cache-disk.js';
import { diskReport } from '../../firmware/disks/disk-report.js';
import { SmartPoller } from '../../firmware/disks/smart-poller.js';

const fixtures = fileURLToPath(new URL('../fixtures/smartctl/', import.meta.url));

/** A smartctl stand-in: prints <dir>/<disk>.json for the device it is given and exits with <dir>/<disk>.exit. */
async function standIn(): Promise<{
  command: string;
  show: (disk: string, fixture: string, exit: number) => Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'smart-'));
  const command = join(dir, 'smartctl');
  await writeFile(
    command,
    '#!/bin/sh\nfor last; do :; done\nd=$(basename "$last")\ncat "$(dirname "$0")/$d.json"\nexit "$(cat "$(dirname "$0")/$d.exit")"\n',
  );
  await chmod(command, 0o755);
  return {
    command,
    show: async (disk, fixture, exit) => {
      await copyFile(join(fixtures, fixture), join(dir, `${disk}.json`));
      await writeFile(join(dir, `${disk}.exit`), String(exit));
    },
  };
}

describe('disk care on an emulated board with a smartctl stand-in', () => {
  it('mounts the healthy SATA disk as cache, then unmounts it with an alert when smartctl says it is failing', async () => {
    const board = new EmulatedBoard({
      board: 2,
      disks: [
        {
          name: 'sda',
          model: 'Hitachi HDS721050DLE630',
          serial: 'MSK423Y20S3HBC',
          sizeBytes: 5e11,
          partitions: [5e11 - 2 ** 20],
        },
      ],
    });
    const smartctl = await standIn();
    await smartctl.show('sda', 'smart-ata.json', 0);

    const disks = await listSataDisks(board.root);
    const poller = new SmartPoller({
      disks: () => disks,
      read: (dev) => readSmart(dev, { runner: spawnRunner, command: smartctl.command }),
    });
    const alerts: string[] = [];
    const inUse: (string | null)[] = [];
    // mount and umount act on the emulated board's mount table; fsck succeeds.
    const run: CommandRunner = (file, args) => {
      if (file === 'mount') board.mount(args[2]!, args[3]!);
      if (file === 'umount') board.umount(args[args.length - 1]!);
      return Promise.resolve({ exitCode: 0, stdout: '', stderr: '' });
    };
    const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 10));
    const care = new CacheDiskCare({
      run,
      ensureDir: () => Promise.resolve(),
      onAlert: (level, m) => alerts.push(`${level}: ${m}`),
      onUse: (mp) => inUse.push(mp),
    });
    const tick = async (): Promise<void> => {
      await poller.pollAll();
      await care.update(cacheCandidates(disks, poller.verdicts(), await readMounts(board.root)));
      await settle();
    };

    await tick();
    expect(inUse).toEqual(['/var/cache/skywire']);
    const mounts = mountsOf(disks[0]!, await readMounts(board.root));
    expect(mounts.map((m) => m.target)).toEqual(['/var/cache/skywire']);
    expect(diskReport(2, disks[0]!, poller.verdict('/dev/sda'), mounts, null)).toMatchObject({
      disk: 'sda',
      serial: 'MSK423Y20S3HBC',
      verdict: 'ok',
      mounted: true,
    });

    // Another disk's report under the same device: its serial differs, so no growth is claimed against the first.
    await smartctl.show('sda', 'smart-fail2.json', 216);
    await tick();
    expect(poller.verdict('/dev/sda')!.verdict).toBe('failing');
    expect(inUse).toEqual(['/var/cache/skywire', null]);
    expect(alerts).toEqual([
      'critical: cache disk sda is failing (SMART overall-health self-assessment FAILED; pre-failure attribute at or ' +
        'below threshold: Reallocated_Sector_Ct (5); 1975 reallocated sectors; 8 sectors pending reallocation ' +
        '(unreadable); 56 errors in the device error log; the self-test log reports a failed test): unmounting it',
    ]);
    expect(mountsOf(disks[0]!, await readMounts(board.root))).toEqual([]);
    expect(care.current().phase).toBe('idle');
  });
});
