import { generateKeyPairSync } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BundleRefused, readBundle } from '../../firmware/update/bundle.js';
import {
  keyId,
  loadSigningKey,
  loadTrustedKeys,
  publicKeyPem,
  UpdateKeyError,
} from '../../firmware/update/keys.js';
import { makeBundle, rootOfImage, BundleSourceError } from '../bundle/make.js';
import { repoRoot } from '../build.js';
import type { CommandIo } from './skyminer-image.js';

export const BUNDLE_USAGE = `usage: skyminer-image bundle IMAGE [--key FILE] [--out FILE]
       skyminer-image bundle verify FILE [--keys DIR|FILE] [--profile NAME] [--running-version VERSION]
       skyminer-image bundle key FILE      (a new Ed25519 signing key; its public half in FILE.pub)`;

/** Where `make image` keeps the build host's signing key unless told otherwise. */
export function defaultSigningKey(): string {
  return join(repoRoot(), '.cache', 'update-signing.pem');
}

/** A new signing key; an existing file is never overwritten (it may be the key every board trusts). */
export async function createSigningKey(file: string): Promise<string> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  await writeFile(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
  await writeFile(`${file}.pub`, publicKeyPem(publicKey));
  return keyId(publicKey);
}

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>) {
  return parseArgs({ args, allowPositionals: true, strict: true, options });
}

export async function bundleCommand(args: string[], io: CommandIo): Promise<number> {
  const fail = (m: string, code = 1) => {
    io.err(`skyminer-image bundle: ${m.split('\n')[0]}\n`);
    return code;
  };
  const sub = args[0];
  try {
    if (sub === 'verify') {
      const { values: v, positionals } = parse(args.slice(1), {
        keys: { type: 'string' },
        profile: { type: 'string' },
        'running-version': { type: 'string' },
      });
      if (positionals.length !== 1) return fail(`verify: name one bundle file\n${BUNDLE_USAGE}`, 2);
      const keys = await loadTrustedKeys(typeof v.keys === 'string' ? v.keys : defaultSigningKey());
      const file = positionals[0]!;
      try {
        const m = await readBundle(createReadStream(file), {
          keys,
          ...(typeof v.profile === 'string' ? { profile: v.profile } : {}),
          ...(typeof v['running-version'] === 'string' ? { runningVersion: v['running-version'] } : {}),
        });
        io.out(`${basename(file)}: firmware ${m.firmware} for ${m.profile}, signed by key ${m.key_id}\n`);
        return 0;
      } catch (err) {
        if (err instanceof BundleRefused) return fail(`${basename(file)} refused: ${err.message}`);
        const code = (err as NodeJS.ErrnoException).code;
        if (code) return fail(`${file}: cannot read (${code})`);
        throw err;
      }
    }
    if (sub === 'key') {
      const { positionals } = parse(args.slice(1), {});
      if (positionals.length !== 1) return fail(`key: name the file for the new key\n${BUNDLE_USAGE}`, 2);
      const file = positionals[0]!;
      const id = await createSigningKey(file).catch((err: NodeJS.ErrnoException) => {
        throw new UpdateKeyError(
          err.code === 'EEXIST'
            ? `${file} exists; a signing key is never overwritten`
            : `${file}: ${err.code ?? err.message}`,
        );
      });
      io.out(`${file}: key ${id} (public half in ${file}.pub)\n`);
      return 0;
    }
    const { values: v, positionals } = parse(args, { key: { type: 'string' }, out: { type: 'string' } });
    if (positionals.length !== 1) return fail(`name one card image\n${BUNDLE_USAGE}`, 2);
    const image = positionals[0]!;
    const key = await loadSigningKey(typeof v.key === 'string' ? v.key : defaultSigningKey());
    const src = await rootOfImage(image);
    const out =
      typeof v.out === 'string'
        ? v.out
        : join(dirname(image), `skyminer-${src.firmware}-${src.profile}.bundle`);
    const made = await makeBundle(src, key, out, sourceDate());
    io.out(`${made.file}\n`);
    return 0;
  } catch (err) {
    if (err instanceof UpdateKeyError || err instanceof BundleSourceError) return fail(err.message);
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE')
      return fail(`${e.message}\n${BUNDLE_USAGE}`, 2);
    return fail(e.message);
  }
}

function sourceDate(): number {
  const env = process.env.SOURCE_DATE_EPOCH;
  return env && /^\d+$/.test(env) ? Number(env) : Math.floor(Date.now() / 1000);
}
