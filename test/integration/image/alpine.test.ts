// A real-board profile (pine64-sopine) built end to end on an Alpine root, without network: a signed local
// repository of small stand-in packages, one for every name the Alpine stage installs, stands in for the mirror.
// The bootloader is the pinned Debian u-boot-sunxi; the native addons are cross-built for musl with the pinned zig.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildImage, repoRoot, type BuildResult } from '../../../images/build.js';
import { inspectImage } from '../../../images/inspect.js';
import { debugfsRequest } from '../../../images/layout/ext4.js';
import { ALPINE_PACKAGES } from '../../../images/rootfs/alpine.js';
import { makeKey, writeKeysDir, writeRepository, type PackageSpec } from '../../lib/apk-builder.js';
import { fakeArm64Image, zbootImage } from '../../lib/zboot.js';

const repo = repoRoot();
const KERNEL = '6.6.58-0-lts';
const MODULES = `lib/modules/${KERNEL}`;

const KERNEL_IMAGE = fakeArm64Image('kernel stand-in\n');

/** A stand-in kernel module: only the .modinfo strings the module resolver reads, gzipped as Alpine ships. */
const ko = (name: string, depends: string[] = []) =>
  gzipSync(Buffer.from(`\0name=${name}\0depends=${depends.join(',')}\0vermagic=${KERNEL} SMP mod_unload\0`));

const service = (name: string) => ({
  path: `etc/init.d/${name}`,
  content: `#!/sbin/openrc-run\ndescription="${name} stand-in"\n`,
  mode: 0o755,
});

const SBIN_APPLETS = ['init', 'getty', 'halt', 'poweroff', 'reboot', 'mdev', 'syslogd', 'klogd', 'modprobe'];
const BIN_APPLETS = ['sh', 'ash', 'ls', 'cat', 'mount', 'umount', 'dd', 'hexdump', 'sed', 'switch_root'];

