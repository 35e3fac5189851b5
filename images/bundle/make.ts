// `skyminer-image bundle`: the root filesystem of a built image, gzipped and signed into an update bundle.
import { createHash, type KeyObject } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { encodeHeader, signManifest, type BundleManifest } from '../../firmware/update/bundle.js';
import { keyId } from '../../firmware/update/keys.js';
import { debugfsRequest } from '../layout/ext4.js';
import { decodeMbr, SECTOR } from '../layout/mbr.js';

export class BundleSourceError extends Error {
  override readonly name = 'BundleSourceError';
}

/** Where a root filesystem sits in a file and what it holds. */
export interface RootSource {
  file: string;
  offset: number;
  bytes: number;
  firmware: string;
  profile: string;
  arch: 'aarch64' | 'armv7';
}

/** The size of the ext4 filesystem at an offset, from its superblock (the slot around it may be larger). */
export async function ext4Bytes(file: string, offset: number): Promise<number> {
  const fh = await open(file, 'r');
  try {
    const sb = Buffer.alloc(1024);
    await fh.read(sb, 0, 1024, offset + 1024);
    if (sb.readUInt16LE(0x38) !== 0xef53)
      throw new BundleSourceError(`${file}: no ext4 filesystem at ${offset}`);
    const blockSize = 1024 << sb.readUInt32LE(24);
    const is64 = (sb.readUInt32LE(0x60) & 0x80) !== 0;
    const blocks = sb.readUInt32LE(4) + (is64 ? sb.readUInt32LE(0x150) * 2 ** 32 : 0);
    return blocks * blockSize;
  } finally {
    await fh.close();
  }
}

/** The first root slot of a card image (partition 2) and what its image-release says. */
export async function rootOfImage(image: string): Promise<RootSource> {
  const fh = await open(image, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new BundleSourceError(`${image}: cannot read (${err.code ?? err.message})`);
  });
  const sector0 = Buffer.alloc(SECTOR);
  try {
    await fh.read(sector0, 0, SECTOR, 0);
  } finally {
    await fh.close();
  }
  let offset: number;
  try {
    const p = decodeMbr(sector0).partitions[1];
    if (!p) throw new Error('no partition 2');
    offset = p.start * SECTOR;
  } catch (err) {
    throw new BundleSourceError(`${image}: not a card image (${(err as Error).message})`);
  }
  const bytes = await ext4Bytes(image, offset);
  const release = await debugfsRequest(image, offset, 'cat /etc/skyminer/image-release');
  const field = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(release)?.[1];
  const firmware = field('FIRMWARE_VERSION');
  const profile = field('PROFILE');
  const arch = field('ARCH');
  if (!firmware || !profile || (arch !== 'aarch64' && arch !== 'armv7'))
    throw new BundleSourceError(
      `${image}: its root has no /etc/skyminer/image-release naming version and profile`,
    );
  return { file: image, offset, bytes, firmware, profile, arch };
}

function hashing(h: ReturnType<typeof createHash>, count: { n: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      h.update(chunk);
      count.n += chunk.length;
      done(null, chunk);
    },
  });
}

export interface MadeBundle {
  file: string;
  bytes: number;
  manifest: BundleManifest;
}

/**
 * Writes a bundle: its signed header, then the compressed payload, into `tmp`, renamed onto `out` only when
 * whole, so a killed build never leaves a bundle that looks complete. Returns its size.
 */
export async function writeBundleFile(
  header: Buffer,
  payloadFile: string,
  tmp: string,
  out: string,
): Promise<number> {
  const ws = createWriteStream(tmp);
  await new Promise<void>((done, fail) => ws.write(header, (e) => (e ? fail(e) : done())));
  await pipeline(createReadStream(payloadFile), ws);
  await rename(tmp, out);
  return (await stat(out)).size;
}

/** Writes the bundle next to `out` first and renames it, so a failed run leaves no partial bundle. */
export async function makeBundle(
  src: RootSource,
  key: KeyObject,
  out: string,
  created: number,
): Promise<MadeBundle> {
  const payloadFile = `${out}.${process.pid}.payload`;
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    const rootHash = createHash('sha256');
    const payloadHash = createHash('sha256');
    const rootCount = { n: 0 };
    const payloadCount = { n: 0 };
    await pipeline(
      createReadStream(src.file, {
        start: src.offset,
        end: src.offset + src.bytes - 1,
        highWaterMark: 1 << 20,
      }),
      hashing(rootHash, rootCount),
      createGzip({ level: 6 }),
      hashing(payloadHash, payloadCount),
      createWriteStream(payloadFile),
    );
    if (rootCount.n !== src.bytes)
      throw new BundleSourceError(`${src.file}: the root ends after ${rootCount.n} of ${src.bytes} bytes`);
    const manifest: BundleManifest = {
      format: 1,
      firmware: src.firmware,
      profile: src.profile,
      arch: src.arch,
      created,
      key_id: keyId(key),
      root: { bytes: src.bytes, sha256: rootHash.digest('hex') },
      payload: { encoding: 'gzip', bytes: payloadCount.n, sha256: payloadHash.digest('hex') },
    };
    const { json, signature } = signManifest(manifest, key);
    return {
      file: out,
      bytes: await writeBundleFile(encodeHeader(json, signature), payloadFile, tmp, out),
      manifest,
    };
  } finally {
    await rm(payloadFile, { force: true });
    await rm(tmp, { force: true });
  }
}
