// The root filesystem as the builder means it: every entry with its owner and mode, held in memory and only
// then written to an empty staging directory. Entries are created with exclusive flags, and nothing is ever
// added beneath a symlink, so a link such as /lib -> /usr/lib can never lead a write onto the build host.
import { constants } from 'node:fs';
import { chmod, copyFile, lutimes, mkdir, readdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';

/** One entry of the tree with the owner and mode the filesystem must record (written by layout/ext4). */
export interface OwnedEntry {
  /** Absolute path inside the filesystem. */
  path: string;
  kind: 'dir' | 'file' | 'symlink' | 'chardev' | 'blockdev' | 'fifo';
  mode: number;
  uid: number;
  gid: number;
  /** Device numbers of a chardev or blockdev. */
  major?: number;
  minor?: number;
}

interface Common {
  mode: number;
  uid: number;
  gid: number;
}
export type StagedEntry =
  | ({ kind: 'dir' } & Common)
  | ({ kind: 'file'; data: Buffer | string } & Common)
  | ({ kind: 'file'; source: string; size: number } & Common)
  | ({ kind: 'symlink'; target: string } & Common)
  | ({ kind: 'node'; node: DeviceKind; major: number; minor: number } & Common);

/** Device nodes and fifos: never made on the build host (that needs root), only inside the filesystem image. */
export type DeviceKind = 'chardev' | 'blockdev' | 'fifo';

export interface Owner {
  mode?: number;
  uid?: number;
  gid?: number;
}

export class StagingError extends Error {
  override readonly name = 'StagingError';
}

function normal(path: string): string {
  if (!path.startsWith('/')) throw new StagingError(`staging path "${path}" is not absolute`);
  const n = posix.normalize(path);
  if (n !== path.replace(/\/+$/, '') && !(path === '/' && n === '/'))
    throw new StagingError(`staging path "${path}" is not in normal form`);
  return n;
}

export class StagingTree {
  private readonly entries = new Map<string, StagedEntry>([
    ['/', { kind: 'dir', mode: 0o755, uid: 0, gid: 0 }],
  ]);

  get(path: string): StagedEntry | undefined {
    return this.entries.get(normal(path));
  }

  /** A directory and any missing parents (parents as root 0755); an existing one keeps what is not given. */
  dir(path: string, o: Owner = {}): this {
    const p = normal(path);
    this.parents(p);
    const existing = this.entries.get(p);
    if (existing && existing.kind !== 'dir')
      throw new StagingError(`${p}: already staged as a ${existing.kind}`);
    this.entries.set(p, {
      kind: 'dir',
      mode: o.mode ?? existing?.mode ?? 0o755,
      uid: o.uid ?? existing?.uid ?? 0,
      gid: o.gid ?? existing?.gid ?? 0,
    });
    return this;
  }

  /** A file with the given content; a later call for the same path replaces it (the overlay wins). */
  file(path: string, data: Buffer | string, o: Owner = {}): this {
    return this.put(path, { kind: 'file', data, mode: o.mode ?? 0o644, uid: o.uid ?? 0, gid: o.gid ?? 0 });
  }

  /** A file copied from the build host when the tree is written. */
  copy(path: string, source: string, size: number, o: Owner = {}): this {
    return this.put(path, {
      kind: 'file',
      source,
      size,
      mode: o.mode ?? 0o644,
      uid: o.uid ?? 0,
      gid: o.gid ?? 0,
    });
  }

  symlink(path: string, target: string, o: Owner = {}): this {
    return this.put(path, { kind: 'symlink', target, mode: 0o777, uid: o.uid ?? 0, gid: o.gid ?? 0 });
  }

  /** A device node or fifo; it exists only in the image (the staging directory cannot hold one without root). */
  node(path: string, node: DeviceKind, major: number, minor: number, o: Owner = {}): this {
    return this.put(path, {
      kind: 'node',
      node,
      major: node === 'fifo' ? 0 : major,
      minor: node === 'fifo' ? 0 : minor,
      mode: o.mode ?? 0o600,
      uid: o.uid ?? 0,
      gid: o.gid ?? 0,
    });
  }

  remove(path: string): void {
    const p = normal(path);
    for (const k of [...this.entries.keys()]) if (k === p || k.startsWith(`${p}/`)) this.entries.delete(k);
  }

  /** Sorted so that every directory comes before what it holds. */
  list(): [string, StagedEntry][] {
    return [...this.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Bytes of file content (for sizing the filesystem). */
  contentBytes(): number {
    let n = 0;
    for (const [, e] of this.entries) {
      if (e.kind === 'file') n += 'size' in e ? e.size : Buffer.byteLength(e.data);
    }
    return n;
  }

  get size(): number {
    return this.entries.size;
  }

  owned(): OwnedEntry[] {
    return this.list().map(([path, e]) =>
      e.kind === 'node'
        ? { path, kind: e.node, mode: e.mode, uid: e.uid, gid: e.gid, major: e.major, minor: e.minor }
        : { path, kind: e.kind, mode: e.mode, uid: e.uid, gid: e.gid },
    );
  }

  /** Writes the tree into `dir`, which must be empty, then gives every entry the source date as its times. */
  async write(dir: string, epoch: number): Promise<void> {
    if ((await readdir(dir)).length > 0) throw new StagingError(`${dir}: staging directory is not empty`);
    const list = this.list();
    for (const [p, e] of list) {
      if (p === '/' || e.kind === 'node') continue;
      const host = join(dir, p);
      if (e.kind === 'dir') await mkdir(host);
      else if (e.kind === 'symlink') await symlink(e.target, host);
      else if ('source' in e) await copyFile(e.source, host, constants.COPYFILE_EXCL);
      else await writeFile(host, e.data, { flag: 'wx' });
      if (e.kind !== 'symlink') await chmod(host, e.mode & 0o7777);
    }
    for (const [p, e] of list) {
      const host = join(dir, p);
      if (e.kind === 'node') continue;
      if (e.kind === 'symlink') await lutimes(host, epoch, epoch);
      else await utimes(host, epoch, epoch);
    }
  }

  private put(path: string, entry: StagedEntry): this {
    const p = normal(path);
    if (p === '/') throw new StagingError('/ is a directory');
    this.parents(p);
    const existing = this.entries.get(p);
    if (existing?.kind === 'dir') throw new StagingError(`${p}: already staged as a directory`);
    this.entries.set(p, entry);
    return this;
  }

  private parents(p: string): void {
    const parts = p.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const a = '/' + parts.slice(0, i).join('/');
      const e = this.entries.get(a);
      if (!e) this.entries.set(a, { kind: 'dir', mode: 0o755, uid: 0, gid: 0 });
      else if (e.kind !== 'dir')
        throw new StagingError(
          `${p}: ${a} is a ${e.kind}${e.kind === 'symlink' ? ` (-> ${e.target})` : ''}, not a directory`,
        );
    }
  }
}