/** Every package the Alpine stage asks for, with the files the build and the device rely on. */
const STAND_INS: PackageSpec[] = [
  {
    name: 'alpine-baselayout-data',
    version: '3.6.5-r0',
    files: [
      {
        path: 'etc/passwd',
        content: 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:2:2:daemon:/sbin:/sbin/nologin\n',
      },
      { path: 'etc/group', content: 'root:x:0:root\ndaemon:x:2:root\nshadow:x:42:\n' },
      {
        path: 'etc/shadow',
        content: 'root:*::0:::::\ndaemon:!::0:::::\n',
        mode: 0o640,
        gname: 'shadow',
        gid: 999,
      },
    ],
  },
  {
    name: 'alpine-baselayout',
    version: '3.6.5-r0',
    depends: ['alpine-baselayout-data=3.6.5-r0'],
    files: [
      { path: 'root', type: 'dir', mode: 0o700 },
      { path: 'var/empty', type: 'dir', mode: 0o555 },
      // The early console before devtmpfs is mounted: a device node, which only the image can hold.
      { path: 'dev/console', type: 'chardev', mode: 0o600, major: 5, minor: 1 },
    ],
  },
  {
    name: 'musl',
    version: '1.2.5-r0',
    provides: ['so:libc.musl-aarch64.so.1=1'],
    files: [
      { path: 'lib/ld-musl-aarch64.so.1', content: 'musl stand-in', mode: 0o755 },
      { path: 'lib/libc.musl-aarch64.so.1', type: 'symlink', target: 'ld-musl-aarch64.so.1' },
    ],
  },
  {
    name: 'busybox',
    version: '1.36.1-r29',
    depends: ['so:libc.musl-aarch64.so.1'],
    scripts: { 'post-install': '#!/bin/busybox sh\n/bin/busybox --install -s\n' },
    files: [
      { path: 'bin/busybox', content: 'busybox stand-in', mode: 0o755 },
      { path: 'bin/bbsuid', content: 'setuid stand-in', mode: 0o4755 },
      {
        path: 'etc/busybox-paths.d/busybox',
        content: [...SBIN_APPLETS.map((a) => `/sbin/${a}`), ...BIN_APPLETS.map((a) => `/bin/${a}`)].join(
          '\n',
        ),
      },
    ],
  },
  {
    name: 'busybox-static',
    version: '1.36.1-r29',
    files: [{ path: 'bin/busybox.static', content: 'static busybox stand-in', mode: 0o755 }],
  },
  {
    name: 'busybox-openrc',
    version: '1.36.1-r29',
    depends: ['openrc'],
    files: ['syslog', 'klogd', 'watchdog'].map(service),
  },
  { name: 'busybox-mdev-openrc', version: '1.36.1-r29', depends: ['openrc'], files: [service('mdev')] },
  {
    name: 'openrc',
    version: '0.54-r1',
    depends: ['so:libc.musl-aarch64.so.1'],
    files: [
      { path: 'sbin/openrc', content: 'openrc stand-in', mode: 0o755 },
      { path: 'sbin/openrc-run', content: 'openrc-run stand-in', mode: 0o755 },
      ...[
        'devfs',
        'dmesg',
        'hwdrivers',
        'modules',
        'hostname',
        'bootmisc',
        'networking',
        'mount-ro',
        'killprocs',
      ].map(service),
    ],
  },
  {
    name: 'apk-tools',
    version: '2.14.4-r1',
    depends: ['alpine-keys'],
    files: [{ path: 'sbin/apk', content: 'apk stand-in', mode: 0o755 }],
  },
  { name: 'alpine-keys', version: '2.4-r1', files: [{ path: 'etc/apk/keys/README', content: 'keys\n' }] },
  {
    name: 'nodejs',
    version: '20.15.1-r0',
    depends: ['so:libc.musl-aarch64.so.1'],
    files: [{ path: 'usr/bin/node', content: 'node stand-in', mode: 0o755 }],
  },
  {
    name: 'e2fsprogs-extra',
    version: '1.47.0-r5',
    files: [{ path: 'usr/sbin/resize2fs', content: 'resize2fs stand-in', mode: 0o755 }],
  },
  { name: 'sfdisk', version: '2.40.1-r1', files: [{ path: 'sbin/sfdisk', content: 'sfdisk', mode: 0o755 }] },
  { name: 'partx', version: '2.40.1-r1', files: [{ path: 'usr/bin/partx', content: 'partx', mode: 0o755 }] },
  {
    name: 'util-linux-misc',
    version: '2.40.1-r1',
    files: [{ path: 'usr/bin/setterm', content: 'setterm stand-in', mode: 0o755 }],
  },
  {
    name: 'ifupdown-ng',
    version: '0.12.1-r5',
    provides: ['ifupdown-any'],
    files: [{ path: 'sbin/ifup', content: 'ifup stand-in', mode: 0o755 }],
  },
  {
    name: 'dropbear',
    version: '2024.85-r0',
    // A script only the device can run: it goes to the first-boot queue.
    scripts: { 'post-install': '#!/bin/sh\nmkdir -p /etc/dropbear\n' },
    files: [{ path: 'usr/sbin/dropbear', content: 'dropbear stand-in', mode: 0o755 }, service('dropbear')],
  },
  {
    name: 'openssh-client-default',
    version: '9.7_p1-r4',
    files: [{ path: 'usr/bin/ssh', content: 'ssh stand-in', mode: 0o755 }],
  },
  {
    name: 'chrony',
    version: '4.5-r0',
    files: [
      { path: 'usr/sbin/chronyd', content: 'chronyd stand-in', mode: 0o755 },
      service('chronyd'),
      // Owned by name: the package's number (123) is not daemon's uid in this root (2).
      {
        path: 'var/lib/chrony',
        type: 'dir',
        mode: 0o750,
        uname: 'daemon',
        gname: 'daemon',
        uid: 123,
        gid: 123,
      },
    ],
  },
  { name: 'linux-firmware-none', version: '20240610-r0', provides: ['linux-firmware-any'] },
  {
    name: 'linux-lts',
    version: '6.6.58-r0',
    depends: ['linux-firmware-any'],
    files: [
      // As on aarch64: an EFI zboot image around the Image, which U-Boot's booti cannot boot.
      { path: 'boot/vmlinuz-lts', content: zbootImage(KERNEL_IMAGE) },
      { path: 'boot/dtbs-lts/allwinner/sun50i-a64-sopine-baseboard.dtb', content: 'dtb stand-in\n' },
      { path: `${MODULES}/kernel/drivers/mmc/host/sunxi-mmc.ko.gz`, content: ko('sunxi_mmc') },
      { path: `${MODULES}/kernel/drivers/mmc/core/mmc_block.ko.gz`, content: ko('mmc_block') },
      { path: `${MODULES}/kernel/crypto/crc32c_generic.ko.gz`, content: ko('crc32c_generic') },
      { path: `${MODULES}/kernel/lib/crc16.ko.gz`, content: ko('crc16') },
      { path: `${MODULES}/kernel/fs/mbcache.ko.gz`, content: ko('mbcache') },
      { path: `${MODULES}/kernel/fs/jbd2/jbd2.ko.gz`, content: ko('jbd2') },
      { path: `${MODULES}/kernel/fs/ext4/ext4.ko.gz`, content: ko('ext4', ['mbcache', 'jbd2', 'crc16']) },
      { path: `${MODULES}/kernel/drivers/watchdog/sunxi_wdt.ko.gz`, content: ko('sunxi_wdt') },
      {
        path: `${MODULES}/kernel/drivers/net/ethernet/stmicro/stmmac/dwmac-sun8i.ko.gz`,
        content: ko('dwmac_sun8i'),
      },
      { path: `${MODULES}/kernel/drivers/i2c/busses/i2c-mv64xxx.ko.gz`, content: ko('i2c_mv64xxx') },
      { path: `${MODULES}/kernel/drivers/i2c/i2c-dev.ko.gz`, content: ko('i2c_dev') },
      {
        path: `${MODULES}/modules.dep`,
        content:
          'kernel/fs/ext4/ext4.ko.gz: kernel/fs/mbcache.ko.gz kernel/fs/jbd2/jbd2.ko.gz kernel/lib/crc16.ko.gz\n',
      },
      {
        path: `${MODULES}/modules.alias`,
        content:
          '# Aliases extracted from modules themselves.\nalias crypto-crc32c crc32c_generic\nalias crc32c crc32c_generic\n',
      },
      // Linux 6.6's ext4 reaches crc32c (metadata_csum) only through this soft dependency.
      { path: `${MODULES}/modules.softdep`, content: 'softdep ext4 pre: crc32c\n' },
      { path: `${MODULES}/modules.order`, content: 'kernel/fs/ext4/ext4.ko\n' },
    ],
  },
];

