// The real boards' base: Alpine packages through the image builder's package installer (images/apk/).
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { BaseSystem, BuildContext, RootfsSource } from './source.js';
import type { StagingTree } from './staging.js';

export class RootfsUnavailable extends Error {
  override readonly name = 'RootfsUnavailable';
}

/** The Alpine package set of a board image. */
export const ALPINE_PACKAGES = [
  'alpine-baselayout',
  'busybox',
  'busybox-openrc',
  'openrc',
  'musl',
  'nodejs',
  'e2fsprogs-extra',
  'sfdisk',
  'util-linux-misc',
  'dropbear',
  'chrony',
];

export class AlpineSource implements RootfsSource {
  readonly name = 'alpine';

  async populate(_tree: StagingTree, ctx: BuildContext): Promise<BaseSystem> {
    const installer = fileURLToPath(new URL('../apk/installer.js', import.meta.url));
    const present = await access(installer).then(
      () => true,
      () => false,
    );
    if (!present)
      throw new RootfsUnavailable(
        `${ctx.profile.name}: an Alpine root needs the package installer (images/apk/installer.ts, skyminer-image apk), which is not in this tree yet; the emulator profiles (qemu-virt-arm64, qemu-virt-armv7) build without it`,
      );
    throw new RootfsUnavailable(
      `${ctx.profile.name}: the Alpine root stage is not wired to images/apk/ yet; it needs an Alpine mirror (network access to one, or a local copy given with --alpine-repository) and the packages ${ALPINE_PACKAGES.join(', ')}, ${ctx.profile.kernel.package} for the kernel`,
    );
  }
}

export function rootfsSource(kind: 'debian-parts' | 'alpine', debian: () => RootfsSource): RootfsSource {
  return kind === 'alpine' ? new AlpineSource() : debian();
}
