import { createHash } from 'node:crypto';

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/**
 * Why a Skycoin address is refused, in one line, or null when it is valid: base58 (Bitcoin's alphabet) of 25 bytes,
 * a 20-byte key, version 0 and the first 4 bytes of sha256(key + version) as checksum, as skycoin's cipher reads it.
 */
export function skycoinAddressProblem(address: string): string | null {
  if (address.length === 0) return 'a Skycoin address is needed';
  if (address.length > 40) return 'too long for a Skycoin address';
  let n = 0n;
  for (const ch of address) {
    const d = ALPHABET.indexOf(ch);
    if (d < 0) return `"${ch}" is not a base58 character`;
    n = n * 58n + BigInt(d);
  }
  const bytes: number[] = [];
  while (n > 0n) {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  for (let i = 0; i < address.length && address[i] === '1'; i++) bytes.unshift(0);
  if (bytes.length !== 25) return `decodes to ${bytes.length} bytes, not the 25 of a Skycoin address`;
  const body = Buffer.from(bytes.slice(0, 21));
  const sum = createHash('sha256').update(body).digest().subarray(0, 4);
  if (!sum.equals(Buffer.from(bytes.slice(21)))) return 'its checksum does not match (a mistyped character?)';
  if (bytes[20] !== 0) return `version ${bytes[20]} is not a Skycoin address's (0)`;
  return null;
}

/** The address for a 20-byte key (version 0), as skycoin's cipher prints it; for tests and the emulators. */
export function skycoinAddressOf(key: Buffer): string {
  if (key.length !== 20) throw new Error('a Skycoin address key is 20 bytes');
  const body = Buffer.concat([key, Buffer.from([0])]);
  const bytes = Buffer.concat([body, createHash('sha256').update(body).digest().subarray(0, 4)]);
  let n = BigInt(`0x${bytes.toString('hex')}`);
  let out = '';
  while (n > 0n) {
    out = ALPHABET[Number(n % 58n)]! + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = `1${out}`;
  }
  return out;
}
