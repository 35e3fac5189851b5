/**
 * The key the console's `attach N` uses to open a shell on board N (ssh, as root). Derived from the box secret
 * like the boards' own keys, so that every board learns the manager's public half at enrolment with nothing sent
 * over the network: whoever holds the box secret already holds the box (see enrol.ts), and nobody else can log in.
 */
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { deriveBoxKey } from './keys.js';

const COMMENT = 'skyminer-manager';
// The fixed DER head of an Ed25519 PKCS#8 key (RFC 8410); the 32-byte seed follows it.
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface AttachKey {
  /** The `authorized_keys` line the boards install. */
  publicLine: string;
  /** The private key in OpenSSH's own format (what `ssh -i` reads), unencrypted: it lives in a 0600 file. */
  privateText: string;
}

function sshString(data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** The same key pair for the same box secret, on the manager and on every board. */
export function deriveAttachKey(boxSecret: Buffer): AttachKey {
  const seed = deriveBoxKey(boxSecret, 'ssh-attach');
  const priv = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(priv).export({ format: 'jwk' });
  const pub = Buffer.from(jwk.x!, 'base64url');
  const blob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]);

  // PROTOCOL.key: magic, cipher "none", kdf "none", no kdf options, one key, its public blob, then the private
  // section (a repeated check word, the key, its comment) padded with 1, 2, 3... to the 8-byte block size.
  const check = createHash('sha256').update(seed).digest().readUInt32BE(0);
  let section = Buffer.concat([
    uint32(check),
    uint32(check),
    sshString('ssh-ed25519'),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(COMMENT),
  ]);
  const pad = (8 - (section.length % 8)) % 8;
  section = Buffer.concat([section, Buffer.from(Array.from({ length: pad }, (_, i) => i + 1))]);
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    uint32(1),
    sshString(blob),
    sshString(section),
  ]);
  const b64 = body
    .toString('base64')
    .replace(/(.{70})/g, '$1\n')
    .trimEnd();
  return {
    publicLine: `ssh-ed25519 ${blob.toString('base64')} ${COMMENT}`,
    privateText: `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}\n-----END OPENSSH PRIVATE KEY-----\n`,
  };
}

/**
 * `authorized_keys` with the manager's line added once; other lines are kept as they are. An older line of ours
 * (another box secret) is replaced, so a re-flashed box does not keep trusting its previous manager.
 */
export function withAttachKey(existing: string, publicLine: string): string {
  const lines = existing.split('\n').filter((l) => l !== '' && !l.endsWith(` ${COMMENT}`));
  return [...lines, publicLine].join('\n') + '\n';
}
