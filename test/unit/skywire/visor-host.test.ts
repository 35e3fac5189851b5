// Which skywire binary a board's visor service starts: the image's until a signed visor bundle is installed, then
// the installed one, and the image's again if the installed one goes away.
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SkywireHost } from '../../../firmware/skywire/visor-host.js';

let root: string;
let dir: string;
let image: string;

/** A stand-in `skywire` that writes its name and arguments to <dir>/ran. */
async function standIn(path: string, name: string): Promise<void> {
  await writeFile(path, `#!/bin/sh\necho "${name} $*" > "${join(root, 'ran')}"\n`);
  await chmod(path, 0o755);
}

async function ranBy(host: SkywireHost): Promise<string> {
  const child = host.spawn() as unknown as import('node:child_process').ChildProcess;
  await new Promise((resolve) => child.once('exit', resolve));
  return (await readFile(join(root, 'ran'), 'utf8')).trim();
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'visor-host-'));
  dir = join(root, 'skywire');
  await mkdir(dir);
  image = join(root, 'image-skywire');
  await standIn(image, 'image');
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe('the visor host', () => {
  it('writes the reward address as skywire does: <dir>/local/reward.txt, the address alone, whole', async () => {
    const host = new SkywireHost({ binary: image, dir, servicesFile: join(root, 'services.json') });
    expect(await host.rewardAddress()).toBeNull();
    await host.setRewardAddress('2jBbGxZRGoQG1mqhPBnXnLTxK6oxsTf8os6');
    const file = join(dir, 'local', 'reward.txt');
    expect(await readFile(file, 'utf8')).toBe('2jBbGxZRGoQG1mqhPBnXnLTxK6oxsTf8os6');
    expect((await stat(file)).mode & 0o777).toBe(0o644);
    expect(await readdir(join(dir, 'local'))).toEqual(['reward.txt']);
    // As `skywire cli reward` may leave it, with a newline: still read as the address.
    await writeFile(file, '2jBbGxZRGoQG1mqhPBnXnLTxK6oxsTf8os6\n');
    expect(await host.rewardAddress()).toBe('2jBbGxZRGoQG1mqhPBnXnLTxK6oxsTf8os6');
  });

  it("runs the image's binary while no visor bundle is installed", async () => {
    const host = new SkywireHost({ binary: image, dir, servicesFile: join(root, 'services.json') });
    expect(host.binary).toBe(image);
    expect(await ranBy(host)).toBe(`image visor -c ${join(dir, 'skywire.json')}`);
  });

  it('runs the installed binary through the current link, re-read at each start', async () => {
    const host = new SkywireHost({ binary: image, dir, servicesFile: join(root, 'services.json') });
    const release = join(dir, 'releases', 'v1.3.29-abcdef12');
    await mkdir(release, { recursive: true });
    await standIn(join(release, 'skywire'), 'installed');
    await symlink(join('releases', 'v1.3.29-abcdef12'), join(dir, 'current'));
    expect(await ranBy(host)).toBe(`installed visor -c ${join(dir, 'skywire.json')}`);
    // A current link left dangling (its release removed) falls back to the image's binary.
    await rm(release, { recursive: true });
    expect(await ranBy(host)).toMatch(/^image /);
  });
});
