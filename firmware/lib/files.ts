import { lstat, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { z } from 'zod';

/*
 * Files the firmware keeps (state, ledger, keys, passwords, configs it writes): one way to write them and one way to
 * read them back, below every service, so that a power cut or a damaged file is handled the same everywhere.
 */

/**
 * Replaces `path` with `data` so that a power cut leaves either the old file or the new one, never a half: a
 * temporary file beside it, flushed to disk, renamed over it, and the directory flushed so the rename survives too.
 */
export async function writeFileAtomic(path: string, data: string | Buffer, mode = 0o644): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${Date.now()}`;
  const file = await open(temp, 'wx', mode);
  try {
    await file.writeFile(data);
    await file.chmod(mode);
    await file.sync();
  } catch (err) {
    await file.close();
    await unlink(temp).catch(() => {});
    throw err;
  }
  await file.close();
  try {
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw err;
  }
  // Some filesystems refuse a directory fsync; the rename is then as durable as they make it.
  const dir = await open(dirname(path), 'r').catch(() => undefined);
  await dir?.sync().catch(() => {});
  await dir?.close();
}

/** A temporary file younger than this may still be written by a live writer, so it is left alone. */
export const STALE_TEMP_MS = 60_000;

/**
 * Removes the temporary files a killed writer left beside `path` (`<name>.tmp-<pid>-<ms>`, as writeFileAtomic names
 * them): only those of this one file, and only those not modified for `minAgeMs`, so a live writer's is never
 * touched. Best effort: a directory that cannot be listed is left as it is. Returns the names removed.
 */
export async function removeStaleTemps(
  path: string,
  now: number = Date.now(),
  minAgeMs = STALE_TEMP_MS,
): Promise<string[]> {
  const dir = dirname(path);
  const prefix = `${basename(path)}.tmp-`;
  const names = await readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !/^\d+-\d+$/.test(name.slice(prefix.length))) continue;
    const info = await lstat(join(dir, name)).catch(() => undefined);
    if (!info?.isFile() || now - info.mtimeMs < minAgeMs) continue;
    if (
      await unlink(join(dir, name)).then(
        () => true,
        () => false,
      )
    )
      removed.push(name);
  }
  return removed;
}

export type LoadedJson<T> =
  | { status: 'missing' }
  | { status: 'ok'; data: T }
  /** The file is there but cannot be read (permissions, I/O): left where it is. */
  | { status: 'unreadable'; error: string }
  /**
   * Not JSON, truncated, or not what the schema wants: renamed to `<path>.corrupt-<time>`, never deleted (aside is
   * null, with the error, when even the rename failed).
   */
  | { status: 'corrupt'; problem: string; aside: string | null; error?: string };

/**
 * Reads a JSON file kept by the firmware; a damaged one is set aside for inspection so the caller starts fresh.
 * Its owner opens it at start, so this is also when the temporary files of killed writes are swept away.
 */
export async function loadJsonFile<T>(
  path: string,
  schema: z.ZodType<T>,
  now: number = Date.now(),
): Promise<LoadedJson<T>> {
  await removeStaleTemps(path);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { status: 'missing' };
    return { status: 'unreadable', error: code ?? String(err) };
  }
  let problem: string;
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    if (parsed.success) return { status: 'ok', data: parsed.data };
    const issue = parsed.error.issues[0]!;
    problem = `${issue.path.map(String).join('.') || '(top level)'}: ${issue.message}`;
  } catch {
    problem = text.length === 0 ? 'empty file' : 'not JSON';
  }
  const aside = `${path}.corrupt-${new Date(now).toISOString().replace(/[:.]/g, '-')}`;
  try {
    await rename(path, aside);
  } catch (err) {
    return { status: 'corrupt', problem, aside: null, error: String(err) };
  }
  return { status: 'corrupt', problem, aside };
}
