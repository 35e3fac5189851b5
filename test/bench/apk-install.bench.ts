// Time to install a 40-package root from a local signed repository (verify, extract, write the database).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installPackages } from '../../images/apk/installer.js';
import { makeKey, type PackageSpec, writeKeysDir, writeRepository } from '../lib/apk-builder.js';

const PACKAGES = 40;
const FILES_PER_PACKAGE = 25;

function specs(): PackageSpec[] {
  const out: PackageSpec[] = [];
  for (let i = 0; i < PACKAGES; i++) {
    const files = [];
    for (let f = 0; f < FILES_PER_PACKAGE; f++) {
      // Sizes from 1 KiB to 64 KiB; pseudo-random content so gzip has work to do.
      const size = 1024 * (1 + ((i * 7 + f * 13) % 64));
      const content = Buffer.alloc(size);
      for (let b = 0; b < size; b++) content[b] = (b * 2654435761 + i * 97 + f) >>> 24;
      files.push({ path: `usr/lib/pkg${i}/file${f}.bin`, content, mode: 0o644 });
    }
    files.push({ path: `usr/bin/tool${i}`, content: `#!/bin/sh\necho ${i}\n`, mode: 0o755 });
    out.push({
      name: `pkg${i}`,
      version: '1.0-r0',
      depends: i > 0 ? [`pkg${i - 1}`] : [],
      provides: [`cmd:tool${i}=1.0-r0`],
      files,
    });
  }
  return out;
}

export default async function (): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'apk-bench-'));
  try {
    const key = makeKey('bench-1.rsa.pub');
    await writeKeysDir(join(dir, 'keys'), key);
    const built = await writeRepository(join(dir, 'repo'), specs(), key);
    const bytes = built.reduce((n, b) => n + b.apk.length, 0);
    const times: number[] = [];
    for (let run = 0; run < 3; run++) {
      const root = join(dir, `root${run}`);
      const t0 = performance.now();
      const r = await installPackages({
        root,
        repositories: [join(dir, 'repo')],
        keysDir: join(dir, 'keys'),
        arch: 'aarch64',
        packages: [`pkg${PACKAGES - 1}`],
      });
      times.push(performance.now() - t0);
      if (r.installed.length !== PACKAGES) throw new Error(`installed ${r.installed.length} packages`);
    }
    times.sort((a, b) => a - b);
    const median = times[1]!;
    console.log(
      `install ${PACKAGES} packages (${PACKAGES * (FILES_PER_PACKAGE + 1)} files, ${(bytes / 2 ** 20).toFixed(1)} MiB of .apk) from a local repository: median ${median.toFixed(0)} ms (runs ${times.map((t) => t.toFixed(0)).join(', ')} ms), ${(bytes / 2 ** 20 / (median / 1000)).toFixed(1)} MiB/s`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
