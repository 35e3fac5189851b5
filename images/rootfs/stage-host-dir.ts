import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { StagingTree } from './staging.js';

/**
 * Copies a host directory (an unpacked package) into the tree at `at`: directories, files (mode from the
 * package, owner root) and symlinks as symlinks. `skip` gets each path relative to `host`.
 */
export async function stageHostDir(
  tree: StagingTree,
  host: string,
  at: string,
  skip: (rel: string) => boolean = () => false,
  rel = '',
): Promise<void> {
  for (const name of (await readdir(join(host, rel))).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    if (skip(r)) continue;
    const h = join(host, r);
    const p = `${at === '/' ? '' : at}/${r}`;
    const st = await lstat(h);
    if (st.isSymbolicLink()) tree.symlink(p, await readlink(h));
    else if (st.isDirectory()) {
      tree.dir(p);
      await stageHostDir(tree, host, at, skip, r);
    } else if (st.isFile()) tree.copy(p, h, st.size, { mode: st.mode & 0o7777 });
  }
}
