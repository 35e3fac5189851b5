import { parseArgs } from 'node:util';
import { ApkError } from '../apk/errors.js';
import { installPackages, listInstalled } from '../apk/installer.js';
import type { CommandIo } from './skyminer-image.js';

export const APK_USAGE = `usage: skyminer-image apk --root DIR --repository DIR_OR_URL [--repository ...] --keys-dir DIR --arch ARCH add PKG...
       skyminer-image apk --root DIR info`;

/** `skyminer-image apk ...`: add packages to an image root, or list what it holds. Returns the exit code. */
export async function apkCommand(args: string[], io: CommandIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        root: { type: 'string' },
        repository: { type: 'string', multiple: true },
        'keys-dir': { type: 'string' },
        arch: { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    io.err(`skyminer-image apk: ${(err as Error).message}\n${APK_USAGE}\n`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  const [action, ...packages] = positionals;
  const usage = (why: string): number => {
    io.err(`skyminer-image apk: ${why}\n${APK_USAGE}\n`);
    return 2;
  };
  if (!v.root) return usage('--root is required');
  try {
    if (action === 'info') {
      for (const p of await listInstalled(v.root)) io.out(`${p.name}-${p.version}\n`);
      return 0;
    }
    if (action !== 'add')
      return usage(action ? `unknown action '${action}'` : 'an action (add or info) is required');
    if (!v.repository?.length) return usage('at least one --repository is required');
    if (!v['keys-dir']) return usage('--keys-dir is required');
    if (!v.arch) return usage('--arch is required');
    if (packages.length === 0) return usage('add needs at least one package');
    const r = await installPackages({
      root: v.root,
      repositories: v.repository,
      keysDir: v['keys-dir'],
      arch: v.arch,
      packages,
    });
    for (const p of r.installed) io.out(`installed ${p.name}-${p.version}\n`);
    if (r.pending.length) {
      io.out(
        `${r.pending.length} package script(s) queued for the first boot${r.firstBootService ? '' : ' (no OpenRC: run /usr/libexec/skyminer/first-boot-scripts yourself)'}\n`,
      );
    }
    io.out(`owners and modes: ${r.manifestPath}\n`);
    return 0;
  } catch (err) {
    if (err instanceof ApkError) {
      io.err(`skyminer-image apk: ${err.message}\n`);
      return 1;
    }
    io.err(`skyminer-image apk: ${(err as Error).message.split('\n')[0]}\n`);
    return 1;
  }
}
