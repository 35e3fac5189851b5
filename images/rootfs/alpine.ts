// The real boards' base: Alpine packages installed rootless by the image builder's package installer
// (images/apk/) into a host directory, then staged with the owners and modes its manifest records.
import { access, lstat, mkdir, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ApkError } from '../apk/errors.js';
import { installPackages } from '../apk/installer.js';
import { type Manifest, readManifest } from '../apk/manifest.js';
import { indexLocation } from '../apk/repository.js';
import type { BaseSystem, BuildContext, PackageRecord, RootfsSource } from './source.js';
import type { StagingTree } from './staging.js';

export class RootfsUnavailable extends Error {
  override readonly name = 'RootfsUnavailable';
}

/** The Alpine release branch the boards are built from. Its nodejs (Node 20 in v3.20) is in `main`. */
export const ALPINE_BRANCH = 'v3.20';
export const DEFAULT_ALPINE_REPOSITORIES: readonly string[] = [
  `https://dl-cdn.alpinelinux.org/alpine/${ALPINE_BRANCH}/main`,
];

/** The Alpine package set of a board image (the kernel package comes from the profile). */
export const ALPINE_PACKAGES = [
  'alpine-baselayout',
  'busybox',
  'busybox-openrc',
  // The mdev service (sysinit runlevel) lives in its own subpackage since Alpine 3.18.
  'busybox-mdev-openrc',
  // A static busybox for the initramfs, which has no libc.
  'busybox-static',
  'openrc',
  'musl',
  // apk itself and the release keys, so that the device can upgrade its own packages.
  'apk-tools',
  'alpine-keys',
  'nodejs',
  'e2fsprogs-extra',
  'sfdisk',
  // partx gives the kernel the grown root partition's size while it is mounted (its own package since 3.20).
  'partx',
  'util-linux-misc',
  // ifup for OpenRC's networking (which reads /etc/network/interfaces); udhcpc is busybox's.
  'ifupdown-ng',
  'dropbear',
  // OpenSSH's client for the manager's `attach`: it reads the OpenSSH-format key the supervisor writes.
  'openssh-client-default',
  'chrony',
  // Satisfies the kernel's linux-firmware-any without the several hundred MiB of linux-firmware: the
  // boards' SoC drivers need no firmware files.
  'linux-firmware-none',
];

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

const isUrl = (s: string) => /^https?:\/\//.test(s);

/**
 * Copies the installed root into the tree. Owners and modes come from the installer's manifest (the host copy
 * carries neither), device nodes and fifos from the manifest alone; paths the manifest does not know (none,
 * normally) are root's with the host's permission bits.
 */
export async function stageApkRoot(
  tree: StagingTree,
  host: string,
  manifest: Manifest,
  rel = '',
): Promise<void> {
  for (const name of (await readdir(join(host, rel))).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const h = join(host, r);
    const p = `/${r}`;
    const st = await lstat(h);
    const m = manifest.entries[r];
    const owner = { uid: m?.uid ?? 0, gid: m?.gid ?? 0 };
    const mode = m?.mode ?? st.mode & 0o7777;
    if (st.isSymbolicLink()) tree.symlink(p, await readlink(h), owner);
    else if (st.isDirectory()) {
      tree.dir(p, { ...owner, mode });
      await stageApkRoot(tree, host, manifest, r);
    } else if (st.isFile()) tree.copy(p, h, st.size, { ...owner, mode });
  }
  if (rel !== '') return;
  for (const [r, m] of Object.entries(manifest.entries).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (m.type === 'chardev' || m.type === 'blockdev' || m.type === 'fifo')
      tree.node(`/${r}`, m.type, m.major ?? 0, m.minor ?? 0, { mode: m.mode, uid: m.uid, gid: m.gid });
  }
}

export class AlpineSource implements RootfsSource {
  readonly name = 'alpine';

