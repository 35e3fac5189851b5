import { hkdfSync, randomBytes } from 'node:crypto';

/** Box secrets and board keys are 32 random bytes, stored as 64 hex digits and a newline. */
export const KEY_BYTES = 32;
const SALT = Buffer.from('skyminer board key v1');

export function generateBoxSecret(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** A key for one purpose, HKDF-SHA256 of the box secret with the purpose as context (`board:3`, `ssh-attach`). */
export function deriveBoxKey(boxSecret: Buffer, purpose: string): Buffer {
  if (boxSecret.length !== KEY_BYTES) throw new RangeError(`box secret must be ${KEY_BYTES} bytes`);
  return Buffer.from(hkdfSync('sha256', boxSecret, SALT, purpose, KEY_BYTES));
}

/** Board n's key: HKDF-SHA256 of the box secret with the board's slot as context. */
export function deriveBoardKey(boxSecret: Buffer, board: number): Buffer {
  return deriveBoxKey(boxSecret, `board:${board}`);
}

export function formatKey(key: Buffer): string {
  return key.toString('hex') + '\n';
}

/** Parses a key file's text; the message names the file and what is wrong. */
export function parseKey(text: string, source: string): Buffer {
  const hex = text.trim();
  if (!/^[0-9a-f]+$/i.test(hex)) throw new KeyError(`${source}: not a hex key`);
  if (hex.length !== KEY_BYTES * 2)
    throw new KeyError(`${source}: expected ${KEY_BYTES * 2} hex digits, got ${hex.length}`);
  return Buffer.from(hex, 'hex');
}

export class KeyError extends Error {
  override readonly name = 'KeyError';
}

/** The manager's keys: every board's key, derived once from the box secret. */
export class BoxKeys {
  private readonly keys = new Map<number, Buffer>();

  constructor(
    private readonly boxSecret: Buffer,
    private readonly boards: number,
  ) {}

  readonly keyFor = (board: number): Buffer | undefined => {
    if (!Number.isInteger(board) || board < 1 || board > this.boards) return undefined;
    let key = this.keys.get(board);
    if (!key) {
      key = deriveBoardKey(this.boxSecret, board);
      this.keys.set(board, key);
    }
    return key;
  };
}
