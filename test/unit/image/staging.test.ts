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
});
