import { readFile, rm } from 'node:fs/promises';
import { writeFileAtomic } from '../supervisor/atomic-file.js';
import { deriveBoardKey, formatKey, KeyError, parseKey } from './keys.js';

/*
 * Threat model and first-boot enrolment.
 *
 * Who we defend against: any host on the box's LAN (the owner's network, a guest, a compromised PC) that can
 * send, record and replay UDP datagrams to the manager and the boards. Without a key it must not make a board
 * look alive (forged or replayed heartbeats and probe answers), look dead (it cannot suppress traffic on the
 * box's own switch, and forged "bad" messages are dropped before they count), or be rebooted (commands are
 * signed, bound to one boot and numbered).
 *
 * How keys get there, with no person at each board and no "ask and you get a key" service:
 * - The image builder draws one random box secret per box and bakes it (mode 0600) into the image that is
 *   flashed to every board of that box. The boards' images are identical; only the slot differs.
 * - On first boot each board derives its own key, HKDF(box secret, "board:<slot>"), writes it atomically,
 *   and (workers only) deletes the box secret. From then on a worker holds only its own key, so a worker
 *   taken over later can speak only for itself. The manager keeps the box secret and derives every key.
 * - Nothing is ever sent over the network to enrol, so there is no host to trust or to impersonate.
 *
 * What we do not defend against: someone with the box's storage in hand before first boot (they hold the box
 * secret; physical access to an unenrolled box is ownership), or a compromised manager (it holds all keys).
 */

export interface EnrolPaths {
  /** The board's own key, written at first boot. */
  boardKey: string;
  /** The box secret baked into the image. */
  boxSecret: string;
}

export interface Enrolment {
  key: Buffer;
  /** True when this call derived the key (first boot). */
  enrolled: boolean;
  /** True when the box secret was removed from this board. */
  secretErased: boolean;
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KeyError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

/** Gives board `slot` its key: the enrolled one if present, else derives it from the box secret once. */
export async function enrolBoard(slot: number, paths: EnrolPaths): Promise<Enrolment> {
  const existing = await readIfPresent(paths.boardKey);
  if (existing !== undefined)
    return { key: parseKey(existing, paths.boardKey), enrolled: false, secretErased: false };
  const secretText = await readIfPresent(paths.boxSecret);
  if (secretText === undefined)
    throw new KeyError(
      `${paths.boardKey}: no board key and no box secret at ${paths.boxSecret} to enrol from`,
    );
  const key = deriveBoardKey(parseKey(secretText, paths.boxSecret), slot);
  await writeFileAtomic(paths.boardKey, formatKey(key), 0o600);
  // The manager derives every board's key and so keeps the secret; a worker needs only its own key.
  const erase = slot !== 1;
  if (erase) await rm(paths.boxSecret, { force: true });
  return { key, enrolled: true, secretErased: erase };
}

/** The manager's box secret. */
export async function loadBoxSecret(path: string): Promise<Buffer> {
  const text = await readIfPresent(path);
  if (text === undefined) throw new KeyError(`${path}: no box secret (the image builder writes it)`);
  return parseKey(text, path);
}
