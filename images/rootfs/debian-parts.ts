// The emulator profiles' base: Debian's arm64/armhf kernel, static busybox and glibc, which CI can reach (an
// Alpine mirror it cannot). Everything above the base (firmware, services, first boot, layout) is the boards'.
import { join } from 'node:path';
import { debianArch } from '../profile/schema.js';
import { run } from '../lib/tools.js';
import { describeInput, unpackInput, type Input } from '../lib/inputs.js';
import { readdir, stat } from 'node:fs/promises';
import { stagedNode } from './node-binary.js';
import type { BaseSystem, BuildContext, PackageRecord, RootfsSource } from './source.js';
import { stageHostDir } from './stage-host-dir.js';
import type { StagingTree } from './staging.js';

/** The busybox applets the image's scripts and a person at the console use, and where they live. */
export const SBIN_APPLETS = [
  'getty',
  'halt',
  'ifconfig',
  'udhcpc',
  'init',
  'insmod',
  'klogd',
  'lsmod',
  'mdev',
  'modprobe',
  'poweroff',
  'reboot',
  'rmmod',
  'switch_root',
  'syslogd',
  'watchdog',
  'fdisk',
  'blockdev',
];
export const BIN_APPLETS = [
  '[',
  'ash',
  'awk',
  'basename',
  'cat',
  'chmod',
  'chown',
  'cp',
  'cut',
  'date',
  'dd',
  'df',
  'dirname',
  'dmesg',
  'du',
  'echo',
  'env',
  'expr',
  'false',
  'find',
  'free',
  'grep',
  'head',
  'hexdump',
  'hostname',
  'id',
  'ip',
  'kill',
  'killall',
  'less',
  'ln',
  'logger',
  'login',
  'ls',
  'mkdir',
  'mkfifo',
  'more',
  'mount',
  'logread',
  'mv',
  'nc',
  'od',
  'passwd',
  'pgrep',
  'pidof',
  'ping',
  'pkill',
  'printf',
  'ps',
  'readlink',
  'realpath',
  'rm',
  'rmdir',
  'sed',
  'seq',
  'setsid',
  'sh',
  'sleep',
  'sort',
  'stty',
  'su',
  'sync',
  'tail',
  'tee',
  'test',
  'top',
  'touch',
  'tr',
  'true',
  'umount',
  'uname',
  'uniq',
  'uptime',
  'vi',
  'wc',
  'wget',
  'which',
  'whoami',
  'xargs',
];

const TRIPLE = { arm64: 'aarch64-linux-gnu', armhf: 'arm-linux-gnueabihf' } as const;

function record(input: Input): PackageRecord {
  if (input.kind !== 'deb') throw new Error(`${describeInput(input)} is not a Debian package`);
  return {
    name: input.package,
    version: input.version,
    arch: input.arch,
    checksum: `sha256:${input.sha256}`,
    origin: 'debian',
  };
}

export class DebianPartsSource implements RootfsSource {
  readonly name = 'debian-parts';

  async populate(tree: StagingTree, ctx: BuildContext): Promise<BaseSystem> {
    const arch = debianArch(ctx.profile.arch);
    const triple = TRIPLE[arch];
    const keys = [`busybox-${arch}`, `libc6-${arch}`, `libstdcxx6-${arch}`, `libgcc-s1-${arch}`];
    if (arch === 'armhf') keys.push('libatomic1-armhf');
    const packages: PackageRecord[] = [];
    // glibc and the C++ runtime for Node: only the shared libraries (no gconv, docs or tools).
    for (const key of keys.slice(1)) {
      const dir = await unpackInput(ctx.lock, key, ctx.cacheDir, ctx.log);
      packages.push(record(ctx.lock[key]!));
      for (const top of ['lib', 'usr/lib']) {
        await stageHostDir(
          tree,
          join(dir, top),
          `/${top}`,
          (rel) => /(^|\/)(gconv|audit)(\/|$)/.test(rel) || rel.endsWith('.a') || rel.startsWith('gcc/'),
        ).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        });
      }
    }
    const bb = await unpackInput(ctx.lock, keys[0]!, ctx.cacheDir, ctx.log);
    packages.push(record(ctx.lock[keys[0]!]!));
    const busybox = join(bb, 'bin', 'busybox');
    await stageHostDir(tree, join(bb, 'bin'), '/bin');
    for (const a of BIN_APPLETS) if (a !== 'busybox') tree.symlink(`/bin/${a}`, 'busybox');
    for (const a of SBIN_APPLETS) tree.symlink(`/sbin/${a}`, '/bin/busybox');
    tree.dir('/usr/bin').dir('/usr/sbin');
    tree.file('/etc/ld.so.conf', `/lib/${triple}\n/usr/lib/${triple}\n`);

    // Node: the official build for the target (glibc), stripped.
    const nodeKey = arch === 'arm64' ? 'node-arm64' : 'node-armv7';
    const nodeInput = ctx.lock[nodeKey]!;
    const node = await stagedNode(
      await unpackInput(ctx.lock, nodeKey, ctx.cacheDir, ctx.log),
      ctx.profile,
      ctx.cacheDir,
    );
    tree.copy('/usr/bin/node', node, (await stat(node)).size, { mode: 0o755 });
    if (nodeInput.kind === 'npm')
      packages.push({
        name: nodeInput.package,
        version: nodeInput.version,
        arch,
        checksum: nodeInput.integrity,
        origin: 'npm',
      });

    const kernelKey = ctx.profile.kernel.package;
    const kdir = await unpackInput(ctx.lock, kernelKey, ctx.cacheDir, ctx.log);
    packages.push(record(ctx.lock[kernelKey]!));
    const versions = (await readdir(join(kdir, 'lib', 'modules'))).sort();
    if (versions.length !== 1)
      throw new Error(
        `${describeInput(ctx.lock[kernelKey]!)}: expected one kernel version, found ${versions.join(', ')}`,
      );
    const version = versions[0]!;
    const image = join(kdir, ctx.profile.kernel.image);
    await run('test', ['-f', image]).catch(() => {
      throw new Error(
        `${ctx.profile.name}: kernel.image ${ctx.profile.kernel.image} is not in ${describeInput(ctx.lock[kernelKey]!)}`,
      );
    });
    return {
      init: 'busybox',
      kernel: { image, version, modulesDir: join(kdir, 'lib', 'modules', version) },
      busybox,
      libc: 'glibc',
      packages,
    };
  }
}
