// The visor bundle: a newer `skywire` binary for one architecture, signed like the firmware's update bundles, so a
// running box takes a newer Skywire without reflashing.
//
//   "SKYVISR1" | u32be manifest length | manifest (JSON) | u16be signature length | Ed25519 signature | payload
//
// The signature covers the manifest; the manifest names the payload's (gzip) and the binary's size and SHA-256, so
// one signature covers every byte that gets installed.
import { createHash, sign, type KeyObject } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { z } from 'zod';
import { BundleRefused, checkSignature } from './bundle.js';

export const VISOR_BUNDLE_MAGIC = Buffer.from('SKYVISR1', 'latin1');
const MAX_MANIFEST_BYTES = 16 * 1024;
/** Go's names for the architectures Skywire is built for. */
export const VISOR_ARCHES = ['arm64', 'arm', 'amd64'] as const;
export type VisorArch = (typeof VISOR_ARCHES)[number];

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 hex digits');
const VISOR_VERSION = /^v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;

export const visorManifestSchema = z.strictObject({
  format: z.literal(1),
  kind: z.literal('skywire'),
  version: z.string().regex(VISOR_VERSION, 'expected a Skywire version such as v1.3.29'),
  arch: z.enum(VISOR_ARCHES),
  created: z.int().nonnegative(),
  key_id: z.string().regex(/^[0-9a-f]{16}$/),
  binary: z.strictObject({ bytes: z.int().positive(), sha256: sha256Hex }),
  payload: z.strictObject({ encoding: z.literal('gzip'), bytes: z.int().positive(), sha256: sha256Hex }),
});

export type VisorManifest = z.infer<typeof visorManifestSchema>;

/** The architecture this Node runs on, in Go's names (a board's visor binary must match it). */
export function hostVisorArch(arch: string = process.arch): VisorArch | null {
  return arch === 'arm64' ? 'arm64' : arch === 'arm' ? 'arm' : arch === 'x64' ? 'amd64' : null;
}

/** What a board checks a visor bundle against. */
export interface VisorBundlePolicy {
  keys: ReadonlyMap<string, KeyObject>;
  /** This board's architecture: a bundle for another is refused. */
  arch: VisorArch;
  /** The visor version running now: an older bundle is refused (the same may be reinstalled). */
  runningVersion?: string | null;
  /** Compares two visor versions (rewards/version.ts's), null when unreadable. */
  compare: (a: string, b: string) => number | null;
}

export function visorManifestBytes(m: VisorManifest): Buffer {
  return Buffer.from(JSON.stringify(visorManifestSchema.parse(m)));
}

export function visorBundleHeader(m: VisorManifest, key: KeyObject): Buffer {
  const json = visorManifestBytes(m);
  const signature = sign(null, json, key);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(json.length);
  const sigLen = Buffer.alloc(2);
  sigLen.writeUInt16BE(signature.length);
  return Buffer.concat([VISOR_BUNDLE_MAGIC, len, json, sigLen, signature]);
}

/** Reads `n` bytes at `pos`; fewer means the file ends there. */
async function readAt(fh: Awaited<ReturnType<typeof open>>, pos: number, n: number, what: string) {
  const buf = Buffer.alloc(n);
  const { bytesRead } = await fh.read(buf, 0, n, pos);
  if (bytesRead < n) throw new BundleRefused(`truncated: the file ends inside its ${what}`);
  return buf;
}

