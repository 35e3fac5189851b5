// Growth of the data partition at first boot, run with the host's sh against stand-ins for sfdisk, partx and resize2fs that model the
// kernel: resize2fs can grow a mounted filesystem only after partx told the kernel the partition's new size. Only these
// stand-ins and a few plain tools are on the PATH, so no test can reach the build machine's disks.
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const SCRIPT = resolve('images/overlay/common/usr/libexec/skyminer/grow-partition');
const TOOLS = ['sh', 'sed', 'head', 'cat', 'echo', 'touch', 'dirname'];

type Tool = 'works' | 'fails' | 'absent';

/** A root with the given tools; each stand-in records its arguments in calls.log. */
async function board(tools: { sfdisk?: Tool; partx?: Tool; resize2fs?: Tool }) {
  const dir = await mkdtemp(join(tmpdir(), 'grow-partition-'));
  const bin = join(dir, 'bin');
  await mkdir(bin);
  for (const tool of TOOLS) {
    const host = (await run('sh', ['-c', `command -v ${tool}`])).stdout.trim();
    if (host.startsWith('/')) await symlink(host, join(bin, tool));
  }
  const standIn = async (name: string, how: Tool, body: string) => {
    if (how === 'absent') return;
    await writeFile(
      join(bin, name),
      `#!/bin/sh\necho "${name} $*" >> "${dir}/calls.log"\n${how === 'fails' ? 'exit 1' : body}\n`,
    );
    await chmod(join(bin, name), 0o755);
  };
  await standIn('sfdisk', tools.sfdisk ?? 'works', 'cat > /dev/null; exit 0');
  await standIn('partx', tools.partx ?? 'works', `touch "${dir}/kernel-knows-new-size"; exit 0`);
  // Growing the mounted filesystem beyond the partition size the kernel knows fails, as it does on the device.
  await standIn('resize2fs', tools.resize2fs ?? 'works', `[ -f "${dir}/kernel-knows-new-size" ]`);
  const script = join(dir, 'grow-partition');
  await copyFile(SCRIPT, script);
  const marker = join(dir, 'data-grown');
  const grow = async (device: string) => {
    try {
      const r = await run(join(bin, 'sh'), [script, marker, device], { env: { PATH: bin } });
      return { code: 0, out: r.stdout + r.stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, out: e.stdout + e.stderr };
    }
  };
  const calls = async () =>
    (await readFile(join(dir, 'calls.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
  const grown = () =>
    stat(marker).then(
      () => true,
      () => false,
    );
  return { grow, calls, grown, standIn };
}

describe('grow-partition', () => {
  it('extends the partition, tells the kernel with partx, grows the filesystem, then marks it done', async () => {
    const b = await board({});
    expect(await b.grow('/dev/mmcblk0p2')).toEqual({
      code: 0,
      out: '/dev/mmcblk0p2 grown to the end of the card\n',
    });
    expect(await b.calls()).toEqual([
      'sfdisk --no-reread -N 2 /dev/mmcblk0',
      'partx -u -n 2 /dev/mmcblk0',
      'resize2fs /dev/mmcblk0p2',
    ]);
    expect(await b.grown()).toBe(true);
    // Marked: the next boot does nothing.
    expect((await b.grow('/dev/mmcblk0p2')).code).toBe(0);
    expect(await b.calls()).toHaveLength(3);
  });

  it('finds the disk of a partition without a "p" before the partition number', async () => {
    const b = await board({});
    expect((await b.grow('/dev/vda2')).code).toBe(0);
    expect((await b.calls())[0]).toBe('sfdisk --no-reread -N 2 /dev/vda');
  });

  it('leaves no marker on a card without partx (its own package in Alpine 3.20), and grows once it is there', async () => {
    const b = await board({ partx: 'absent' });
    expect(await b.grow('/dev/mmcblk0p2')).toEqual({
      code: 2,
      out: 'grow-partition: no partx in this image\n',
    });
    expect(await b.grown()).toBe(false);
    await b.standIn('partx', 'works', `touch "$(dirname "$0")/../kernel-knows-new-size"; exit 0`);
    expect((await b.grow('/dev/mmcblk0p2')).code).toBe(0);
    expect(await b.grown()).toBe(true);
  });

  it('leaves no marker when a step fails, naming it', async () => {
    const noPartx = await board({ partx: 'fails' });
    expect(await noPartx.grow('/dev/mmcblk0p2')).toEqual({
      code: 1,
      out: 'grow-partition: partx could not give the kernel the new size of /dev/mmcblk0p2\n',
    });
    expect(await noPartx.calls()).not.toContain('resize2fs /dev/mmcblk0p2');
    expect(await noPartx.grown()).toBe(false);
    const noResize = await board({ resize2fs: 'fails' });
    expect(await noResize.grow('/dev/mmcblk0p2')).toEqual({
      code: 1,
      out: 'grow-partition: resize2fs could not grow /dev/mmcblk0p2\n',
    });
    expect(await noResize.grown()).toBe(false);
    expect((await (await board({ sfdisk: 'fails' })).grow('/dev/mmcblk0p2')).out).toBe(
      'grow-partition: sfdisk could not extend partition 2 of /dev/mmcblk0\n',
    );
  });

  it('refuses a device that is not a partition, or none (nothing mounted there)', async () => {
    expect((await (await board({})).grow('')).out).toBe('grow-partition: device "" is not a partition\n');
    expect(await (await board({})).grow('/dev/root')).toEqual({
      code: 1,
      out: 'grow-partition: device "/dev/root" is not a partition\n',
    });
  });
});
