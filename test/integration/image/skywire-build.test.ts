// Skywire from its pinned source: the same bytes from two builds, the version stamped from the pin, and an archive
// that is not the pinned one refused. `make test` builds the binaries first (make skywire), so the builds here
// find Go's build cache warm and take seconds; run alone on a cold machine they take minutes.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../../images/build.js';
import { loadLock, type InputLock, type SourceInput } from '../../../images/lib/inputs.js';
import {
  buildSkywire,
  findGo,
  goArchOf,
  goBuild,
  goBuildRecipe,
  SKYWIRE_INPUT,
  skywireSource,
  tarSha256,
} from '../../../images/stages/skywire.js';

const repo = repoRoot();
const cacheDir = join(repo, '.cache', 'images');
const COLD_BUILD_MS = 900_000;
let lock: InputLock;
let pin: SourceInput;
let scratch: string;

const sha = async (f: string) =>
  createHash('sha256')
    .update(await readFile(f))
    .digest('hex');

beforeAll(async () => {
  lock = await loadLock(join(repo, 'images', 'inputs.lock.json'));
  pin = lock[SKYWIRE_INPUT] as SourceInput;
  scratch = await mkdtemp(join(tmpdir(), 'skywire-build-'));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

describe('the Skywire build recipe', () => {
  it('maps the 32-bit boards to GOARCH=arm with GOARM=7 and stamps the pinned version and commit', () => {
    expect(goArchOf('armv7')).toBe('arm');
    expect(goArchOf('aarch64')).toBe('arm64');
    const r = goBuildRecipe(pin, 'arm');
    expect(r.env).toMatchObject({ GOARCH: 'arm', GOARM: '7', CGO_ENABLED: '0', GOFLAGS: '-mod=vendor' });
    expect(r.env).toMatchObject({ GOPROXY: 'off', GOTOOLCHAIN: 'local' });
    expect(r.args).toContain('-trimpath');
    expect(r.args).toContain('-buildvcs=false');
    const ldflags = r.args[r.args.indexOf('-ldflags') + 1]!;
    expect(ldflags).toContain('-buildid=');
    expect(ldflags).toContain(`buildinfo.version=${pin.version}`);
    expect(ldflags).toContain(`buildinfo.commit=${pin.commit.slice(0, 8)}`);
    expect(ldflags).toContain('visor.BuildTag=linux_arm');
    expect(goBuildRecipe(pin, 'arm64').env.GOARM).toBeUndefined();
  });
});

describe('Skywire built from the pinned source', () => {
  it(
    'gives the same bytes from two builds, and the binary reports the pinned version',
    async () => {
      const built = await buildSkywire({ repo, lock, goarch: 'amd64', cacheDir, log: () => undefined });
      const { go } = await findGo();
      const src = join(cacheDir, 'skywire', `src-${pin.tar_sha256.slice(0, 16)}`, pin.prefix);
      const again = join(scratch, 'skywire-again');
      await goBuild(pin, src, 'amd64', again, go);
      expect(await sha(again)).toBe(await sha(built.binary));
      const { stdout } = await promisify(execFile)(built.binary, ['-v']);
      expect(stdout).toContain(pin.version.replace(/^v/, ''));
      // The source is unpacked inside this checkout: no commit of the firmware may be stamped into Skywire.
      const info = await promisify(execFile)(go, ['version', '-m', built.binary]);
      expect(info.stdout).toContain('-trimpath=true');
      expect(info.stdout).not.toContain('vcs.revision');
      // Served from the cache of built binaries the second time: no go build at all.
      const cached = await buildSkywire({ repo, lock, goarch: 'amd64', cacheDir, log: () => undefined });
      expect(cached).toMatchObject({ binary: built.binary, cached: true });
    },
    COLD_BUILD_MS,
  );

  it('refuses a source archive whose tar is not the pinned one, naming both checksums', async () => {
    const fake = join(scratch, 'skywire-1.3.28.tar.gz');
    await writeFile(fake, gzipSync(Buffer.from('not the skywire source')));
    const wrong = await tarSha256(fake);
    await expect(
      skywireSource(pin, { repo, cacheDir: join(scratch, 'cache'), source: fake, log: () => undefined }),
    ).rejects.toThrow(`tar sha256 ${wrong} differs from the pinned ${pin.tar_sha256}`);
  });

  it('names where it looked and how to point at the upstream tag when no copy is reachable', async () => {
    const offline = {
      ...pin,
      mirrors: [join(scratch, 'nowhere.tar.gz')],
      url: 'http://127.0.0.1:9/x.tar.gz',
    };
    await expect(
      skywireSource(offline, { repo, cacheDir: join(scratch, 'cache2'), log: () => undefined }),
    ).rejects.toThrow(/no copy of skywire v1\.3\.28 .*nowhere\.tar\.gz: not there.*Set SKYWIRE_SOURCE/);
  });
});
