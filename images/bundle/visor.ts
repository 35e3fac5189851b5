// `skyminer-image visor-bundle`: a built `skywire` binary, gzipped and signed into a visor bundle
// (firmware/update/visor-bundle.ts) that boards install without reflashing.
import { createHash, type KeyObject } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { keyId } from '../../firmware/update/keys.js';
import { visorBundleHeader, type VisorArch, type VisorManifest } from '../../firmware/update/visor-bundle.js';
import { BundleSourceError, writeBundleFile } from './make.js';

function counting(h: ReturnType<typeof createHash>, count: { n: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      h.update(chunk);
      count.n += chunk.length;
      done(null, chunk);
    },
  });
}

/**
 * The Skywire build in the cache for `arch` (`<cache>/skywire/skywire-<version>-<arch>-<key>`), newest first when
 * several versions were built; null when there is none.
 */
export async function cachedSkywire(
  cacheDir: string,
  arch: VisorArch,
): Promise<{ binary: string; version: string } | null> {
  const dir = join(cacheDir, 'skywire');
  const names = await readdir(dir).catch(() => [] as string[]);
  const found: { binary: string; version: string; mtime: number }[] = [];
  for (const name of names) {
    const m = /^skywire-(v\d+\.\d+\.\d+[^-]*)-([a-z0-9]+)-[0-9a-f]+$/.exec(name);
    if (!m || m[2] !== arch) continue;
    const s = await stat(join(dir, name));
    found.push({ binary: join(dir, name), version: m[1]!, mtime: s.mtimeMs });
  }
  found.sort((a, b) => b.mtime - a.mtime);
  return found[0] ?? null;
}

/** Writes the bundle beside `out` first and renames it: a failed run leaves no partial bundle. */
export async function makeVisorBundle(
  src: { binary: string; version: string; arch: VisorArch },
  key: KeyObject,
  out: string,
  created: number,
): Promise<{ file: string; bytes: number; manifest: VisorManifest }> {
  const payloadFile = `${out}.${process.pid}.payload`;
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    const binaryHash = createHash('sha256');
    const payloadHash = createHash('sha256');
    const binaryCount = { n: 0 };
    const payloadCount = { n: 0 };
    await pipeline(
      createReadStream(src.binary),
      counting(binaryHash, binaryCount),
      createGzip({ level: 9 }),
      counting(payloadHash, payloadCount),
      createWriteStream(payloadFile),
    ).catch((err: NodeJS.ErrnoException) => {
      throw new BundleSourceError(`${src.binary}: cannot read (${err.code ?? err.message})`);
    });
    if (binaryCount.n === 0) throw new BundleSourceError(`${src.binary}: empty, not a skywire binary`);
    const manifest: VisorManifest = {
      format: 1,
      kind: 'skywire',
      version: src.version,
      arch: src.arch,
      created,
      key_id: keyId(key),
      binary: { bytes: binaryCount.n, sha256: binaryHash.digest('hex') },
      payload: { encoding: 'gzip', bytes: payloadCount.n, sha256: payloadHash.digest('hex') },
    };
    const bytes = await writeBundleFile(visorBundleHeader(manifest, key), payloadFile, tmp, out);
    return { file: out, bytes, manifest };
  } finally {
    await rm(payloadFile, { force: true });
    await rm(tmp, { force: true });
  }
}
