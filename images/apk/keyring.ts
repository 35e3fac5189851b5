import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApkError } from './errors.js';
import type { TarEntry } from './tar-reader.js';

/**
 * The trusted public keys, by file name: apk names the signing key inside the signature file
 * (`.SIGN.RSA.<keyname>`), and `<keyname>` must be a file in the keys directory.
 */
export class Keyring {
  constructor(readonly keys: ReadonlyMap<string, KeyObject>) {}

  static async load(dir: string): Promise<Keyring> {
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch (err) {
      throw new ApkError(`keys directory ${dir}`, (err as NodeJS.ErrnoException).code ?? String(err));
    }
    const keys = new Map<string, KeyObject>();
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const text = await readFile(join(dir, name), 'utf8').catch(() => undefined);
      if (text === undefined || !text.includes('PUBLIC KEY')) continue; // READMEs and the like
      try {
        keys.set(name, createPublicKey(text));
      } catch (err) {
        throw new ApkError(`key ${name}`, `not a usable public key (${(err as Error).message})`);
      }
    }
    if (keys.size === 0) throw new ApkError(`keys directory ${dir}`, 'holds no public keys');
    return new Keyring(keys);
  }
}

const SIGNATURE_TYPES: [string, string][] = [
  ['RSA512', 'sha512'],
  ['RSA256', 'sha256'],
  ['RSA', 'sha1'],
];

/**
 * Verifies the first signature (in archive order) made by a trusted key over `signed`, and returns that key's
 * name. A signature by an unknown key is passed over, as apk does; no trusted signature at all is an error.
 */
export function verifySignature(
  sigEntries: TarEntry[],
  signed: Buffer,
  keyring: Keyring,
  subject: string,
): string {
  const seen: string[] = [];
  for (const e of sigEntries) {
    if (!e.name.startsWith('.SIGN.'))
      throw new ApkError(subject, `unexpected '${e.name}' in the signature part`);
    const rest = e.name.slice(6);
    const type = SIGNATURE_TYPES.find(([t]) => rest.startsWith(t + '.'));
    if (!type) continue;
    const keyName = rest.slice(type[0].length + 1);
    seen.push(keyName);
    const key = keyring.keys.get(keyName);
    if (!key) continue;
    if (!verify(type[1], signed, key, e.data)) throw new ApkError(subject, `bad signature (key ${keyName})`);
    return keyName;
  }
  if (seen.length === 0) throw new ApkError(subject, 'is not signed');
  throw new ApkError(subject, `signed by an untrusted key (${seen.join(', ')})`);
}
