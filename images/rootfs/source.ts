import type { Profile } from '../profile/schema.js';
import type { InputLock } from '../lib/inputs.js';
import type { StagingTree } from './staging.js';

export interface BuildContext {
  profile: Profile;
  lock: InputLock;
  cacheDir: string;
  /** This build's own scratch directory (removed when the build ends). */
  workDir: string;
  /** Alpine repositories (directories or URLs, each holding `<arch>/APKINDEX.tar.gz`), in priority order. */
  alpineRepositories: readonly string[];
  /** The public keys the Alpine indexes and packages must be signed with. */
  alpineKeysDir: string;
  log: (message: string) => void;
}

/** A package that went into the image, for the manifest. */
export interface PackageRecord {
  name: string;
  version: string;
  arch: string;
  /** sha256 of the package file (Debian) or its npm integrity / Alpine checksum. */
  checksum: string;
  origin: 'debian' | 'alpine' | 'npm';
}

export interface BaseSystem {
  init: 'busybox' | 'openrc';
  /** Host paths of the kernel, its modules directory (lib/modules/<version>) and device tree. */
  kernel: {
    image: string;
    version: string;
    modulesDir: string;
    devicetree?: string;
    /** The base already put every module (and the kernel's own modules.dep) into the root. */
    modulesInRoot?: boolean;
  };
  /** A static busybox for the initramfs. */
  busybox: string;
  /** The target's libc family, which the firmware's native addons must be built for. */
  libc: 'glibc' | 'musl';
  packages: PackageRecord[];
}

/** Where the base system of a root comes from: Debian parts (emulator profiles) or Alpine packages (the boards). */
export interface RootfsSource {
  readonly name: string;
  /** Adds the base system to the tree and says where the kernel and friends are. */
  populate(tree: StagingTree, ctx: BuildContext): Promise<BaseSystem>;
}
