// Skywire for the boards, built from its pinned source archive with Debian's Go: -mod=vendor and no network, so
// the build needs nothing but the archive; -trimpath, an empty build id and no VCS stamp, so two builds give the same bytes.
// Built binaries are cached by everything that decides their bytes; Go's own build cache makes a rebuild seconds.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, copyFile, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { run } from '../lib/tools.js';
import type { Profile } from '../profile/schema.js';
import type { StagingTree } from '../rootfs/staging.js';
import { describeInput, type InputLock, type SourceInput } from '../lib/inputs.js';

export const SKYWIRE_INPUT = 'skywire';
/** Where the boards keep Skywire: the paths `skywire cli config gen -p` writes into a visor config. */
export const SKYWIRE_DIR = '/opt/skywire';

export type GoArch = 'amd64' | 'arm64' | 'arm';

export class SkywireBuildError extends Error {
  override readonly name = 'SkywireBuildError';
}

/** Go's architecture for a profile's (armv7 is GOARCH=arm with GOARM=7: the boards' Cortex-A7 has VFPv4). */
export function goArchOf(arch: Profile['arch']): GoArch {
  return arch === 'aarch64' ? 'arm64' : 'arm';
}

/** The build's environment and arguments, from the pin alone: what SOURCE.md records for the release. */
export function goBuildRecipe(
  pin: SourceInput,
  goarch: GoArch,
): { env: Record<string, string>; args: string[] } {
  const info = 'github.com/skycoin/skywire-utilities/pkg/buildinfo';
  const ldflags = [
    '-s -w -buildid=',
    `-X ${info}.version=${pin.version}`,
    `-X ${info}.commit=${pin.commit.slice(0, 8)}`,
    `-X ${info}.date=${pin.date}`,
    `-X github.com/skycoin/skywire/pkg/visor.BuildTag=linux_${goarch}`,
  ].join(' ');
  return {
    env: {
      GOOS: 'linux',
      GOARCH: goarch,
      ...(goarch === 'arm' ? { GOARM: '7' } : {}),
      CGO_ENABLED: '0',
      GOFLAGS: '-mod=vendor',
      GOPROXY: 'off',
      GOTOOLCHAIN: 'local',
      GOWORK: 'off',
    },
    // -buildvcs=false: the unpacked source sits inside this repository's checkout, and Go would otherwise stamp
    // the checkout's commit and time into the binary, so every commit of the firmware changed Skywire's bytes.
    args: ['build', '-trimpath', '-buildvcs=false', '-ldflags', ldflags, '-o', 'OUT', './cmd/skywire'],
  };
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** sha256 of the tar inside a .tar.gz: the pin that both `git archive` and the forge's tag archive match. */
export async function tarSha256(gz: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(gz), createGunzip(), async function* (chunks) {
    for await (const c of chunks) h.update(c as Buffer);
  });
  return h.digest('hex');
}

/** The main checkout (a worktree's mirrors are beside the main one), else the repository itself. */
async function mainCheckout(repo: string): Promise<string> {
  const { stdout } = await run('git', ['rev-parse', '--path-format=absolute', '--git-common-dir'], {
    cwd: repo,
  }).catch(() => ({ stdout: '' }));
  const common = stdout.trim();
  return common.endsWith('/.git') ? dirname(common) : repo;
}

export interface SourceOptions {
  repo: string;
  cacheDir: string;
  /** A file or URL to take the archive from instead (SKYWIRE_SOURCE), checked against the same pin. */
  source?: string;
  log: (m: string) => void;
}

/**
 * The pinned archive, verified, in `<cache>/sources/`: from `source` if given, else the cache, the mirrors beside
 * the repository, and last the upstream URL (a machine that reaches the forge needs nothing else).
 */
