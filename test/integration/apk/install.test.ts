import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseScriptsTar } from '../../../images/apk/installed-db.js';
import { installPackages, listInstalled } from '../../../images/apk/installer.js';
import { readManifest } from '../../../images/apk/manifest.js';
import {
  makeKey,
  makeKeyWithOpenssl,
  type TestKey,
  writeKeysDir,
  writeRepository,
  type BuiltPackage,
} from '../../lib/apk-builder.js';
import { BASE } from './fixtures.js';

let dir: string;
let key: TestKey;
let built: BuiltPackage[];
const root = (): string => join(dir, 'rootfs');
const opts = (packages: string[]) => ({
  root: root(),
  repositories: [join(dir, 'repo')],
  keysDir: join(dir, 'keys'),
  arch: 'aarch64',
  packages,
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apk-install-'));
  key = makeKey('skyminer-test-61a0.rsa.pub');
  await writeKeysDir(join(dir, 'keys'), key);
  built = await writeRepository(join(dir, 'repo'), BASE, key);
  await mkdir(root());
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const z = (content: string): string => 'Q1' + createHash('sha1').update(content).digest('base64');
const checksumOf = (name: string): string =>
  built
    .find((b) => b.spec.name === name)!
    .index.split('\n')[0]!
    .slice(2);

describe('installing into a root', () => {
  it('installs a dependency chain with its files, links and the applet links busybox would make', async () => {
    const result = await installPackages(opts(['app', 'alpine-baselayout-data']));
    expect(result.installed.map((p) => p.name)).toEqual([
      'alpine-baselayout-data',
      'musl',
      'busybox',
      'busybox-binsh',
      'app',
    ]);
    const r = root();
    expect(await readFile(join(r, 'usr/bin/app'), 'utf8')).toBe('ELF app');
    expect((await stat(join(r, 'usr/bin/app-alias'))).ino).toBe((await stat(join(r, 'usr/bin/app'))).ino);
    expect(await readlink(join(r, 'lib/libc.musl-aarch64.so.1'))).toBe('ld-musl-aarch64.so.1');
    expect(await readlink(join(r, 'bin/sh'))).toBe('/bin/busybox');
    expect(await readlink(join(r, 'bin/ls'))).toBe('/bin/busybox');
    expect(await readlink(join(r, 'usr/bin/wget'))).toBe('/bin/busybox');
    expect((await stat(join(r, 'usr/bin/app'))).mode & 0o777).toBe(0o755);
    await expect(lstat(join(r, 'dev/app0'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('records the declared owners, modes and device nodes in the manifest, never the host ones', async () => {
    await installPackages(opts(['app', 'alpine-baselayout-data']));
    const m = (await readManifest(root())).entries;
    expect(m['usr/bin/app']).toEqual({
      type: 'file',
      mode: 0o4755,
      uid: 0,
      gid: 0,
      uname: 'root',
      gname: 'root',
      package: 'app',
    });
    expect(m['etc/shadow']).toMatchObject({ mode: 0o640, uid: 0, gid: 42, gname: 'shadow' });
    expect(m['var/lib/app']).toMatchObject({
      type: 'dir',
      mode: 0o750,
      uid: 101,
      gid: 102,
      unresolved: true,
    });
    expect(m['dev/app0']).toMatchObject({ type: 'chardev', mode: 0o660, major: 10, minor: 200 });
    expect(m['tmp']).toMatchObject({ type: 'dir', mode: 0o1777 });
    expect(m['bin/ls']).toMatchObject({ type: 'symlink', target: '/bin/busybox', package: 'busybox' });
  });

  it('writes the installed database in apk-tools format', async () => {
    await installPackages(opts(['app', 'alpine-baselayout-data']));
    const db = await readFile(join(root(), 'lib/apk/db/installed'), 'utf8');
    const records = db.split('\n\n');
    expect(records).toHaveLength(6); // five packages and the final empty string
    const appRecord = records.find((r) => r.includes('\nP:app\n'))!;
    expect(appRecord + '\n').toBe(
      [
        `C:${checksumOf('app')}`,
        'P:app',
        'V:2.0-r1',
        'A:aarch64',
        `S:${built.find((b) => b.spec.name === 'app')!.apk.length}`,
        'I:8',
        'T:app test package',
        'U:https://example.org/',
        'L:MIT',
        'o:app',
        't:1700000000',
        'D:so:libc.musl-aarch64.so.1 cmd:sh !app-legacy',
        'F:usr',
        'F:usr/bin',
        'R:app',
        'a:0:0:4755',
        `Z:${z('ELF app')}`,
        'R:app-alias', // the hard link's own tar header declares 0644
        `Z:${z('ELF app')}`,
        'F:var',
        'F:var/lib',
        'F:var/lib/app',
        'M:101:102:750',
        'F:etc',
        'R:shadow-app',
        'a:0:42:640',
        `Z:${z('x')}`,
        'F:dev',
        'R:app0',
        'a:0:0:660',
        '',
      ].join('\n'),
    );
    const musl = records.find((r) => r.includes('\nP:musl\n'))!;
    expect(musl).toContain('F:lib\nR:ld-musl-aarch64.so.1\na:0:0:755\nZ:');
    expect(musl).toContain('R:libc.musl-aarch64.so.1\na:0:0:777\nZ:Q1');
    expect(await readFile(join(root(), 'etc/apk/world'), 'utf8')).toBe('alpine-baselayout-data\napp\n');
    expect(await readFile(join(root(), 'etc/apk/arch'), 'utf8')).toBe('aarch64\n');
  });

  it('keeps scripts in scripts.tar and trigger paths in triggers, named by package checksum', async () => {
    await installPackages(opts(['app']));
    const hex = (c: string): string => Buffer.from(c.slice(2), 'base64').toString('hex');
    const scripts = parseScriptsTar(await readFile(join(root(), 'lib/apk/db/scripts.tar')));
    expect(scripts.map((s) => s.name)).toEqual([
      `busybox-1.36.1-r29.${hex(checksumOf('busybox'))}.post-install`,
      `busybox-1.36.1-r29.${hex(checksumOf('busybox'))}.trigger`,
      `app-2.0-r1.${hex(checksumOf('app'))}.pre-install`,
    ]);
    expect(await readFile(join(root(), 'lib/apk/db/triggers'), 'utf8')).toBe(
      `${checksumOf('busybox')} /bin /usr/bin\n`,
    );
  });

  it('queues scripts it cannot run for the first boot, but does busybox its own way', async () => {
    const result = await installPackages(opts(['app']));
    expect(result.pending).toEqual([{ file: 'app-2.0-r1.pre-install', args: ['2.0-r1'] }]);
    const fb = join(root(), 'var/lib/skyminer-root/first-boot');
    expect(await readFile(join(fb, 'pending'), 'utf8')).toBe('app-2.0-r1.pre-install\t2.0-r1\n');
    expect(await readFile(join(fb, 'scripts/app-2.0-r1.pre-install'), 'utf8')).toContain(
      'adduser -S -G app app',
    );
    expect(await readFile(join(fb, 'owners'), 'utf8')).toContain('app:app\tvar/lib/app\n');
    expect(result.firstBootService).toBe(false);
  });

  it('adds install_if companions and enables the first-boot service when OpenRC is there', async () => {
    const result = await installPackages(opts(['app', 'openrc']));
    expect(result.installed.map((p) => p.name)).toContain('app-openrc');
    expect(result.firstBootService).toBe(true);
    expect(await readlink(join(root(), 'etc/runlevels/sysinit/skyminer-first-boot'))).toBe(
      '/etc/init.d/skyminer-first-boot',
    );
  });

  it('trusts a key made with openssl and packages signed with RSA256', async () => {
    const osslKey = makeKeyWithOpenssl(dir, 'builder-65f0.rsa.pub');
    await writeKeysDir(join(dir, 'keys2'), osslKey);
    await writeRepository(join(dir, 'repo2'), BASE, osslKey, 'aarch64', 'RSA256');
    const result = await installPackages({
      ...opts(['busybox-binsh']),
      repositories: [join(dir, 'repo2')],
      keysDir: join(dir, 'keys2'),
    });
    expect(result.installed.map((p) => p.name)).toEqual(['musl', 'busybox', 'busybox-binsh']);
  });

  it('adds packages to a root built earlier and lists what is installed', async () => {
    await installPackages(opts(['musl']));
    await installPackages(opts(['app']));
    expect((await listInstalled(root())).map((p) => `${p.name}-${p.version}`)).toEqual([
      'musl-1.2.5-r0',
      'busybox-1.36.1-r29',
      'busybox-binsh-1.36.1-r29',
      'app-2.0-r1',
    ]);
    expect(await readFile(join(root(), 'etc/apk/world'), 'utf8')).toBe('app\nmusl\n');
    const db = await readFile(join(root(), 'lib/apk/db/installed'), 'utf8');
    expect(db.match(/^P:musl$/gm)).toHaveLength(1);
  });
});
