import { createHash } from 'node:crypto';

/** A digest of everything that went into an image: the seed of its UUIDs, hash seed and disk signature. */
export function inputDigest(parts: readonly string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex');
}

/** A version-4-shaped UUID derived from the digest and a purpose, the same for the same inputs. */
export function derivedUuid(digest: string, purpose: string): string {
  const h = createHash('sha256').update(`${digest}:${purpose}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x40;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** The MBR disk signature: never 0, which some tools read as "none". */
export function derivedSignature(digest: string): number {
  const v = createHash('sha256').update(`${digest}:disk`).digest().readUInt32LE(0);
  return v === 0 ? 1 : v;
}
