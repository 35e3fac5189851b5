import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { EntryType } from './tar-reader.js';

/**
 * What a path in the root really is on the target: owner, group, mode and device numbers as the package
 * declared them. The host copy cannot carry these without root (the installer never chowns, never makes
 * device nodes, and widens directory modes so it can write into them), so the image builder applies this
 * manifest when it makes the filesystem image.
 */
export interface ManifestEntry {
  type: EntryType;
  /** Permission bits, setuid/setgid/sticky included. */
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** True when uname/gname were not in the root's etc/passwd or etc/group at install time; uid/gid are then
   * the package's numbers, and the first-boot step chowns the path by name after the package scripts ran. */
  unresolved?: boolean;
  target?: string;
  major?: number;
  minor?: number;
  /** The package that installed the path; absent for the installer's own files. */
  package?: string;
}

export interface Manifest {
  version: 1;
  /** Root-relative paths, without a leading slash. */
  entries: Record<string, ManifestEntry>;
}

/** The manifest lives beside the root: `<root>.manifest.json`. */
export function manifestPath(root: string): string {
  const abs = resolve(root);
  return join(dirname(abs), `${basename(abs)}.manifest.json`);
}

export async function readManifest(root: string): Promise<Manifest> {
  try {
    const m = JSON.parse(await readFile(manifestPath(root), 'utf8')) as Manifest;
    if (m.version !== 1 || typeof m.entries !== 'object') throw new Error('unknown manifest version');
    return m;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, entries: {} };
    throw new Error(`${manifestPath(root)}: ${(err as Error).message}`);
  }
}

/** Stable text: paths sorted, so two identical builds give identical manifests. */
export function formatManifest(m: Manifest): string {
  const entries: Record<string, ManifestEntry> = {};
  for (const k of Object.keys(m.entries).sort()) entries[k] = m.entries[k]!;
  return JSON.stringify({ version: 1, entries }, null, 1) + '\n';
}
