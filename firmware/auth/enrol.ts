import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../lib/files.js';
import { deriveAttachKey, withAttachKey } from './attach-key.js';
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
 * - Every board of a box starts with the same random box secret (mode 0600): baked into the image flashed to
 *   every board (`skyminer-image build --box-secret`), or drawn by the manager at its first boot and kept there
 *   (the other boards then join, or get a copy on their boot partitions from the owner). The boards' images are
 *   identical; only the slot differs.
 * - On first boot each board derives its own key, HKDF(box secret, "board:<slot>"), writes it atomically,
 *   and (workers only) deletes the box secret. From then on a worker holds only its own key, so a worker
 *   taken over later can speak only for itself. The manager keeps the box secret and derives every key.
 * - With a box secret on the card, nothing is sent over the network to enrol: there is no host to trust or to
 *   impersonate. A card flashed from a generic image (no box secret) joins instead: the manager hands the board
 *   its key over the network, in a window tied to a power-on the manager made itself. That path has its own
 *   threat model, in firmware/supervisor/join-window.md.
 * - The same way, a worker adds the manager's ssh key for `attach` (attach-key.ts) to its authorized_keys.
 *
 * What we do not defend against: someone with the box's storage in hand before first boot (they hold the box
 * secret; physical access to an unenrolled box is ownership), or a compromised manager (it holds all keys).
 */

export interface EnrolPaths {
  /** The board's own key, written at first boot. */
  boardKey: string;
  /** The box secret baked into the image. */
  boxSecret: string;
  /** A worker adds the manager's attach key here when it enrols; absent: no ssh access for `attach`. */
  authorizedKeys?: string;
}

export interface Enrolment {
  key: Buffer;
  /** True when this call derived the key (first boot). */
  enrolled: boolean;
  /** True when the box secret was removed from this board. */
  secretErased: boolean;
  /** True when the manager's attach key was added to authorized_keys. */
  attachKeyInstalled: boolean;
  /** Why the attach key could not be added (the box secret is kept for the next try). */
  attachKeyError?: string;
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KeyError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

/**
 * Gives board `slot` its key: the enrolled one if present, else derives it from the box secret once. A worker then
 * adds the manager's attach key and only then erases the secret. A failure there costs only `attach`, never the
 * board's supervision: the secret stays, and the next start tries again.
 */
export async function enrolBoard(slot: number, paths: EnrolPaths): Promise<Enrolment> {
  const existing = await readIfPresent(paths.boardKey);
  let key: Buffer;
  let secretText: string | undefined;
  if (existing !== undefined) {
    key = parseKey(existing, paths.boardKey);
    // A worker that still holds the secret has its attach key left to install.
    if (slot === 1 || paths.authorizedKeys === undefined)
      return { key, enrolled: false, secretErased: false, attachKeyInstalled: false };
    secretText = await readIfPresent(paths.boxSecret).catch(() => undefined);
    if (secretText === undefined)
      return { key, enrolled: false, secretErased: false, attachKeyInstalled: false };
  } else {
    secretText = await readIfPresent(paths.boxSecret);
    if (secretText === undefined)
      throw new KeyError(
        `${paths.boardKey}: no board key and no box secret at ${paths.boxSecret} to enrol from`,
      );
    key = deriveBoardKey(parseKey(secretText, paths.boxSecret), slot);
    await writeFileAtomic(paths.boardKey, formatKey(key), 0o600);
  }
  const enrolled = existing === undefined;
  // The manager derives every board's key and so keeps the secret; a worker needs only its own key.
  if (slot === 1) return { key, enrolled, secretErased: false, attachKeyInstalled: false };
  let attachKeyInstalled = false;
  if (paths.authorizedKeys !== undefined) {
    try {
      // Before the secret goes: afterwards nothing on this board could derive the manager's public key.
      const publicLine = deriveAttachKey(parseKey(secretText, paths.boxSecret)).publicLine;
      await installAttachKey(paths.authorizedKeys, publicLine);
      attachKeyInstalled = true;
    } catch (err) {
      const why =
        err instanceof KeyError ? err.message : `${paths.authorizedKeys}: ${(err as Error).message}`;
      return { key, enrolled, secretErased: false, attachKeyInstalled, attachKeyError: why };
    }
  }
  await rm(paths.boxSecret, { force: true });
  return { key, enrolled, secretErased: true, attachKeyInstalled };
}

async function installAttachKey(path: string, publicLine: string): Promise<void> {
  const existing = await readIfPresent(path);
  // sshd ignores a key file or directory that others may write.
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, withAttachKey(existing ?? '', publicLine), 0o600);
}

/** True when the board has neither its key nor a box secret: it must join the box over the network to enrol. */
export async function needsJoin(paths: EnrolPaths): Promise<boolean> {
  return (
    (await readIfPresent(paths.boardKey)) === undefined &&
    (await readIfPresent(paths.boxSecret)) === undefined
  );
}

/**
 * Keeps what a join grant carried (firmware/agent/join.ts): the board's key, written atomically (mode 0600) where
 * enrolBoard reads it at every later start, and the manager's attach key line, when the board trusts one.
 */
export async function keepJoinedKey(
  paths: EnrolPaths,
  key: Buffer,
  attachLine?: string,
): Promise<{ attachKeyError?: string }> {
  await mkdir(dirname(paths.boardKey), { recursive: true, mode: 0o700 });
  await writeFileAtomic(paths.boardKey, formatKey(key), 0o600);
  if (!paths.authorizedKeys || !attachLine) return {};
  try {
    await installAttachKey(paths.authorizedKeys, attachLine);
    return {};
  } catch (err) {
    // Costs only `attach`: the board is enrolled and supervised all the same.
    return { attachKeyError: `${paths.authorizedKeys}: ${(err as Error).message}` };
  }
}

/** The manager's box secret. */
export async function loadBoxSecret(path: string): Promise<Buffer> {
  const text = await readIfPresent(path);
  if (text === undefined) throw new KeyError(`${path}: no box secret (the image builder writes it)`);
  return parseKey(text, path);
}
