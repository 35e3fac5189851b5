import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { compareVersions } from '../../firmware/rewards/version.js';
import { BundleRefused } from '../../firmware/update/bundle.js';
import { loadSigningKey, loadTrustedKeys, UpdateKeyError } from '../../firmware/update/keys.js';
import { readVisorBundleHeader, VISOR_ARCHES, type VisorArch } from '../../firmware/update/visor-bundle.js';
import { BundleSourceError } from '../bundle/make.js';
import { cachedSkywire, makeVisorBundle } from '../bundle/visor.js';
import { repoRoot } from '../build.js';
import { defaultSigningKey } from './bundle-command.js';
import type { CommandIo } from './skyminer-image.js';

export const VISOR_BUNDLE_USAGE = `usage: skyminer-image visor-bundle --arch arm64|arm|amd64 [--binary FILE --version vX.Y.Z] [--key FILE] [--out FILE]
       skyminer-image visor-bundle verify FILE --arch ARCH [--keys DIR|FILE] [--running-version vX.Y.Z]`;

export async function visorBundleCommand(args: string[], io: CommandIo): Promise<number> {
  const fail = (m: string, code = 1) => {
    io.err(`skyminer-image visor-bundle: ${m.split('\n')[0]}\n`);
    return code;
  };
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        arch: { type: 'string' },
        binary: { type: 'string' },
        version: { type: 'string' },
        key: { type: 'string' },
        keys: { type: 'string' },
        out: { type: 'string' },
        'running-version': { type: 'string' },
      },
    });
  } catch (err) {
    return fail(`${(err as Error).message}\n${VISOR_BUNDLE_USAGE}`, 2);
  }
  const { values: v, positionals } = parsed;
  const arch = v.arch as VisorArch | undefined;
  if (!arch || !(VISOR_ARCHES as readonly string[]).includes(arch))
    return fail(`--arch: expected one of ${VISOR_ARCHES.join(', ')}, got ${JSON.stringify(v.arch ?? '')}`, 2);
  try {
    if (positionals[0] === 'verify') {
      if (positionals.length !== 2) return fail('verify: name one bundle file', 2);
      const keys = await loadTrustedKeys(v.keys ?? `${defaultSigningKey()}.pub`);
      const { manifest: m } = await readVisorBundleHeader(positionals[1]!, {
        keys,
        arch,
        runningVersion: v['running-version'] ?? null,
        compare: compareVersions,
      });
      io.out(`${positionals[1]}: skywire ${m.version} for ${m.arch}, signed by ${m.key_id}\n`);
      return 0;
    }
    if (positionals.length) return fail(`unexpected ${positionals[0]}\n${VISOR_BUNDLE_USAGE}`, 2);
    let src: { binary: string; version: string } | null;
    if (v.binary) {
      if (!v.version || !/^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(v.version))
        return fail('--binary needs --version, a Skywire version such as v1.3.29', 2);
      src = { binary: v.binary, version: v.version };
    } else {
      src = await cachedSkywire(join(repoRoot(), '.cache', 'images'), arch);
      if (!src) return fail(`no Skywire built for ${arch} in .cache/images/skywire (make skywire builds it)`);
      if (v.version) src = { ...src, version: v.version };
    }
    const key = await loadSigningKey(v.key ?? defaultSigningKey());
    const out = v.out ?? `skywire-${src.version}-${arch}.visor`;
    const created = Number(process.env.SOURCE_DATE_EPOCH ?? Math.floor(Date.now() / 1000));
    const made = await makeVisorBundle({ ...src, arch }, key, out, created);
    io.out(
      `${made.file}: skywire ${src.version} for ${arch}, ${made.bytes} bytes, signed by ${made.manifest.key_id}\n`,
    );
    return 0;
  } catch (err) {
    if (err instanceof BundleRefused) return fail(`refused: ${err.message}`);
    if (err instanceof BundleSourceError || err instanceof UpdateKeyError) return fail(err.message);
    throw err;
  }
}