export async function skywireSource(pin: SourceInput, o: SourceOptions): Promise<string> {
  const dir = join(o.cacheDir, 'sources');
  await mkdir(dir, { recursive: true });
  const cached = join(dir, `${pin.file.replace(/\.tar\.gz$/, '')}-${pin.tar_sha256.slice(0, 16)}.tar.gz`);
  if (!o.source && (await exists(cached))) return cached;
  const base = await mainCheckout(o.repo);
  const candidates = o.source
    ? [o.source]
    : [
        ...pin.mirrors.flatMap((m) => (isAbsolute(m) ? [m] : [resolve(o.repo, m), resolve(base, m)])),
        pin.url,
      ];
  const tried: string[] = [];
  for (const c of candidates) {
    const tmp = `${cached}.${process.pid}.tmp`;
    try {
      if (/^https?:\/\//.test(c)) {
        o.log(`fetching ${describeInput(pin)} from ${c}`);
        const res = await fetch(c, { signal: AbortSignal.timeout(120_000) });
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        await writeFile(tmp, Buffer.from(await res.arrayBuffer()));
      } else {
        if (!(await exists(c))) {
          tried.push(`${c}: not there`);
          continue;
        }
        await copyFile(c, tmp);
      }
      const sum = await tarSha256(tmp).catch((err: Error) => `unreadable (${err.message})`);
      if (sum !== pin.tar_sha256) {
        await rm(tmp, { force: true });
        const msg = `${c}: tar sha256 ${sum} differs from the pinned ${pin.tar_sha256}`;
        if (o.source) throw new SkywireBuildError(`${describeInput(pin)}: ${msg}`);
        tried.push(msg);
        continue;
      }
      await rename(tmp, cached);
      return cached;
    } catch (err) {
      await rm(tmp, { force: true });
      if (err instanceof SkywireBuildError) throw err;
      tried.push(`${c}: ${(err as Error).message}`);
    }
  }
  throw new SkywireBuildError(
    `no copy of ${describeInput(pin)} (${pin.file}): ${tried.join('; ')}. Set SKYWIRE_SOURCE to the archive or to ${pin.url}`,
  );
}

/** The Go command: on PATH, else Debian's golang-1.22-go; it must be 1.21 or newer (Skywire's go.mod). */
export async function findGo(): Promise<{ go: string; version: string }> {
  const candidates = [
    ...(process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'go')),
    '/usr/lib/go-1.22/bin/go',
    '/usr/lib/go-1.23/bin/go',
  ];
  for (const go of candidates) {
    if (!(await exists(go))) continue;
    const { stdout } = await run(go, ['version'], { env: { GOTOOLCHAIN: 'local' } });
    const m = /go(\d+)\.(\d+)(\S*)/.exec(stdout);
    if (!m) continue;
    if (+m[1]! === 1 && +m[2]! < 21) continue;
    return { go, version: m[0] };
  }
  throw new SkywireBuildError(
    'Go 1.21 or newer not found (Debian package golang-1.22-go from bookworm-backports; make skywire installs it)',
  );
}

export interface SkywireBuild {
  binary: string;
  version: string;
  goarch: GoArch;
  /** True when the binary came from the cache of built binaries (no go build ran). */
  cached: boolean;
  seconds: number;
}

export interface BuildSkywireOptions extends SourceOptions {
  lock: InputLock;
  goarch: GoArch;
}

/** Bump when the way the binary is built changes, so no cached binary outlives its recipe. */
const RECIPE_VERSION = 'skywire-build v2';

/** Unpacks the archive once per pin into the cache; returns the source tree. */
async function unpackSource(pin: SourceInput, archive: string, cacheDir: string): Promise<string> {
  const dest = join(cacheDir, 'skywire', `src-${pin.tar_sha256.slice(0, 16)}`);
  if (await exists(join(dest, '.complete'))) return join(dest, pin.prefix);
  await mkdir(dirname(dest), { recursive: true });
  const tmp = await mkdtemp(`${dest}.tmp-`);
  try {
    await run('tar', ['-xzf', archive, '-C', tmp, '--no-same-owner']);
    if (!(await exists(join(tmp, pin.prefix, 'cmd', 'skywire'))))
      throw new SkywireBuildError(`${pin.file} has no ${pin.prefix}/cmd/skywire`);
    await writeFile(join(tmp, '.complete'), '');
    await rm(dest, { recursive: true, force: true });
    await rename(tmp, dest);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    if (!(await exists(join(dest, '.complete')))) throw err;
  }
  return join(dest, pin.prefix);
}

/**
 * Runs `go build` once into `out` (no cache of built binaries: the reproducibility test calls it twice).
 * Go's build cache (GOCACHE, default ~/.cache/go-build) is what makes a second build take seconds.
 */
