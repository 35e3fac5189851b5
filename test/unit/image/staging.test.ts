import { lstat, mkdtemp, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StagingError, StagingTree } from '../../../images/rootfs/staging.js';

describe('staging tree', () => {
  it('refuses to add a file beneath a symlink, which could lead a write onto the build host', () => {
    const t = new StagingTree().symlink('/lib', '/usr/lib');
    expect(() => t.file('/lib/libc.so.6', 'x')).toThrow(StagingError);
    expect(() => t.file('/lib/libc.so.6', 'x')).toThrow(
      '/lib/libc.so.6: /lib is a symlink (-> /usr/lib), not a directory',
    );
  });

  it('creates missing parents as root-owned 0755 directories and lists parents before children', () => {
    const t = new StagingTree().file('/etc/skyminer/skyminer.conf', 'x', { mode: 0o600 });
    expect(t.owned().map((e) => [e.path, e.kind, e.mode.toString(8), e.uid])).toEqual([
      ['/', 'dir', '755', 0],
      ['/etc', 'dir', '755', 0],
      ['/etc/skyminer', 'dir', '755', 0],
      ['/etc/skyminer/skyminer.conf', 'file', '600', 0],
    ]);
  });

  it('lets a later file replace an earlier one but never a directory', () => {
    const t = new StagingTree().file('/etc/hostname', 'a').file('/etc/hostname', 'b');
    expect(t.get('/etc/hostname')).toMatchObject({ kind: 'file', data: 'b' });
    expect(() => t.file('/etc', 'x')).toThrow('/etc: already staged as a directory');
  });

  it('writes into an empty directory only, with the source date on every entry', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'staging-'));
    const src = join(dir, '..', `src-${Date.now()}`);
    await writeFile(src, 'copied');
    const t = new StagingTree()
      .file('/bin/tool', '#!/bin/sh\n', { mode: 0o755 })
      .copy('/usr/share/c', src, 6)
      .symlink('/bin/sh', 'busybox');
    const out = join(dir, 'root');
    await import('node:fs/promises').then((m) => m.mkdir(out));
    await t.write(out, 1_700_000_000);
    expect(await readFile(join(out, 'usr/share/c'), 'utf8')).toBe('copied');
    expect(await readlink(join(out, 'bin/sh'))).toBe('busybox');
    expect((await stat(join(out, 'bin/tool'))).mode & 0o7777).toBe(0o755);
    expect((await lstat(join(out, 'bin/sh'))).mtimeMs).toBe(1_700_000_000_000);
    expect((await stat(join(out, 'usr'))).mtimeMs).toBe(1_700_000_000_000);
    await expect(t.write(out, 0)).rejects.toThrow('staging directory is not empty');
  });

  it('does not follow a symlink that is already in the staging directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'staging-'));
    const victim = join(dir, 'host-file');
    await writeFile(victim, 'host');
    const out = join(dir, 'root');
    await import('node:fs/promises').then((m) => m.mkdir(out));
    // A tree whose write meets an existing link must fail, not write through it.
    const t = new StagingTree().file('/x', 'image');
    await symlink(victim, join(out, 'x'));
    await expect(t.write(out, 0)).rejects.toThrow('not empty');
    expect(await readFile(victim, 'utf8')).toBe('host');
  });

  it('holds device nodes for the image only: listed with their numbers, never made in the staging directory', async () => {
    const t = new StagingTree()
      .node('/dev/console', 'chardev', 5, 1, { mode: 0o600 })
      .node('/run/initctl', 'fifo', 7, 7, { mode: 0o600 });
    expect(t.owned().filter((e) => e.path === '/dev/console' || e.path === '/run/initctl')).toEqual([
      { path: '/dev/console', kind: 'chardev', mode: 0o600, uid: 0, gid: 0, major: 5, minor: 1 },
      { path: '/run/initctl', kind: 'fifo', mode: 0o600, uid: 0, gid: 0, major: 0, minor: 0 },
    ]);
    const out = join(await mkdtemp(join(tmpdir(), 'staging-')), 'root');
    await import('node:fs/promises').then((m) => m.mkdir(out));
    await t.write(out, 1_700_000_000);
    expect((await stat(join(out, 'dev'))).isDirectory()).toBe(true);
    await expect(lstat(join(out, 'dev/console'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('keeps the owner and mode of a directory declared again without them', () => {
    const t = new StagingTree()
      .dir('/var/lib/chrony', { mode: 0o750, uid: 2, gid: 2 })
      .dir('/var/lib/chrony');
    expect(t.get('/var/lib/chrony')).toEqual({ kind: 'dir', mode: 0o750, uid: 2, gid: 2 });
  });
});
