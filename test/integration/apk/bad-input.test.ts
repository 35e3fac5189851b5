import { readFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installPackages } from '../../../images/apk/installer.js';
import { manifestPath } from '../../../images/apk/manifest.js';
import {
  buildApk,
  buildIndex,
  type BuiltPackage,
  makeKey,
  type PackageSpec,
  type TestKey,
  writeKeysDir,
  writeRepository,
} from '../../lib/apk-builder.js';
import { BASE, snapshot } from './fixtures.js';

let dir: string;
let key: TestKey;
let built: BuiltPackage[];
const repo = (): string => join(dir, 'repo');
const root = (): string => join(dir, 'rootfs');
const opts = (packages: string[], repository = repo()) => ({
  root: root(),
  repositories: [repository],
  keysDir: join(dir, 'keys'),
  arch: 'aarch64',
  packages,
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apk-bad-'));
  key = makeKey('skyminer-test-61a0.rsa.pub');
  await writeKeysDir(join(dir, 'keys'), key);
  built = await writeRepository(repo(), BASE, key);
  await mkdir(root());
  // A root that already holds something, so "left as it was" means more than "left empty".
  await installPackages(opts(['musl']));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const apkPath = (name: string): string => {
  const b = built.find((x) => x.spec.name === name)!;
  return join(repo(), 'aarch64', `${b.spec.name}-${b.spec.version}.apk`);
};

/** Replaces packages in the repository, re-signing the index with `indexKey`. */
async function republish(replace: BuiltPackage[], indexKey = key): Promise<void> {
  const list = built.map((b) => replace.find((r) => r.spec.name === b.spec.name) ?? b);
  for (const b of replace) await writeFile(apkPath(b.spec.name), b.apk);
  await writeFile(
    join(repo(), 'aarch64', 'APKINDEX.tar.gz'),
    buildIndex(
      list.map((b) => b.index),
      indexKey,
    ),
  );
}

/** Runs an install that must fail, and checks the one-line reason and that the root did not change. */
async function refused(packages: string[], repository?: string): Promise<string> {
  const before = await snapshot(dir);
  const err = await installPackages(opts(packages, repository)).then(
    () => new Error('installed'),
    (e: Error) => e,
  );
  expect(err.name).toBe('ApkError');
  expect(err.message).not.toContain('\n');
  expect(await snapshot(dir)).toEqual(before);
  return err.message;
}

describe('refusing bad input and leaving the root as it was', () => {
  it('refuses a package whose data was changed after signing', async () => {
    const good = buildApk({ ...BASE.find((s) => s.name === 'app')!, arch: 'aarch64' }, key);
    const evil = buildApk(
      {
        ...BASE.find((s) => s.name === 'app')!,
        files: [{ path: 'usr/bin/app', content: 'EVIL', mode: 0o755 }],
      },
      key,
    );
    // Keep the signed control part, swap in other data: the index entry stays valid, datahash does not.
    const goodParts = splitAt(good.apk);
    const evilParts = splitAt(evil.apk);
    const spliced = Buffer.concat([goodParts[0]!, goodParts[1]!, evilParts[2]!]);
    const index = good.index.replace(/^S:\d+$/m, `S:${spliced.length}`);
    await republish([{ ...good, apk: spliced, index }]);
    expect(await refused(['app'])).toMatch(
      /^app-2\.0-r1: data checksum [0-9a-f]{64} does not match datahash/,
    );
  });

  it('refuses a package whose control part does not match the index checksum', async () => {
    const app = built.find((b) => b.spec.name === 'app')!;
    const other = buildApk({ ...app.spec, description: 'rebuilt' }, key);
    const index = other.index.replace(/^C:.*$/m, app.index.split('\n')[0]!);
    await republish([{ ...other, index }]);
    expect(await refused(['app'])).toMatch(/^app-2\.0-r1: control checksum Q1\S+ does not match the index/);
  });

  it('refuses an index whose contents were changed after signing', async () => {
    const path = join(repo(), 'aarch64', 'APKINDEX.tar.gz');
    const signed = await readFile(path);
    const forged = buildIndex(
      built.map((b) => b.index.replace('T:app test package', 'T:trojan')),
      key,
    );
    // The original signature member in front of the forged body.
    await writeFile(path, Buffer.concat([splitAt(signed)[0]!, splitAt(forged)[1]!]));
    expect(await refused(['app'])).toBe(`${path}: bad signature (key skyminer-test-61a0.rsa.pub)`);
  });

  it('refuses an index signed by a key that is not trusted', async () => {
    await republish([], makeKey('stranger-5e00.rsa.pub'));
    expect(await refused(['app'])).toMatch(
      /APKINDEX.tar.gz: signed by an untrusted key \(stranger-5e00.rsa.pub\)$/,
    );
  });

  it('refuses a package signed by a key that is not trusted', async () => {
    const app = built.find((b) => b.spec.name === 'app')!;
    await republish([buildApk(app.spec, makeKey('stranger-5e00.rsa.pub'))]);
    expect(await refused(['app'])).toBe('app-2.0-r1: signed by an untrusted key (stranger-5e00.rsa.pub)');
  });

  it('refuses a truncated package file', async () => {
    const file = await readFile(apkPath('app'));
    await writeFile(apkPath('app'), file.subarray(0, file.length - 100));
    expect(await refused(['app'])).toMatch(/^app-2\.0-r1: file is \d+ bytes, the index says \d+ \(truncated/);
  });

  it('refuses a download cut short by the server', async () => {
    const server = await serve(repo(), (path) => path.endsWith('app-2.0-r1.apk'));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      expect(await refused(['app'], url)).toMatch(
        /^app-2\.0-r1: download of http:\/\/127\.0\.0\.1:\d+\/aarch64\/app-2\.0-r1\.apk/,
      );
    } finally {
      server.close();
    }
  });

  it('installs from an http repository when the downloads are whole', async () => {
    const server = await serve(repo(), () => false);
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const result = await installPackages(opts(['app'], url));
      expect(result.installed.map((p) => p.name)).toContain('app');
    } finally {
      server.close();
    }
  });

  it('refuses a package path that climbs out of the root', async () => {
    await republish([
      buildApk({ name: 'app', version: '2.0-r1', files: [{ path: '../../escaped', content: 'x' }] }, key),
    ]);
    expect(await refused(['app'])).toMatch(/^app-2\.0-r1: \.\.\/\S*: path escapes the root$/);
  });

  it('refuses a package that escapes through its own symbolic link, undoing what it had written', async () => {
    const evil: PackageSpec = {
      name: 'app',
      version: '2.0-r1',
      files: [
        { path: 'usr/share/doc/app/README', content: 'written before the escape' },
        { path: 'usr/share/x', type: 'symlink', target: '../../..' },
        { path: 'usr/share/x/escaped', content: 'x' },
      ],
    };
    await republish([buildApk(evil, key)]);
    expect(await refused(['app'])).toBe('app-2.0-r1: usr/share/x/x: path escapes the root');
  });

  it('refuses two packages that conflict, naming both', async () => {
    expect(await refused(['app', 'app-legacy'])).toBe(
      "world: cannot satisfy 'app-legacy': app-legacy-1.0-r0 conflicts with app-2.0-r1 ('!app-legacy')",
    );
  });

  it('refuses a package that would overwrite another package’s file', async () => {
    await republish([
      buildApk(
        { name: 'app', version: '2.0-r1', files: [{ path: 'lib/ld-musl-aarch64.so.1', content: 'mine' }] },
        key,
      ),
    ]);
    expect(await refused(['app'])).toBe(
      'app-2.0-r1: trying to overwrite lib/ld-musl-aarch64.so.1 owned by musl-1.2.5-r0',
    );
  });

  it('puts the root back when the disk fails half way through', async () => {
    let changes = 0;
    const before = await snapshot(dir);
    const failing = {
      ...opts(['app', 'alpine-baselayout-data']),
      beforeChange: () => {
        if (++changes === 25) throw new Error('ENOSPC: no space left on device');
      },
    };
    await expect(installPackages(failing)).rejects.toThrow('ENOSPC');
    expect(changes).toBe(25);
    expect(await snapshot(dir)).toEqual(before);
    expect(await readFile(manifestPath(root()), 'utf8')).toContain('"lib/ld-musl-aarch64.so.1"');
  });
});

/** The gzip members of a file, as raw buffers. */
function splitAt(buf: Buffer): Buffer[] {
  // Imported lazily to keep the test's own view independent of the installer's splitter.
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 1; i + 2 < buf.length; i++) {
    if (
      buf[i] === 0x1f &&
      buf[i + 1] === 0x8b &&
      buf[i + 2] === 8 &&
      buf[i + 3] === 0 &&
      buf.readUInt32LE(i + 4) === 0
    ) {
      parts.push(buf.subarray(start, i));
      start = i;
    }
  }
  parts.push(buf.subarray(start));
  return parts;
}

/** Serves a repository directory on loopback; `cut` picks files whose body is sent only half. */
function serve(base: string, cut: (path: string) => boolean): Promise<Server> {
  const server = createServer((req, res) => {
    readFile(join(base, decodeURIComponent(req.url ?? '/'))).then(
      (body) => {
        res.writeHead(200, { 'content-length': body.length });
        if (cut(req.url ?? '')) {
          res.write(body.subarray(0, body.length >> 1));
          res.destroy();
        } else res.end(body);
      },
      () => {
        res.writeHead(404).end();
      },
    );
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}