const ADDONS = [
  '/usr/lib/skyminer/node_modules/i2c-bus/build/Release/i2c.node',
  '/usr/lib/skyminer/node_modules/node-pty/build/Release/pty.node',
  '/usr/lib/skyminer/drivers/native/build/Release/skyminer_native.node',
];

let scratch: string;
let mirror: string;
let keys: string;
let first: BuildResult;
let rootOffset: number;

const build = async (out: string) =>
  buildImage({
    profile: 'pine64-sopine',
    repo,
    outDir: out,
    cacheDir: join(repo, '.cache', 'images'),
    alpineRepositories: [mirror],
    alpineKeysDir: keys,
    compress: false,
    epoch: 1_700_000_000,
  });

const debugfs = (request: string) => debugfsRequest(first.image, rootOffset, request);

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'image-alpine-'));
  mirror = join(scratch, 'mirror', 'main');
  keys = join(scratch, 'keys');
  const key = makeKey('skyminer-test-alpine.rsa.pub');
  await writeKeysDir(keys, key);
  await writeRepository(mirror, STAND_INS, key, 'aarch64');
  first = await build(join(scratch, 'out-a'));
  rootOffset = (await inspectImage(first.image)).mbr.partitions[1]!.start * 512;
}, 900_000);

describe('pine64-sopine image on an Alpine root (local repository)', () => {
  it('has a stand-in for every package the Alpine stage installs', () => {
    const names = STAND_INS.map((p) => p.name);
    for (const n of [...ALPINE_PACKAGES, 'linux-lts']) expect(names).toContain(n);
  });

  it('is the same bytes when built again from the same inputs', async () => {
    const second = await build(join(scratch, 'out-b'));
    expect(second.sha256).toBe(first.sha256);
  }, 600_000);

  it("lists every installed package in apk's database and in the image manifest", async () => {
    const installed = await debugfs('cat /lib/apk/db/installed');
    for (const p of STAND_INS) expect(installed).toContain(`\nP:${p.name}\nV:${p.version}\n`);
    expect(await debugfs('cat /etc/apk/world')).toContain('linux-lts');
    // A local copy means nothing on the device: its apk gets the pinned mirror.
    expect(await debugfs('cat /etc/apk/repositories')).toBe(
      'https://dl-cdn.alpinelinux.org/alpine/v3.20/main\n',
    );
    const manifest = JSON.parse(await readFile(first.manifest, 'utf8')) as {
      kernel: string;
      packages: { name: string; version: string; checksum: string; origin: string }[];
    };
    expect(manifest.kernel).toBe(KERNEL);
    const alpine = manifest.packages.filter((p) => p.origin === 'alpine');
    expect(alpine.map((p) => p.name).sort()).toEqual(STAND_INS.map((p) => p.name).sort());
    for (const p of alpine) expect(p.checksum).toMatch(/^Q1[A-Za-z0-9+/]{27}=$/);
  });

  it("applies the owners and modes apk's manifest declares, by name, and makes its device nodes", async () => {
    expect(await debugfs('stat /bin/bbsuid')).toMatch(/Mode:\s+04755[\s\S]*User:\s+0\s+Group:\s+0\s/);
    // daemon is uid 2 in this root's passwd, though the package said 123.
    expect(await debugfs('stat /var/lib/chrony')).toMatch(
      /Type: directory\s+Mode:\s+0750[\s\S]*User:\s+2\s+Group:\s+2\s/,
    );
    expect(await debugfs('stat /var/empty')).toMatch(/Mode:\s+0555/);
    const consoleNode = await debugfs('stat /dev/console');
    expect(consoleNode).toMatch(/Type: character special\s+Mode:\s+0600/);
    expect(consoleNode).toMatch(/Device major\/minor number: 05:01/);
    expect(await debugfs('stat /usr/bin/node')).toMatch(/Mode:\s+0755[\s\S]*User:\s+0\s+Group:\s+0\s/);
  });

  it("keeps Alpine's accounts and locks root unless a password was given", async () => {
    expect(await debugfs('cat /etc/passwd')).toContain('daemon:x:2:2:');
    expect(await debugfs('cat /etc/shadow')).toBe('root:*:0:0:99999:7:::\ndaemon:!::0:::::\n');
    expect(await debugfs('stat /etc/shadow')).toMatch(/Mode:\s+0640[\s\S]*User:\s+0\s+Group:\s+42\s/);
  });

  it("enables the board's services under OpenRC, and the queue of package scripts for the first boot", async () => {
    const report = await inspectImage(first.image);
    expect(report.root.profile).toBe('pine64-sopine');
    expect(report.root.rootPassword).toBe('locked');
    expect(report.root.services).toEqual({
      sysinit: ['devfs', 'dmesg', 'hwdrivers', 'mdev', 'skyminer-first-boot'],
      boot: ['bootmisc', 'hostname', 'modules', 'networking', 'skyminer-firstboot', 'syslog'],
      default: ['chronyd', 'dropbear', 'skyminer-agent', 'skyminer-supervisor', 'skyminer-update'],
      shutdown: ['killprocs', 'mount-ro'],
    });
    expect(await debugfs('cat /var/lib/skyminer-root/first-boot/pending')).toContain(
      'dropbear-2024.85-r0.post-install',
    );
    expect(await debugfs('cat /etc/inittab')).toContain('::sysinit:/sbin/openrc sysinit');
    expect(report.bootFiles).toEqual(
      expect.arrayContaining(['vmlinuz', 'initramfs', 'dtbs/sun50i-a64-sopine-baseboard.dtb']),
    );
    expect(report.bootEntry.fdt).toBe('/dtbs/sun50i-a64-sopine-baseboard.dtb');
  });

  it('brings the Ethernet link up through networking, and loads the Ethernet and I2C drivers at boot', async () => {
    expect(await debugfs('cat /etc/network/interfaces')).toContain(
      'auto eth0\niface eth0 inet manual\n\tup /usr/libexec/skyminer/network-up eth0\n',
    );
    expect(await debugfs('cat /etc/modules')).toMatch(/\nsunxi_wdt\ndwmac_sun8i\ni2c_mv64xxx\ni2c_dev\n$/);
    for (const script of ['network-up', 'network-down', 'dhcp-event', 'board-address', 'known-slot'])
      expect(await debugfs(`stat /usr/libexec/skyminer/${script}`)).toMatch(/Mode:\s+0755/);
    expect(await debugfs('cat /etc/init.d/skyminer-firstboot')).toContain('after networking');
  });

  it('puts the raw arm64 Image from inside the EFI zboot kernel on the boot partition, for booti', async () => {
    const report = await inspectImage(first.image);
    const out = join(scratch, 'vmlinuz');
    execFileSync('mcopy', [
      '-n',
      '-i',
      `${first.image}@@${report.mbr.partitions[0]!.start * 512}`,
      '::/vmlinuz',
      out,
    ]);
    expect((await readFile(out)).equals(KERNEL_IMAGE)).toBe(true);
  });

  it('puts the static busybox and the root modules, uncompressed, dependencies first, into the initramfs', async () => {
    const report = await inspectImage(first.image);
    const out = join(scratch, 'initramfs');
    execFileSync('mcopy', [
      '-n',
      '-i',
      `${first.image}@@${report.mbr.partitions[0]!.start * 512}`,
      '::/initramfs',
      out,
    ]);
    const cpio = gunzipSync(await readFile(out));
    expect(cpio.includes('static busybox stand-in')).toBe(true);
    expect(cpio.includes('.ko.gz')).toBe(false);
    expect(cpio.includes('\0name=ext4\0depends=mbcache,jbd2,crc16\0')).toBe(true);
    const order = cpio.toString('latin1').match(/kernel\/[^\0]*\.ko\n(kernel\/[^\0]*\.ko\n)*/)?.[0];
    // The card's controller, its block driver, ext4's soft dependency crc32c_generic, then ext4 and its own.
    expect(order).toBe(
      [
        'kernel/drivers/mmc/host/sunxi-mmc.ko',
        'kernel/drivers/mmc/core/mmc_block.ko',
        'kernel/crypto/crc32c_generic.ko',
        'kernel/fs/mbcache.ko',
        'kernel/fs/jbd2/jbd2.ko',
        'kernel/lib/crc16.ko',
        'kernel/fs/ext4/ext4.ko',
        '',
      ].join('\n'),
    );
  });

  it("keeps the kernel's own modules and modules.dep in the root", async () => {
    expect(await debugfs(`cat /${MODULES}/modules.dep`)).toContain('kernel/fs/ext4/ext4.ko.gz:');
    expect(await debugfs(`ls -p /${MODULES}/kernel/drivers/watchdog`)).toContain('/sunxi_wdt.ko.gz/');
  });

  it('holds native addons built for aarch64 musl: no glibc library or symbol version needed', async () => {
    const dumpDir = await mkdtemp(join(scratch, 'dump-'));
    for (const addon of ADDONS) {
      const out = join(dumpDir, addon.replace(/\//g, '_'));
      await debugfs(`dump ${addon} ${out}`);
      expect((await readFile(out)).readUInt16LE(18), addon).toBe(0xb7);
      const dynamic = execFileSync('readelf', ['-d', '-W', out], { encoding: 'utf8' });
      const needed = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
      // zig links against musl's libc.so, which musl's loader resolves to itself; libc++ is linked in.
      expect(needed, addon).toEqual(['libc.so']);
      expect(execFileSync('readelf', ['-V', '-W', out], { encoding: 'utf8' }), addon).not.toContain('GLIBC_');
      expect(execFileSync('readelf', ['-S', '-W', out], { encoding: 'utf8' }), addon).not.toContain(
        '.debug_',
      );
    }
  });

  it('carries Skywire for aarch64, static, where config gen -p expects it, with its offline services file', async () => {
    const dumpDir = await mkdtemp(join(scratch, 'skywire-'));
    const bin = join(dumpDir, 'skywire');
    await debugfs(`dump /opt/skywire/bin/skywire ${bin}`);
    expect((await readFile(bin)).readUInt16LE(18)).toBe(0xb7);
    expect(execFileSync('readelf', ['-l', '-W', bin], { encoding: 'utf8' })).not.toContain('INTERP');
    expect(await debugfs('stat /usr/bin/skywire')).toContain('Fast link dest: "/opt/skywire/bin/skywire"');
    const services = join(dumpDir, 'services.json');
    await debugfs(`dump /opt/skywire/services-config.json ${services}`);
    expect(JSON.parse(await readFile(services, 'utf8'))).toHaveProperty('prod.dmsg_discovery');
    const manifest = JSON.parse(await readFile(first.manifest, 'utf8')) as { skywire: unknown };
    expect(manifest.skywire).toMatchObject({ version: 'v1.3.28', goarch: 'arm64' });
  });
});
