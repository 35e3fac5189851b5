import { access, copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CROSS } from '../lib/cross.js';
import { run } from '../lib/tools.js';
import type { Profile } from '../profile/schema.js';

/** The official Node build for the target, stripped once and cached. */
export async function stagedNode(unpacked: string, profile: Profile, cacheDir: string): Promise<string> {
  const out = join(cacheDir, `node-${profile.arch}-stripped`);
  const src = join(unpacked, 'package', 'bin', 'node');
  const stamp = `${out}.from`;
  const from = await readFile(stamp, 'utf8').catch(() => '');
  if (from === src && (await exists(out))) return out;
  await copyFile(src, `${out}.tmp`);
  await run(`${CROSS[profile.arch].triple}-strip`, ['--strip-all', `${out}.tmp`]);
  await run('mv', [`${out}.tmp`, out]);
  await writeFile(stamp, src);
  return out;
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );
