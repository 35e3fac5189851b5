// The update bundle: one file a board can check before it writes anything, then stream into its spare root slot.
//
//   "SKYBNDL1" | u32be manifest length | manifest (JSON) | u16be signature length | Ed25519 signature | payload
//
// The signature covers the manifest's bytes; the manifest names the payload's size and SHA-256 and the root
// image's (the payload is the root filesystem, gzipped), so one signature covers every byte that gets installed.
import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { z } from 'zod';
import { compareVersions, isVersion } from './version.js';

export const BUNDLE_MAGIC = Buffer.from('SKYBNDL1', 'latin1');
export const SIGNATURE_BYTES = 64;
const MAX_MANIFEST_BYTES = 64 * 1024;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 hex digits');

export const manifestSchema = z.strictObject({
  format: z.literal(1),
  firmware: z.string().refine(isVersion, 'expected a version such as 1.2.3'),
  profile: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  arch: z.enum(['aarch64', 'armv7']),
  /** The build's source date (seconds): the same inputs make the same bundle. */
  created: z.int().nonnegative(),
  key_id: z.string().regex(/^[0-9a-f]{16}$/),
  root: z.strictObject({ bytes: z.int().positive(), sha256: sha256Hex }),
  payload: z.strictObject({ encoding: z.literal('gzip'), bytes: z.int().positive(), sha256: sha256Hex }),
});

export type BundleManifest = z.infer<typeof manifestSchema>;

/** A bundle this board will not take; the message is one line saying why. */
export class BundleRefused extends Error {
  override readonly name = 'BundleRefused';
}

/** What a board checks a bundle against. */
export interface BundlePolicy {
  /** Trusted public keys by keyId(). */
  keys: ReadonlyMap<string, KeyObject>;
  /** This board's profile: a bundle for another is refused. */
  profile?: string;
  /** The running firmware: an older bundle is refused (the same version may be reinstalled). */
  runningVersion?: string;
}

/** The bytes before the payload: magic, manifest and its signature. */
export function encodeHeader(manifestJson: Buffer, signature: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(manifestJson.length);
  const sigLen = Buffer.alloc(2);
  sigLen.writeUInt16BE(signature.length);
  return Buffer.concat([BUNDLE_MAGIC, len, manifestJson, sigLen, signature]);
}

export function manifestBytes(m: BundleManifest): Buffer {
  // Fixed key order (the schema's), so the signed bytes depend on the values only.
  return Buffer.from(JSON.stringify(manifestSchema.parse(m)));
}

export function signManifest(m: BundleManifest, key: KeyObject): { json: Buffer; signature: Buffer } {
  const json = manifestBytes(m);
  return { json, signature: sign(null, json, key) };
}

