import { randomBytes } from 'node:crypto';
import { chmod, link, lstat, mkdir, open, readlink, rename, rm, symlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ApkError } from './errors.js';

/** True when a path from a package is plain: relative, no `.`/`..` parts, no control characters. */
export function isPlainPath(p: string): boolean {
  if (!p || p.startsWith('/') || /[\x00-\x1f\x7f]/.test(p)) return false;
  return p.split('/').every((c, i, all) => (c !== '' || i === all.length - 1) && c !== '.' && c !== '..');
}

const exists = (p: string): Promise<Awaited<ReturnType<typeof lstat>> | undefined> =>
  lstat(p).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });

/**
 * Every change the installer makes to a root goes through here: paths are resolved inside the root (symbolic
 * links included, the way the target will resolve them, so an absolute link means the root, never the host),
 * anything replaced is first moved aside, and everything created is remembered. `rollback()` puts the root
 * back as it was; `commit()` drops the saved copies.
 */
export class Journal {
  private readonly created: string[] = [];
  private readonly saved: { original: string; backup: string }[] = [];
  private readonly modes: { host: string; mode: number }[] = [];
  private readonly backupDir: string;
  private counter = 0;

  constructor(
    readonly root: string,
    /** Test hook: called before each change, may throw to simulate a failing disk. */
    private readonly beforeChange?: (what: string) => void,
  ) {
    this.backupDir = join(dirname(root), `.${basename(root)}.apk-undo-${randomBytes(4).toString('hex')}`);
  }

  /** The host path of `rel`'s parent directory, following links inside the root; refuses an escape. */
  async resolveParent(rel: string, subject: string): Promise<string> {
    const parts = rel.split('/').slice(0, -1);
    let at: string[] = [];
    let hops = 0;
    while (parts.length) {
      const c = parts.shift()!;
      if (c === '' || c === '.') continue;
      if (c === '..') {
        if (at.length === 0) throw new ApkError(subject, `${rel}: path escapes the root`);
        at.pop();
        continue;
      }
      const host = join(this.root, ...at, c);
      const st = await exists(host);
      if (st?.isSymbolicLink()) {
        if (++hops > 40) throw new ApkError(subject, `${rel}: too many levels of symbolic links`);
        const target = await readlink(host);
        if (target.startsWith('/')) at = [];
        parts.unshift(...target.split('/'));
        continue;
      }
      if (st && !st.isDirectory()) throw new ApkError(subject, `${rel}: '${c}' is not a directory`);
      at.push(c);
    }
    return join(this.root, ...at);
  }

  private async hostPath(rel: string, subject: string): Promise<string> {
    const parent = await this.resolveParent(rel, subject);
    await this.ensureDir(parent);
    return join(parent, rel.split('/').filter(Boolean).pop()!);
  }

  /** Creates missing directories of a host path below the root (as 0755; packages set their own modes). */
  private async ensureDir(host: string): Promise<void> {
    if (await exists(host)) return;
    await this.ensureDir(dirname(host));
    this.beforeChange?.(host);
    await mkdir(host, { mode: 0o755 });
    this.created.push(host);
  }

  /** Moves an existing non-directory out of the way so it can be restored. */
  private async setAside(host: string, subject: string, rel: string): Promise<void> {
    const st = await exists(host);
    if (!st) return;
    if (st.isDirectory()) throw new ApkError(subject, `${rel}: a directory is in the way`);
    this.beforeChange?.(host);
    await mkdir(this.backupDir, { recursive: true });
    const backup = join(this.backupDir, String(this.counter++));
    await rename(host, backup);
    this.saved.push({ original: host, backup });
  }

  async directory(rel: string, hostMode: number, subject: string): Promise<void> {
    const host = await this.resolveParent(rel.replace(/\/+$/, '') + '/x', subject);
    const before = await exists(host);
    if (before && !before.isDirectory()) throw new ApkError(subject, `${rel}: a file is in the way`);
    await this.ensureDir(host);
    this.beforeChange?.(host);
    if (before) this.modes.push({ host, mode: Number(before.mode) & 0o7777 });
    await chmod(host, hostMode);
  }

  async file(rel: string, data: Buffer, hostMode: number, subject: string): Promise<void> {
    const host = await this.hostPath(rel, subject);
    await this.setAside(host, subject, rel);
    this.beforeChange?.(host);
    this.created.push(host);
    const fh = await open(host, 'wx', hostMode);
    try {
      await fh.writeFile(data);
      await fh.chmod(hostMode);
    } finally {
      await fh.close();
    }
  }

  async symlink(rel: string, target: string, subject: string): Promise<void> {
    const host = await this.hostPath(rel, subject);
    await this.setAside(host, subject, rel);
    this.beforeChange?.(host);
    this.created.push(host);
    await symlink(target, host);
  }

  async hardlink(rel: string, existingRel: string, subject: string): Promise<void> {
    const from = join(await this.resolveParent(existingRel, subject), existingRel.split('/').pop()!);
    const host = await this.hostPath(rel, subject);
    await this.setAside(host, subject, rel);
    this.beforeChange?.(host);
    this.created.push(host);
    await link(from, host);
  }

  /** Writes a whole file atomically (temp + fsync + rename), for database files. */
  async replaceFile(rel: string, data: Buffer | string, mode: number): Promise<void> {
    await this.replaceHostFile(await this.hostPath(rel, rel), data, mode);
  }

  /** Same, for a file beside the root (the ownership manifest). */
  async replaceHostFile(host: string, data: Buffer | string, mode: number): Promise<void> {
    const rel = host;
    const tmp = `${host}.apk-new`;
    this.beforeChange?.(host);
    const fh = await open(tmp, 'w', mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await this.setAside(host, rel, rel);
    this.created.push(host);
    await rename(tmp, host);
  }

  async rollback(): Promise<void> {
    for (const m of this.modes.reverse()) await chmod(m.host, m.mode);
    for (const p of this.created.reverse()) {
      const st = await exists(p);
      if (st) await rm(p, { recursive: st.isDirectory(), force: true });
    }
    for (const s of this.saved.reverse()) await rename(s.backup, s.original);
    await rm(this.backupDir, { recursive: true, force: true });
  }

  async commit(): Promise<void> {
    await rm(this.backupDir, { recursive: true, force: true });
  }
}
