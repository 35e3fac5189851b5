import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { z } from 'zod';
import { KEY_BYTES } from './keys.js';

/*
 * The grant's cryptography: the manager seals a board's key to the X25519 public key the board drew for this boot.
 * The manager draws a key pair of its own for every grant (`ephemeral`); both sides reach the same shared secret,
 * HKDF-SHA256 turns it into an AES-256-GCM key bound to the slot and both public keys, and GCM's tag refuses any
 * change. Only the holder of the board's private half (kept in memory, gone when the board reboots) can open it.
 */

const INFO = 'skyminer join v1';
const IV = 12;
const TAG = 16;

/** A board's key pair for one boot; the private half never leaves memory. */
export interface JoinKeyPair {
  privateKey: KeyObject;
  /** The raw public key, 64 hex digits, as the claim carries it. */
  publicHex: string;
}

/** What a grant carries to the board. */
export interface GrantContents {
  /** The board's key (32 bytes). */
  key: Buffer;
  /** The manager's `attach` ssh public key line, for the board's authorized_keys; none: no attach. */
  attachLine?: string;
}

const contentsSchema = z.strictObject({
  key: z.string().regex(/^[0-9a-f]{64}$/),
  attach: z
    .string()
    .regex(/^ssh-ed25519 [A-Za-z0-9+/=]+ [\w.@-]+$/)
    .optional(),
});

function rawPublic(key: KeyObject): string {
  return Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url').toString('hex');
}

function publicFromHex(hex: string): KeyObject {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(hex, 'hex').toString('base64url') },
    format: 'jwk',
  });
}

export function newJoinKeyPair(): JoinKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { privateKey, publicHex: rawPublic(publicKey) };
}

function aeadKey(shared: Buffer, board: number, boardPublic: string, ephemeral: string): Buffer {
  return Buffer.from(
    hkdfSync('sha256', shared, Buffer.from(INFO), `${board}:${boardPublic}:${ephemeral}`, 32),
  );
}

/** Seals `contents` for board `board`'s claim key; returns the grant's `ephemeral` and `sealed` fields. */
export function sealGrant(
  board: number,
  boardPublic: string,
  contents: GrantContents,
): { ephemeral: string; sealed: string } {
  const eph = newJoinKeyPair();
  const shared = diffieHellman({ privateKey: eph.privateKey, publicKey: publicFromHex(boardPublic) });
  const iv = randomBytes(IV);
  const cipher = createCipheriv('aes-256-gcm', aeadKey(shared, board, boardPublic, eph.publicHex), iv);
  const plain = JSON.stringify({
    key: contents.key.toString('hex'),
    ...(contents.attachLine ? { attach: contents.attachLine } : {}),
  });
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return {
    ephemeral: eph.publicHex,
    sealed: Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64'),
  };
}

export type Unsealed = { ok: true; contents: GrantContents } | { ok: false; error: string };

/** Opens a grant with this boot's key pair; never throws, whatever the manager (or anyone) sent. */
export function openGrant(
  board: number,
  pair: JoinKeyPair,
  grant: { ephemeral: string; sealed: string },
): Unsealed {
  const raw = Buffer.from(grant.sealed, 'base64');
  if (raw.length < IV + TAG + 1) return { ok: false, error: 'grant is too short to hold a key' };
  let plain: string;
  try {
    const shared = diffieHellman({ privateKey: pair.privateKey, publicKey: publicFromHex(grant.ephemeral) });
    const decipher = createDecipheriv(
      'aes-256-gcm',
      aeadKey(shared, board, pair.publicHex, grant.ephemeral),
      raw.subarray(0, IV),
    );
    decipher.setAuthTag(raw.subarray(raw.length - TAG));
    plain = Buffer.concat([decipher.update(raw.subarray(IV, raw.length - TAG)), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    return { ok: false, error: 'grant does not open with this boot’s key (not sealed to it, or altered)' };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(plain);
  } catch {
    return { ok: false, error: 'grant contents are not JSON' };
  }
  const parsed = contentsSchema.safeParse(doc);
  if (!parsed.success) return { ok: false, error: 'grant contents are not a key' };
  const key = Buffer.from(parsed.data.key, 'hex');
  if (key.length !== KEY_BYTES) return { ok: false, error: 'grant key has the wrong length' };
  return { ok: true, contents: { key, ...(parsed.data.attach ? { attachLine: parsed.data.attach } : {}) } };
}

/**
 * Why a claim's public key cannot be sealed to (a low-order point gives no shared secret), or undefined. Checked
 * when the claim arrives, so that a bad key is refused in one line instead of failing at the grant.
 */
export function usableJoinKey(publicHex: string): string | undefined {
  try {
    diffieHellman({ privateKey: probePair().privateKey, publicKey: publicFromHex(publicHex) });
    return undefined;
  } catch {
    return 'public key gives no shared secret (not a usable X25519 key)';
  }
}

let probe: JoinKeyPair | undefined;
function probePair(): JoinKeyPair {
  probe ??= newJoinKeyPair();
  return probe;
}