export async function goBuild(
  pin: SourceInput,
  srcDir: string,
  goarch: GoArch,
  out: string,
  go: string,
): Promise<void> {
  const recipe = goBuildRecipe(pin, goarch);
  const args = recipe.args.map((a) => (a === 'OUT' ? out : a));
  await run(go, args, {
    cwd: srcDir,
    env: {
      ...recipe.env,
      PATH: `${dirname(go)}${delimiter}${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: process.env.HOME ?? '/root',
      ...(process.env.GOCACHE ? { GOCACHE: process.env.GOCACHE } : {}),
    },
  }).catch((err: Error) => {
    throw new SkywireBuildError(`go build of skywire ${pin.version} for ${goarch} failed: ${err.message}`);
  });
}

/** The skywire binary for one architecture: from the cache when its inputs are unchanged, else built. */
export async function buildSkywire(o: BuildSkywireOptions): Promise<SkywireBuild> {
  const t0 = performance.now();
  const pin = o.lock[SKYWIRE_INPUT];
  if (!pin || pin.kind !== 'source')
    throw new SkywireBuildError(`no pinned source "${SKYWIRE_INPUT}" in images/inputs.lock.json`);
  const { go, version: goVersion } = await findGo();
  const recipe = goBuildRecipe(pin, o.goarch);
  const key = createHash('sha256')
    .update(RECIPE_VERSION)
    .update(pin.tar_sha256)
    .update(goVersion)
    .update(JSON.stringify(recipe))
    .digest('hex')
    .slice(0, 16);
  const dir = join(o.cacheDir, 'skywire');
  const binary = join(dir, `skywire-${pin.version}-${o.goarch}-${key}`);
  const done = (cached: boolean): SkywireBuild => ({
    binary,
    version: pin.version,
    goarch: o.goarch,
    cached,
    seconds: (performance.now() - t0) / 1000,
  });
  if (await exists(binary)) return done(true);
  const archive = await skywireSource(pin, o);
  const src = await unpackSource(pin, archive, o.cacheDir);
  o.log(
    `building skywire ${pin.version} for linux/${o.goarch} with ${goVersion} (cold: minutes; cached: seconds)`,
  );
  const tmp = `${binary}.${process.pid}.tmp`;
  try {
    await goBuild(pin, src, o.goarch, tmp, go);
    await rename(tmp, binary);
  } finally {
    await rm(tmp, { force: true });
  }
  return done(false);
}

/**
 * Skywire in a board's root, where `config gen -p` expects it: the binary in /opt/skywire/bin (the apps' bin_path:
 * the visor starts its apps from there), /usr/bin/skywire for the shell, and the services file that `config gen
 * --nofetch -S` needs offline.
 */
export async function stageSkywire(
  tree: StagingTree,
  profile: Profile,
  o: Omit<BuildSkywireOptions, 'goarch'> & {
    /** The deployment services the visors use, instead of the source's (a private or test network). */
    services?: string;
  },
): Promise<SkywireBuild> {
  const built = await buildSkywire({ ...o, goarch: goArchOf(profile.arch) });
  const pin = o.lock[SKYWIRE_INPUT] as SourceInput;
  const src = await unpackSource(pin, await skywireSource(pin, o), o.cacheDir);
  tree.dir(SKYWIRE_DIR, { mode: 0o755 });
  tree.dir(`${SKYWIRE_DIR}/bin`, { mode: 0o755 });
  tree.copy(`${SKYWIRE_DIR}/bin/skywire`, built.binary, (await stat(built.binary)).size, { mode: 0o755 });
  tree.symlink('/usr/bin/skywire', `${SKYWIRE_DIR}/bin/skywire`);
  if (o.services) {
    const text = await readServicesConfig(o.services);
    tree.file(`${SKYWIRE_DIR}/services-config.json`, text);
  } else {
    const services = join(src, 'services-config.json');
    tree.copy(`${SKYWIRE_DIR}/services-config.json`, services, (await stat(services)).size);
  }
  return built;
}

/** The service addresses a visor cannot set up without (`config gen` takes the rest as given). */
const REQUIRED_SERVICES = ['dmsg_discovery', 'transport_discovery'] as const;

/**
 * A services file (`services-config.json`, as Skywire's source ships it) read and checked before it goes into an
 * image: JSON, a `prod` section, and http(s) addresses for the services every visor needs. One line says what is
 * wrong, since a bad file would only show on the boards as visors that never connect.
 */
export async function readServicesConfig(file: string): Promise<string> {
  const what = `--skywire-services ${file}`;
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new SkywireBuildError(`${what}: cannot read it (${err.code ?? err.message})`);
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new SkywireBuildError(`${what}: not JSON (${(err as Error).message})`);
  }
  const prod = (parsed as { prod?: unknown } | null)?.prod;
  if (typeof prod !== 'object' || prod === null || Array.isArray(prod))
    throw new SkywireBuildError(`${what}: no "prod" section (the services a visor uses)`);
  for (const key of REQUIRED_SERVICES) {
    const url = (prod as Record<string, unknown>)[key];
    if (typeof url !== 'string' || !/^https?:\/\/[^\s/]+/.test(url))
      throw new SkywireBuildError(
        `${what}: prod.${key} must be an http(s) address, not ${JSON.stringify(url)}`,
      );
  }
  return text;
}