/** The header of a visor bundle file, checked: magic, manifest, signature, architecture and version. */
export async function readVisorBundleHeader(
  file: string,
  policy: VisorBundlePolicy,
): Promise<{ manifest: VisorManifest; payloadAt: number; fileBytes: number }> {
  const fh = await open(file, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new BundleRefused(`${file}: cannot read (${err.code ?? err.message})`);
  });
  try {
    const fileBytes = (await fh.stat()).size;
    if (fileBytes < VISOR_BUNDLE_MAGIC.length + 4)
      throw new BundleRefused('not a visor bundle (too short for the header)');
    const magic = await readAt(fh, 0, VISOR_BUNDLE_MAGIC.length, 'header');
    if (!magic.equals(VISOR_BUNDLE_MAGIC))
      throw new BundleRefused(
        magic.toString('latin1') === 'SKYBNDL1'
          ? 'a firmware update bundle, not a visor bundle (install it with skyminer update)'
          : 'not a visor bundle (no SKYVISR1 at its start)',
      );
    let pos = magic.length;
    const len = (await readAt(fh, pos, 4, 'header')).readUInt32BE(0);
    pos += 4;
    if (len === 0 || len > MAX_MANIFEST_BYTES)
      throw new BundleRefused(`malformed: a manifest of ${len} bytes (at most ${MAX_MANIFEST_BYTES})`);
    const json = await readAt(fh, pos, len, 'manifest');
    pos += len;
    const sigLen = (await readAt(fh, pos, 2, 'signature')).readUInt16BE(0);
    pos += 2;
    const signature = sigLen ? await readAt(fh, pos, sigLen, 'signature') : Buffer.alloc(0);
    pos += sigLen;
    let raw: unknown;
    try {
      raw = JSON.parse(json.toString('utf8'));
    } catch {
      throw new BundleRefused('malformed: the manifest is not JSON');
    }
    const parsed = visorManifestSchema.safeParse(raw);
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      throw new BundleRefused(`malformed manifest: ${i.path.join('.') || 'manifest'}: ${i.message}`);
    }
    const m = parsed.data;
    checkSignature(json, signature, m.key_id, policy.keys);
    if (m.arch !== policy.arch)
      throw new BundleRefused(`skywire for ${m.arch}; this board is ${policy.arch}`);
    const running = policy.runningVersion;
    if (running) {
      const c = policy.compare(m.version, running);
      if (c !== null && c < 0)
        throw new BundleRefused(`skywire ${m.version} is older than the running ${running}`);
    }
    if (fileBytes < pos + m.payload.bytes)
      throw new BundleRefused(`truncated: ${fileBytes - pos} of the payload's ${m.payload.bytes} bytes`);
    if (fileBytes > pos + m.payload.bytes)
      throw new BundleRefused(`malformed: bytes after the payload's ${m.payload.bytes} (a damaged file?)`);
    return { manifest: m, payloadAt: pos, fileBytes };
  } finally {
    await fh.close();
  }
}

function hashing(h: ReturnType<typeof createHash>, count: { n: number }, limit: number, what: string) {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      count.n += chunk.length;
      if (count.n > limit)
        return done(new BundleRefused(`${what} damaged: larger than the manifest's ${limit} bytes`));
      h.update(chunk);
      done(null, chunk);
    },
  });
}

/**
 * Checks a whole visor bundle and unpacks its binary to `out` (mode 0755). Throws BundleRefused with a one-line
 * reason; `out` is removed again when anything is wrong, so nothing unchecked is ever left to run.
 */
export async function unpackVisorBundle(
  file: string,
  policy: VisorBundlePolicy,
  out: string,
): Promise<VisorManifest> {
  const { manifest: m, payloadAt } = await readVisorBundleHeader(file, policy);
  const payloadHash = createHash('sha256');
  const binaryHash = createHash('sha256');
  const payloadCount = { n: 0 };
  const binaryCount = { n: 0 };
  try {
    await pipeline(
      createReadStream(file, { start: payloadAt }),
      hashing(payloadHash, payloadCount, m.payload.bytes, 'payload'),
      createGunzip(),
      hashing(binaryHash, binaryCount, m.binary.bytes, 'binary'),
      createWriteStream(out, { mode: 0o755 }),
    );
    if (payloadHash.digest('hex') !== m.payload.sha256)
      throw new BundleRefused("payload damaged: its SHA-256 is not the manifest's");
    if (binaryCount.n !== m.binary.bytes)
      throw new BundleRefused(`binary damaged: ${binaryCount.n} bytes, the manifest says ${m.binary.bytes}`);
    if (binaryHash.digest('hex') !== m.binary.sha256)
      throw new BundleRefused("binary damaged: its SHA-256 is not the manifest's");
    return m;
  } catch (err) {
    await rm(out, { force: true });
    if (err instanceof BundleRefused) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.code?.startsWith('Z_')) throw new BundleRefused(`payload damaged: ${e.message}`);
    throw err;
  }
}
