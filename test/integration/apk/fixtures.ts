// A small Alpine-like base system for the installer's tests: users, busybox and its applets, musl, an
// application with owners, links and a device node, and an install_if companion.
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { PackageSpec } from '../../lib/apk-builder.js';

export const BASE: PackageSpec[] = [
  {
    name: 'alpine-baselayout-data',
    version: '3.6.5-r0',
    files: [
      { path: 'etc', type: 'dir' },
      {
        path: 'etc/passwd',
        content: 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:2:2:daemon:/sbin:/sbin/nologin\n',
      },
      { path: 'etc/group', content: 'root:x:0:root\ndaemon:x:2:root\nshadow:x:42:\n' },
      { path: 'etc/shadow', content: 'root:*::0:::::\n', mode: 0o640, gname: 'shadow', gid: 999 },
      { path: 'tmp', type: 'dir', mode: 0o1777 },
    ],
  },
  {
    name: 'musl',
    version: '1.2.5-r0',
    provides: ['so:libc.musl-aarch64.so.1=1'],
    files: [
      { path: 'lib/ld-musl-aarch64.so.1', content: 'ELF musl', mode: 0o755 },
      { path: 'lib/libc.musl-aarch64.so.1', type: 'symlink', target: 'ld-musl-aarch64.so.1' },
    ],
  },
  {
    name: 'busybox',
    version: '1.36.1-r29',
    depends: ['so:libc.musl-aarch64.so.1'],
    provides: ['cmd:busybox=1.36.1-r29'],
    triggers: ['/bin', '/usr/bin'],
    scripts: {
      'post-install': '#!/bin/busybox sh\n/bin/busybox --install -s\n',
      trigger: '#!/bin/sh\nexit 0\n',
    },
    files: [
      { path: 'bin/busybox', content: 'ELF busybox', mode: 0o755 },
      { path: 'etc/busybox-paths.d/busybox', content: '/bin/ls\n/bin/sh\n/usr/bin/wget\n' },
    ],
  },
  {
    name: 'busybox-binsh',
    version: '1.36.1-r29',
    depends: ['busybox=1.36.1-r29'],
    provides: ['cmd:sh=1.36.1-r29', '/bin/sh'],
    files: [{ path: 'bin/sh', type: 'symlink', target: '/bin/busybox' }],
  },
  {
    name: 'app',
    version: '2.0-r1',
    depends: ['so:libc.musl-aarch64.so.1', 'cmd:sh', '!app-legacy'],
    scripts: { 'pre-install': '#!/bin/sh\naddgroup -S app && adduser -S -G app app\n' },
    files: [
      { path: 'usr/bin/app', content: 'ELF app', mode: 0o4755 },
      { path: 'usr/bin/app-alias', type: 'hardlink', target: 'usr/bin/app' },
      { path: 'var/lib/app', type: 'dir', mode: 0o750, uname: 'app', gname: 'app', uid: 101, gid: 102 },
      { path: 'etc/shadow-app', content: 'x', mode: 0o640, gname: 'shadow', gid: 999 },
      { path: 'dev/app0', type: 'chardev', mode: 0o660, major: 10, minor: 200 },
    ],
  },
  { name: 'app-legacy', version: '1.0-r0' },
  {
    name: 'openrc',
    version: '0.54-r1',
    files: [{ path: 'sbin/openrc-run', content: 'ELF openrc', mode: 0o755 }],
  },
  {
    name: 'app-openrc',
    version: '2.0-r1',
    installIf: ['app=2.0-r1', 'openrc'],
    files: [{ path: 'etc/init.d/app', content: '#!/sbin/openrc-run\n', mode: 0o755 }],
  },
];

/** Every path below a directory with its type, mode and content (or link target), to compare before/after. */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string): Promise<void> => {
    const host = join(dir, rel);
    const st = await lstat(host).catch(() => undefined);
    if (!st) return;
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isSymbolicLink()) out[rel] = `link ${await readlink(host)}`;
    else if (st.isDirectory()) {
      if (rel) out[rel] = `dir ${mode}`;
      for (const n of (await readdir(host)).sort()) await walk(rel ? `${rel}/${n}` : n);
    } else
      out[rel] = `file ${mode} ${createHash('sha1')
        .update(await readFile(host))
        .digest('hex')}`;
  };
  await walk('');
  return out;
}