/** Pulls exact byte counts off an async stream of chunks. */
class ChunkReader {
  private buf: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<Buffer>;
  done = false;
  constructor(source: AsyncIterable<Buffer | Uint8Array | string>) {
    const inner = source[Symbol.asyncIterator]();
    this.it = {
      next: async () => {
        const r = await inner.next();
        return r.done ? r : { done: false, value: Buffer.from(r.value as Uint8Array) };
      },
    };
  }
  async take(n: number, what: string): Promise<Buffer> {
    while (this.buf.length < n) {
      const r = await this.it.next();
      if (r.done) throw new BundleRefused(`truncated: the file ends inside its ${what}`);
      this.buf = this.buf.length ? Buffer.concat([this.buf, r.value]) : r.value;
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
  /** Whatever is left, chunk by chunk. */
  async *rest(): AsyncGenerator<Buffer> {
    if (this.buf.length) yield this.buf;
    this.buf = Buffer.alloc(0);
    for (;;) {
      const r = await this.it.next();
      if (r.done) return;
      yield r.value;
    }
  }
}

/**
 * The signature check both bundle kinds (firmware and visor) make on their manifest bytes, so their refusals
 * read the same: unsigned, malformed, untrusted key, wrongly signed.
 */
export function checkSignature(
  manifestJson: Buffer,
  signature: Buffer,
  keyId: string,
  keys: ReadonlyMap<string, KeyObject>,
): void {
  if (signature.length === 0) throw new BundleRefused('unsigned: the bundle carries no signature');
  if (signature.length !== SIGNATURE_BYTES)
    throw new BundleRefused(
      `malformed: a signature of ${signature.length} bytes (Ed25519 has ${SIGNATURE_BYTES})`,
    );
  const key = keys.get(keyId);
  if (!key)
    throw new BundleRefused(
      keys.size === 0
        ? `signed by key ${keyId}, and this board trusts no update key`
        : `signed by key ${keyId}, which this board does not trust (trusted: ${[...keys.keys()].join(', ')})`,
    );
  if (!verify(null, manifestJson, key, signature))
    throw new BundleRefused(`wrongly signed: the signature does not match the manifest under key ${keyId}`);
}

function firstIssue(err: z.ZodError): string {
  const i = err.issues[0]!;
  return `${i.path.join('.') || 'manifest'}: ${i.message}`;
}

/** Reads and checks the header: magic, manifest, signature (against the trusted keys), profile and version. */
async function readHeader(r: ChunkReader, policy: BundlePolicy): Promise<BundleManifest> {
  const magic = await r.take(BUNDLE_MAGIC.length, 'header').catch(() => {
    throw new BundleRefused('not an update bundle (too short for the header)');
  });
  if (!magic.equals(BUNDLE_MAGIC)) throw new BundleRefused('not an update bundle (no SKYBNDL1 at its start)');
  const len = (await r.take(4, 'header')).readUInt32BE(0);
  if (len === 0 || len > MAX_MANIFEST_BYTES)
    throw new BundleRefused(`malformed: a manifest of ${len} bytes (at most ${MAX_MANIFEST_BYTES})`);
  const json = await r.take(len, 'manifest');
  const sigLen = (await r.take(2, 'signature')).readUInt16BE(0);
  const signature = await r.take(sigLen, 'signature');
  let raw: unknown;
  try {
    raw = JSON.parse(json.toString('utf8'));
  } catch {
    throw new BundleRefused('malformed: the manifest is not JSON');
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) throw new BundleRefused(`malformed manifest: ${firstIssue(parsed.error)}`);
  const m = parsed.data;
  checkSignature(json, signature, m.key_id, policy.keys);
  if (policy.profile !== undefined && m.profile !== policy.profile)
    throw new BundleRefused(`for profile ${m.profile}; this board is ${policy.profile}`);
  if (policy.runningVersion !== undefined && isVersion(policy.runningVersion))
    if (compareVersions(m.firmware, policy.runningVersion) < 0)
      throw new BundleRefused(`firmware ${m.firmware} is older than the running ${policy.runningVersion}`);
  return m;
}

export interface ReadBundleOptions {
  /** Called once the header is checked, before any payload byte is read (an installer opens the slot here). */
  onManifest?: (m: BundleManifest) => void | Promise<void>;
  /** Receives the root image in order, as it is unpacked; awaited before the next chunk. */
  sink?: (chunk: Buffer, offset: number) => void | Promise<void>;
}

/**
 * Reads a whole bundle from a stream, checking everything: the header as above, then the payload's size and
 * SHA-256 and the unpacked root's size and SHA-256. Throws BundleRefused with a one-line reason.
 */
export async function readBundle(
  source: AsyncIterable<Buffer | Uint8Array | string>,
  policy: BundlePolicy,
  o: ReadBundleOptions = {},
): Promise<BundleManifest> {
  const r = new ChunkReader(source);
  const m = await readHeader(r, policy);
  await o.onManifest?.(m);
  const payloadHash = createHash('sha256');
  const rootHash = createHash('sha256');
  let payloadBytes = 0;
  let rootBytes = 0;
  async function* payload(): AsyncGenerator<Buffer> {
    for await (const chunk of r.rest()) {
      const room = m.payload.bytes - payloadBytes;
      if (chunk.length > room)
        throw new BundleRefused(`malformed: bytes after the payload's ${m.payload.bytes} (a damaged file?)`);
      payloadBytes += chunk.length;
      payloadHash.update(chunk);
      yield chunk;
    }
    if (payloadBytes < m.payload.bytes)
      throw new BundleRefused(`truncated: ${payloadBytes} of the payload's ${m.payload.bytes} bytes`);
    if (payloadHash.digest('hex') !== m.payload.sha256)
      throw new BundleRefused("payload damaged: its SHA-256 is not the manifest's");
  }
  try {
    await pipeline(Readable.from(payload()), createGunzip(), async (unpacked: AsyncIterable<Buffer>) => {
      for await (const chunk of unpacked) {
        if (rootBytes + chunk.length > m.root.bytes)
          throw new BundleRefused(`root image damaged: larger than the manifest's ${m.root.bytes} bytes`);
        rootHash.update(chunk);
        await o.sink?.(chunk, rootBytes);
        rootBytes += chunk.length;
      }
    });
  } catch (err) {
    if (err instanceof BundleRefused) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.code?.startsWith('Z_')) throw new BundleRefused(`payload damaged: ${e.message}`);
    throw err;
  }
  if (rootBytes !== m.root.bytes)
    throw new BundleRefused(`root image damaged: ${rootBytes} bytes, the manifest says ${m.root.bytes}`);
  if (rootHash.digest('hex') !== m.root.sha256)
    throw new BundleRefused("root image damaged: its SHA-256 is not the manifest's");
  return m;
}

/** The header only (for a quick look, e.g. which version a bundle holds), checked as readBundle does. */
export async function readBundleHeader(
  source: AsyncIterable<Buffer | Uint8Array | string>,
  policy: BundlePolicy,
): Promise<BundleManifest> {
  return readHeader(new ChunkReader(source), policy);
}
