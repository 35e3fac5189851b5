// The visor binaries a board keeps on its data partition, beside the one in the image:
//
//   <dir>/releases/<version>-<sha8>/skywire     each installed binary, in a folder of its own
//   <dir>/current  -> releases/...              what the visor service runs (absent: the image's /opt/skywire/bin)
//   <dir>/previous -> releases/...              what it ran before, to fall back to
//
// The links are replaced by rename, so a power cut leaves the old link or the new one, never none.
import { lstat, mkdir, readdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { unpackVisorBundle, type VisorBundlePolicy, type VisorManifest } from './visor-bundle.js';

/** Where the boards keep installed visor binaries (the data partition). */
export const VISOR_SLOTS_DIR = '/var/lib/skyminer/skywire';
/** The binary the image carries, run while no bundle has been installed. */
export const IMAGE_VISOR_BINARY = '/opt/skywire/bin/skywire';

async function target(link: string): Promise<string | null> {
  try {
    return await readlink(link);
  } catch {
    return null;
  }
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

/** Points `link` at `to` in one rename. */
async function relink(link: string, to: string): Promise<void> {
  const temp = `${link}.new-${process.pid}`;
  await rm(temp, { force: true });
  await symlink(to, temp);
  await rename(temp, link);
}

/**
 * The binary the visor service runs: `<dir>/current/skywire` once a bundle was installed (the folder holding it
 * is also the visor's apps `bin_path`), else the image's.
 */
export async function visorBinary(dir = VISOR_SLOTS_DIR, image = IMAGE_VISOR_BINARY): Promise<string> {
  const current = join(dir, 'current', 'skywire');
  return (await exists(current)) ? current : image;
}

export interface SlotsView {
  current: string | null;
  previous: string | null;
}

export async function readSlots(dir = VISOR_SLOTS_DIR): Promise<SlotsView> {
  return { current: await target(join(dir, 'current')), previous: await target(join(dir, 'previous')) };
}

/**
 * Checks the bundle and unpacks its binary into a release folder of its own, then makes it current and the old
 * current previous. A refused bundle changes nothing. Returns the manifest and the links before the swap.
 */
export async function installVisorBundle(
  bundle: string,
  policy: VisorBundlePolicy,
  dir = VISOR_SLOTS_DIR,
): Promise<{ manifest: VisorManifest; before: SlotsView; release: string }> {
  const releases = join(dir, 'releases');
  await mkdir(releases, { recursive: true });
  const scratch = join(releases, `.unpack-${process.pid}`);
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch);
  let manifest: VisorManifest;
  try {
    manifest = await unpackVisorBundle(bundle, policy, join(scratch, 'skywire'));
  } catch (err) {
    await rm(scratch, { recursive: true, force: true });
    throw err;
  }
  const name = `${manifest.version}-${manifest.binary.sha256.slice(0, 8)}`;
  const release = join('releases', name);
  const before = await readSlots(dir);
  if (before.current === release) {
    // The same binary again: nothing to swap, and the previous one stays to fall back to.
    await rm(scratch, { recursive: true, force: true });
    return { manifest, before, release };
  }
  await rm(join(dir, release), { recursive: true, force: true });
  await rename(scratch, join(dir, release));
  if (before.current) await relink(join(dir, 'previous'), before.current);
  await relink(join(dir, 'current'), release);
  await prune(dir);
  return { manifest, before, release };
}

/**
 * Goes back to the previous binary: `current` takes `previous`'s target (or is removed when there was none, so the
 * image's binary runs again). The failed release is removed.
 */
export async function fallBack(dir = VISOR_SLOTS_DIR): Promise<SlotsView> {
  const { current, previous } = await readSlots(dir);
  if (previous) await relink(join(dir, 'current'), previous);
  else await rm(join(dir, 'current'), { force: true });
  await rm(join(dir, 'previous'), { force: true });
  if (current && current !== previous) await rm(join(dir, current), { recursive: true, force: true });
  await prune(dir);
  return readSlots(dir);
}

/** Removes release folders neither link points at (an older previous, an interrupted unpack). */
async function prune(dir: string): Promise<void> {
  const keep = new Set(Object.values(await readSlots(dir)).filter((t): t is string => t !== null));
  const names = await readdir(join(dir, 'releases')).catch(() => [] as string[]);
  for (const name of names) {
    if (name.startsWith('.unpack-') && name === `.unpack-${process.pid}`) continue;
    if (!keep.has(join('releases', name)))
      await rm(join(dir, 'releases', name), { recursive: true, force: true });
  }
}
