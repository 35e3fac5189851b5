import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildImage, repoRoot } from '../build.js';
import { plainProgress, TerminalProgress } from './progress.js';
import type { CommandIo } from './skyminer-image.js';

export const BUILD_USAGE = `usage: skyminer-image build BOARD [--out DIR] [--cache DIR] [--bootloader FILE]
                            [--password-hash HASH] [--console-password-hash HASH] [--ssh-key KEY]...
                            [--box-secret FILE] [--signing-key FILE] [--skywire-source FILE|URL] [--skywire-services FILE]
                            [--no-skywire]
                            [--alpine-repository DIR|URL]... [--alpine-keys DIR] [--no-compress]`;

/** One line per known failure (bad profile, missing bootloader or tool, unreachable input); 1 as exit code. */
export async function buildCommand(args: string[], io: CommandIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        out: { type: 'string' },
        cache: { type: 'string' },
        bootloader: { type: 'string' },
        'password-hash': { type: 'string' },
        'console-password-hash': { type: 'string' },
        'ssh-key': { type: 'string', multiple: true },
        'box-secret': { type: 'string' },
        'signing-key': { type: 'string' },
        'alpine-repository': { type: 'string', multiple: true },
        'alpine-keys': { type: 'string' },
        'no-compress': { type: 'boolean' },
        'skywire-source': { type: 'string' },
        'skywire-services': { type: 'string' },
        'no-skywire': { type: 'boolean' },
      },
    });
  } catch (err) {
    io.err(`skyminer-image build: ${(err as Error).message}\n${BUILD_USAGE}\n`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  if (positionals.length !== 1) {
    io.err(`skyminer-image build: name one board profile (images/boards/*.toml)\n${BUILD_USAGE}\n`);
    return 2;
  }
  const repo = repoRoot();
  const progress = io.terminal ? new TerminalProgress(io.terminal) : plainProgress({ write: io.err });
  try {
    const r = await buildImage({
      profile: positionals[0]!,
      repo,
      outDir: v.out ?? join(repo, 'out'),
      cacheDir: v.cache ?? join(repo, '.cache', 'images'),
      ...(v.bootloader ? { bootloader: v.bootloader } : {}),
      ...(v['password-hash'] ? { passwordHash: v['password-hash'] } : {}),
      ...(v['console-password-hash'] ? { consolePasswordHash: v['console-password-hash'] } : {}),
      sshKeys: v['ssh-key'] ?? [],
      ...(v['box-secret'] ? { boxSecretFile: v['box-secret'] } : {}),
      ...(v['signing-key'] ? { signingKey: v['signing-key'] } : {}),
      ...(v['alpine-repository'] ? { alpineRepositories: v['alpine-repository'] } : {}),
      ...(v['alpine-keys'] ? { alpineKeysDir: v['alpine-keys'] } : {}),
      compress: !v['no-compress'],
      ...(v['skywire-source'] ? { skywireSource: v['skywire-source'] } : {}),
      ...(v['skywire-services'] ? { skywireServices: v['skywire-services'] } : {}),
      skywire: !v['no-skywire'],
      log: (m) => progress.line(`skyminer-image: ${m}`),
      progress: (fraction, detail) => progress.update(fraction, detail),
    });
    progress.end();
    io.out(`${r.image}\n`);
    return 0;
  } catch (err) {
    progress.end();
    io.err(`skyminer-image build: ${(err as Error).message.split('\n')[0]}\n`);
    return 1;
  }
}
