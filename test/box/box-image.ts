// The image a QEMU box boots: the emulator profile, built once per run with a console password and one box's
// secret on every card (so the workers enrol at their first boot), uncompressed, at a fixed source date.
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '../../firmware/console/password.js';
import { buildImage, repoRoot } from '../../images/build.js';

export async function buildBoxImage(consolePassword: string): Promise<string> {
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
    compress: false,
    epoch: 1_700_000_000,
  });
  return built.image;
}