  async populate(tree: StagingTree, ctx: BuildContext): Promise<BaseSystem> {
    const p = ctx.profile;
    const arch = p.arch;
    const repositories = ctx.alpineRepositories;
    if (repositories.length === 0)
      throw new RootfsUnavailable(`${p.name}: an Alpine root needs at least one --alpine-repository`);
    const root = join(ctx.workDir, 'alpine-root');
    await mkdir(root, { recursive: true });
    const world = [...ALPINE_PACKAGES, p.kernel.package];
    ctx.log(`installing ${world.length} Alpine packages (${arch}) from ${repositories.join(', ')}`);
    let result;
    try {
      result = await installPackages({
        root,
        repositories,
        keysDir: ctx.alpineKeysDir,
        arch,
        packages: world,
      });
    } catch (err) {
      if (err instanceof ApkError) {
        // An index that cannot be fetched means the mirror is out of reach: say what would do instead.
        const repo = repositories.find((r) => err.subject === indexLocation(r, arch));
        if (repo && /download of|cannot read/.test(err.reason)) {
          const why = err.reason.replace(/^.*\((.*)\)$/, '$1');
          const what = isUrl(repo)
            ? `cannot reach the Alpine mirror ${repo} (${why})`
            : `the Alpine repository ${repo} has no ${arch}/APKINDEX.tar.gz (${why})`;
          throw new RootfsUnavailable(
            `${p.name}: ${what}; an Alpine root needs network access to an Alpine mirror, or a local copy of one given with --alpine-repository DIR`,
          );
        }
        throw new RootfsUnavailable(`${p.name}: Alpine packages: ${err.message}`);
      }
      throw err;
    }
    const manifest = await readManifest(root);
    await stageApkRoot(tree, root, manifest);
    // Where the device's own apk looks: the mirrors the image came from (a local copy means nothing there).
    const remote = repositories.filter(isUrl);
    tree.file(
      '/etc/apk/repositories',
      `${(remote.length ? remote : DEFAULT_ALPINE_REPOSITORIES).join('\n')}\n`,
    );
    ctx.log(
      `Alpine root: ${result.installed.length} packages, ${Object.keys(manifest.entries).length} paths`,
    );

    const image = join(root, p.kernel.image);
    if (!(await exists(image)))
      throw new RootfsUnavailable(
        `${p.name}: kernel.image ${p.kernel.image} is not in Alpine's ${p.kernel.package} package`,
      );
    const devicetree = p.kernel.devicetree ? join(root, p.kernel.devicetree) : undefined;
    if (devicetree && !(await exists(devicetree)))
      throw new RootfsUnavailable(
        `${p.name}: kernel.devicetree ${p.kernel.devicetree} is not in Alpine's ${p.kernel.package} package`,
      );
    const versions = (await readdir(join(root, 'lib', 'modules')).catch(() => [])).sort();
    if (versions.length !== 1)
      throw new RootfsUnavailable(
        `${p.name}: expected one kernel version in lib/modules of the Alpine root, found ${versions.length ? versions.join(', ') : 'none'}`,
      );
    const version = versions[0]!;
    const busybox = join(root, 'bin', 'busybox.static');
    if (!(await exists(busybox)))
      throw new RootfsUnavailable(`${p.name}: busybox-static did not install bin/busybox.static`);
    const packages: PackageRecord[] = result.installed
      .map((e) => ({
        name: e.name,
        version: e.version,
        arch: e.arch ?? arch,
        checksum: e.checksum,
        origin: 'alpine' as const,
      }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    return {
      init: 'openrc',
      kernel: {
        image,
        version,
        modulesDir: join(root, 'lib', 'modules', version),
        ...(devicetree ? { devicetree } : {}),
        modulesInRoot: true,
      },
      busybox,
      libc: 'musl',
      packages,
    };
  }
}

export function rootfsSource(kind: 'debian-parts' | 'alpine', debian: () => RootfsSource): RootfsSource {
  return kind === 'alpine' ? new AlpineSource() : debian();
}
