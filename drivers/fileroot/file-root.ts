import { readFile, readdir, readlink } from 'node:fs/promises';
import { join, normalize, sep } from 'node:path';

/**
 * A read-only view of a filesystem tree such as `/proc` or `/sys`. Readers take one of these instead of
 * touching absolute paths, so tests feed them recorded trees and the simulator feeds them emulated boards.
 */
export interface FileRoot {
  /** Reads a file below the root, e.g. `proc/stat`. Rejects with an ENOENT-coded error when absent. */
  readText(path: string): Promise<string>;
  /** Lists a directory below the root. Rejects with an ENOENT-coded error when absent. */
  list(path: string): Promise<string[]>;
  /** Reads a symbolic link's target, as sysfs uses them (`sys/block/sda/device`). */
  link(path: string): Promise<string>;
}

/** A FileRoot over a real directory: `/` on the device, a recorded tree in tests. */
export class DirectoryRoot implements FileRoot {
  constructor(readonly dir: string) {}

  private resolve(path: string): string {
    const rel = normalize(path).replace(/^(\.\.(\/|\\|$))+/, '');
    if (rel.startsWith('..' + sep)) throw new Error(`path escapes the root: ${path}`);
    return join(this.dir, rel);
  }

  readText(path: string): Promise<string> {
    return readFile(this.resolve(path), 'utf8');
  }

  list(path: string): Promise<string[]> {
    return readdir(this.resolve(path));
  }

  link(path: string): Promise<string> {
    return readlink(this.resolve(path));
  }
}

/** Builds the error a missing file gives, with the same `code` as Node's own. */
export function notFound(path: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`ENOENT: no such file or directory, '${path}'`);
  err.code = 'ENOENT';
  return err;
}
