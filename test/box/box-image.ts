// The image a QEMU box boots: the emulator profile, built once per run with a console password and one box's
// secret on every card (so the workers enrol at their first boot), uncompressed, at a fixed source date.
import { randomBytes } from 'node:crypto';
import { constants, copyFile, mkdtemp, open, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '../../firmware/console/password.js';
import { buildImage, repoRoot } from '../../images/build.js';
import { decodeMbr, SECTOR } from '../../images/layout/mbr.js';
import { run } from '../../images/lib/tools.js';

export async function buildBoxImage(
  consolePassword: string,
  o: {
    skywireServices?: string;
    /** False: no Skywire in the image (a smaller root, for tests of other parts). */
    skywire?: boolean;
    /** The update signing key (PEM): the boards take bundles signed with it. */
    signingKey?: string;
  } = {},
): Promise<string> {
  const outDir = await mkdtemp(join(tmpdir(), 'box-image-'));
  const secretFile = join(outDir, 'box.secret');
  await writeFile(secretFile, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
  const built = await buildImage({
    profile: 'qemu-virt-arm64',
    repo: repoRoot(),
    outDir,
    cacheDir: join(repoRoot(), '.cache', 'images'),
    consolePasswordHash: await hashPassword(consolePassword, { N: 4096, r: 8, p: 1 }),
    boxSecretFile: secretFile,
    ...(o.skywireServices ? { skywireServices: o.skywireServices } : {}),
    ...(o.skywire === false ? { skywire: false } : {}),
    ...(o.signingKey ? { signingKey: o.signingKey } : {}),
    compress: false,
    epoch: 1_700_000_000,
  });
  return built.image;
}

/**
 * A card as an image built without `--box-secret` flashes it: the same image with the box secret taken off its
 * data partition (partition 4), so the board holds nothing of this box and must join through a join window.
 */
export async function genericCard(image: string, out: string): Promise<string> {
  await copyFile(image, out, constants.COPYFILE_FICLONE);
  const head = Buffer.alloc(SECTOR);
  const fh = await open(out, 'r');
  try {
    await fh.read(head, 0, SECTOR, 0);
  } finally {
    await fh.close();
  }
  const data = decodeMbr(head).partitions[3];
  if (!data) throw new Error(`${image}: no data partition`);
  await run('debugfs', ['-w', '-R', 'rm /box.secret', `${out}?offset=${data.start * SECTOR}`]);
  const { stdout } = await run('debugfs', ['-R', 'ls /', `${out}?offset=${data.start * SECTOR}`]);
  if (/box\.secret/.test(stdout)) throw new Error(`${out}: the box secret is still on its data partition`);
  return out;
}
