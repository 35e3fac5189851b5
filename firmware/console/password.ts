import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../lib/files.js';

/**
 * The console password file in the state dir: one line, a scrypt hash, or `!` for "no login on this box". No file:
 * the first person at the console chooses the password (physical access to the box is ownership). A file that
 * cannot be read keeps the console locked.
 */
export const PASSWORD_FILE = 'console-password';
export const MIN_PASSWORD_LENGTH = 8;

export function passwordFile(stateDir: string): string {
  return join(stateDir, PASSWORD_FILE);
}

/** scrypt cost: N=2^14, r=8, p=1 takes 16 MiB and well under a second on the boards. */
const DEFAULTS = { N: 16384, r: 8, p: 1 };
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      password.normalize('NFC'),
      salt,
      KEY_LENGTH,
      { ...options, maxmem: 64 * 1024 * 1024 },
      (err, key) => (err ? reject(err) : resolve(key)),
    ),
  );
}

/** `scrypt$N$r$p$salt$key` (salt and key in base64): what the image builder bakes and first boot writes. */
export async function hashPassword(password: string, params = DEFAULTS): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

/** Reads a hash line; null when it is not one this console can check. */
export function parseHash(line: string): ParsedHash | null {
  const m = /^scrypt\$(\d{1,7})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/.exec(
    line.trim(),
  );
  if (!m) return null;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // N a power of two within what a board can afford; refuse anything that would exhaust memory.
  if (N < 2 || N > 1 << 20 || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) return null;
  const salt = Buffer.from(m[4]!, 'base64');
  const key = Buffer.from(m[5]!, 'base64');
  if (salt.length < 8 || key.length < 16) return null;
  return { N, r, p, salt, key };
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const h = parseHash(hash);
  if (!h) return false;
  const key = await derive(password, h.salt, { N: h.N, r: h.r, p: h.p }).catch(() => null);
  return key !== null && key.length === h.key.length && timingSafeEqual(key, h.key);
}

/** What the password file says: no file (first boot sets one), a hash, or a box whose console stays locked. */
export type PasswordState =
  { kind: 'unset' } | { kind: 'set'; hash: string } | { kind: 'locked'; reason: string };

/** Why a `!` password file keeps the console shut, and the way out with the card in hand. */
export const LOCKED_REASON =
  'console login is switched off; with the card in hand, put skyminer/console-password-reset on its boot partition';

export class PasswordStore {
  constructor(readonly path: string) {}

  async read(): Promise<PasswordState> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { kind: 'unset' };
      return { kind: 'locked', reason: `cannot read ${this.path} (${code ?? String(err)})` };
    }
    const line = text.split('\n')[0]!.trim();
    if (line === '!') return { kind: 'locked', reason: LOCKED_REASON };
    if (parseHash(line) === null)
      return { kind: 'locked', reason: `${this.path} does not hold a password hash` };
    return { kind: 'set', hash: line };
  }

  /** Stores a new password's hash: mode 0600, written atomically, so a power cut never leaves an empty file. */
  async set(password: string): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.path, (await hashPassword(password)) + '\n', 0o600);
  }
}

/** The rules passwordProblem() applies, as the console shows them before the first password is chosen. */
export const PASSWORD_RULES =
  `rules: ${MIN_PASSWORD_LENGTH} to 256 characters, no control characters; a passphrase of several words is good. ` +
  "Forgotten: put an empty file skyminer/console-password-reset on the card's boot partition and restart.";

/** Why a new password is refused, or null when it is acceptable. */
export function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `too short: at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > 256) return 'too long: at most 256 characters';
  if (/[\x00-\x1f\x7f]/.test(password)) return 'control characters are not allowed';
  return null;
}

export interface LoginDelayPolicy {
  baseMs: number;
  maxMs: number;
}

export const LOGIN_DELAY: LoginDelayPolicy = { baseMs: 1000, maxMs: 60_000 };

/** How long the console waits after the n-th failed attempt in a row: doubling from base, capped. */
export function loginDelayMs(failures: number, policy: LoginDelayPolicy = LOGIN_DELAY): number {
  if (failures <= 0) return 0;
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(failures - 1, 30));
}
