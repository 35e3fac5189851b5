// Update signing keys: Ed25519, PEM files. The device trusts the public keys in its keys directory; a bundle names
// the key that signed it by a short id (the first 8 bytes of the SHA-256 of the raw public key).
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where an image keeps the public keys its updates must be signed with. */
export const UPDATE_KEYS_DIR = '/etc/skyminer/update-keys';

export class UpdateKeyError extends Error {
  override readonly name = 'UpdateKeyError';
}

export function keyId(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const raw = Buffer.from(pub.export({ format: 'jwk' }).x ?? '', 'base64url');
  return createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

export function publicKeyPem(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ format: 'pem', type: 'spki' }).toString();
}

/** A private Ed25519 key from a PEM file; anything else is refused naming the file. */
export async function loadSigningKey(file: string): Promise<KeyObject> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UpdateKeyError(`signing key ${file}: cannot read (${err.code ?? err.message})`);
  });
  return ed25519(() => createPrivateKey(text), `signing key ${file}`, 'a private key');
}

export function parsePublicKey(text: string, name: string): KeyObject {
  return ed25519(() => createPublicKey(text), `update key ${name}`, 'a public key');
}

/** A PEM key that must be Ed25519; `what` names the file in every refusal. */
function ed25519(parse: () => KeyObject, what: string, kind: string): KeyObject {
  let key: KeyObject;
  try {
    key = parse();
  } catch {
    throw new UpdateKeyError(`${what}: not ${kind} in PEM form`);
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new UpdateKeyError(`${what}: an ${key.asymmetricKeyType} key, expected Ed25519`);
  return key;
}

/** The trusted keys by id: every *.pem (or *.pub) file in a directory, or one file. A missing directory is none. */
export async function loadTrustedKeys(path: string): Promise<Map<string, KeyObject>> {
  const keys = new Map<string, KeyObject>();
  let files: string[];
  try {
    files = (await readdir(path)).filter((f) => /\.(pem|pub)$/.test(f)).map((f) => join(path, f));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return keys;
    if (code !== 'ENOTDIR') throw new UpdateKeyError(`update keys ${path}: cannot read (${code})`);
    files = [path];
  }
  for (const f of files.sort()) {
    const key = parsePublicKey(await readFile(f, 'utf8'), f);
    keys.set(keyId(key), key);
  }
  return keys;
}
