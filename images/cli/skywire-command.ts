import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../build.js';
import { loadLock } from '../lib/inputs.js';
import { buildSkywire, type GoArch } from '../stages/skywire.js';
import type { CommandIo } from './skyminer-image.js';

export const SKYWIRE_USAGE = `usage: skyminer-image skywire [--arch amd64|arm64|arm]... [--cache DIR] [--source FILE|URL]`;

const ARCHES: readonly GoArch[] = ['amd64', 'arm64', 'arm'];

/**
 * Builds (or finds in the cache) the pinned Skywire for each architecture and prints one line per binary:
 * `<goarch> <path> <seconds>s [cached]`. The Makefile runs it once before the tests, which then share the cache.
 */
export async function skywireCommand(args: string[], io: CommandIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      options: {
        arch: { type: 'string', multiple: true },
        cache: { type: 'string' },
        source: { type: 'string' },
      },
    });
  } catch (err) {
    io.err(`skyminer-image skywire: ${(err as Error).message}\n${SKYWIRE_USAGE}\n`);
    return 2;
  }
  const v = parsed.values;
  const arches = (v.arch ?? ['amd64', 'arm64', 'arm']).flatMap((a) => a.split(','));
  const bad = arches.find((a) => !(ARCHES as readonly string[]).includes(a));
  if (bad !== undefined) {
    io.err(`skyminer-image skywire: unknown architecture "${bad}" (expected ${ARCHES.join(', ')})\n`);
    return 2;
  }
  const repo = repoRoot();
  const source = v.source ?? process.env.SKYWIRE_SOURCE;
  try {
    const lock = await loadLock(join(repo, 'images', 'inputs.lock.json'));
    for (const goarch of arches as GoArch[]) {
      const b = await buildSkywire({
        repo,
        lock,
        goarch,
        cacheDir: v.cache ?? join(repo, '.cache', 'images'),
        ...(source ? { source } : {}),
        log: (m) => io.err(`skyminer-image: ${m}\n`),
      });
      io.out(`${goarch} ${b.binary} ${b.seconds.toFixed(1)}s${b.cached ? ' cached' : ''}\n`);
    }
    return 0;
  } catch (err) {
    io.err(`skyminer-image skywire: ${(err as Error).message}\n`);
    return 1;
  }
}
