// The hypervisor's only account (`admin`), made by the manager itself at first boot: a fresh hypervisor gives it to
// whoever asks first, so the firmware asks as soon as its hypervisor answers. The password is made here, kept on
// the data partition (readable by root only) and is the owner's to read or change from the console.
import { randomBytes, randomInt } from 'node:crypto';
import { readFile, rename, unlink } from 'node:fs/promises';
import { writeFileAtomic } from '../lib/files.js';
import { HypervisorClient } from './hypervisor-client.js';
import { SourceError } from './source-error.js';

/** The password file's name in the Skywire data folder. */
export const PASSWORD_FILE = 'hypervisor-password';

/**
 * A fresh password the hypervisor's rules take: 6 to 64 printable ASCII characters with an upper- and a lower-case
 * letter, a digit and a symbol (here 22 characters, about 100 bits of randomness).
 */
export function makeHypervisorPassword(): string {
  return `Sky-${randomBytes(12).toString('base64url')}-${randomInt(10)}`;
}

/** Why a password is not one the hypervisor takes, or null when it is. */
export function passwordProblem(password: string): string | null {
  if (password.length < 6 || password.length > 64) return 'the password must be 6 to 64 characters';
  if (!/^[!-~]+$/.test(password)) return 'the password must be printable ASCII without spaces';
  if (
    !/[A-Z]/.test(password) ||
    !/[a-z]/.test(password) ||
    !/[0-9]/.test(password) ||
    !/[^A-Za-z0-9]/.test(password)
  )
    return 'the password needs an upper-case letter, a lower-case letter, a digit and a symbol';
  return null;
}

/** The stored password, or null when there is none yet. */
export async function readHypervisorPassword(file: string): Promise<string | null> {
  const text = await readFile(file, 'utf8').catch(() => null);
  const line = text?.split('\n')[0]?.trim();
  return line ? line : null;
}

/** The stored password, made and stored first when there is none. */
export async function hypervisorPassword(file: string): Promise<string> {
  const found = await readHypervisorPassword(file);
  if (found) return found;
  const made = makeHypervisorPassword();
  await writeFileAtomic(file, `${made}\n`, 0o600);
  return made;
}

export type AccountOutcome = 'created' | 'kept';

/**
 * Makes the hypervisor's account with the stored password, or checks that the account there takes it. An account
 * that refuses it was made by someone else first (or its password was changed outside the firmware): that is an
 * error naming the fix, never a loop of guesses.
 */
export async function ensureHypervisorAccount(
  url: string,
  file: string,
  timeoutMs = 5000,
): Promise<AccountOutcome> {
  const password = await hypervisorPassword(file);
  const client = new HypervisorClient({ url, password, timeoutMs });
  const made = await client.createAccount(password);
  if (made === 'created') return 'created';
  try {
    await client.visorsSummary();
  } catch (err) {
    // A change the hypervisor took just before a power cut: its new password waits beside the file.
    if (
      err instanceof SourceError &&
      err.kind === 'credentials' &&
      (await takesPending(url, file, timeoutMs))
    )
      return 'kept';
    if (err instanceof SourceError && err.kind === 'credentials')
      throw new Error(
        `the hypervisor's account does not take the password in ${file}: it was made outside the firmware; ` +
          `set that password in the file, or remove the hypervisor's users.db to let the firmware make it again`,
      );
    throw err;
  }
  return 'kept';
}

/** Whether the hypervisor takes the password waiting in `<file>.new`; if so, it becomes the file. */
async function takesPending(url: string, file: string, timeoutMs: number): Promise<boolean> {
  const pending = await readHypervisorPassword(`${file}.new`);
  if (pending === null) return false;
  try {
    await new HypervisorClient({ url, password: pending, timeoutMs }).visorsSummary();
  } catch {
    return false;
  }
  await rename(`${file}.new`, file);
  return true;
}

/** The hypervisor UI's password as the console shows and changes it. */
export interface HypervisorPasswordControl {
  /** The password in force. */
  show(): Promise<string>;
  /** Changes it on the hypervisor, then in the file; resolves once both hold the new one. */
  set(next: string): Promise<void>;
}

/**
 * The firmware-made password of the hypervisor at `url`, kept in `file`. A new one is checked against the
 * hypervisor's rules first; it is kept beside the file (`<file>.new`) before the hypervisor is asked, so that a
 * power cut after the hypervisor took it loses nothing, and moves over the file only once the hypervisor took it.
 * Whoever reads the file at each login (the rewards service) then logs in with it.
 */
export function hypervisorPasswordControl(
  /** The hypervisor's address, or how to find it when asked (an emulated one picks its port when it starts). */
  url: string | (() => string),
  file: string,
  timeoutMs = 5000,
): HypervisorPasswordControl {
  const current = async (): Promise<string> => {
    const found = await readHypervisorPassword(file);
    if (found === null)
      throw new Error(
        `no hypervisor password in ${file} yet: the manager makes it when its hypervisor first answers`,
      );
    return found;
  };
  return {
    show: current,
    async set(next) {
      const problem = passwordProblem(next);
      if (problem) throw new Error(problem);
      const old = await current();
      if (next === old) return;
      const pending = `${file}.new`;
      await writeFileAtomic(pending, `${next}\n`, 0o600);
      try {
        const at = typeof url === 'string' ? url : url();
        await new HypervisorClient({ url: at, password: old, timeoutMs }).changePassword(old, next);
      } catch (err) {
        await unlink(pending).catch(() => {});
        // The kept password no longer opens the hypervisor: say where it is kept, and that nothing changed.
        if (
          err instanceof SourceError &&
          err.kind === 'credentials' &&
          /login as .* refused/.test(err.message)
        )
          throw new Error(
            `the hypervisor does not take the password in ${file} (changed in its UI?): nothing changed; ` +
              `put the hypervisor's password in that file, then try again`,
          );
        throw err;
      }
      await rename(pending, file);
    },
  };
}
