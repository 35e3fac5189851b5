import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Keyring } from '../../../images/apk/keyring.js';

const KEYS = fileURLToPath(new URL('../../../images/apk/keys/', import.meta.url));

describe('shipped Alpine release keys', () => {
  it('loads every shipped key as an RSA public key under the name apk signatures use', async () => {
    const files = (await readdir(KEYS)).filter((f) => f.endsWith('.rsa.pub'));
    const keyring = await Keyring.load(KEYS);
    expect(files).toHaveLength(16);
    expect([...keyring.keys.keys()].sort()).toEqual(files.sort());
    for (const [name, key] of keyring.keys) {
      expect(name).toMatch(/^alpine-devel@lists\.alpinelinux\.org-[0-9a-f]{8}\.rsa\.pub$/);
      expect(key.asymmetricKeyType).toBe('rsa');
      expect(key.asymmetricKeyDetails?.modulusLength).toBeGreaterThanOrEqual(2048);
    }
  });
});
