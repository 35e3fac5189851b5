// Pinned inputs: fetched once into .cache/images/ by their ordinary clients (apt-get download, npm pack),
// checked against the checksum in images/inputs.lock.json, and used from the cache afterwards (offline).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { run } from './tools.js';

const debInput = z.strictObject({
  kind: z.literal('deb'),
  package: z.string().min(1),
  version: z.string().min(1),
  arch: z.enum(['arm64', 'armhf', 'all']),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
const npmInput = z.strictObject({
  kind: z.literal('npm'),
  package: z.string().min(1),
  version: z.string().min(1),
  integrity: z.string().regex(/^sha512-/),
});
/**
 * A source archive (`git archive` of a tag, gzipped): pinned by the sha256 of the uncompressed tar, which
 * `git archive` output and the forge's tag archive share even where their gzip bytes differ.
 */
const sourceInput = z.strictObject({
  kind: z.literal('source'),
  package: z.string().min(1),
  version: z.string().regex(/^v\d+\.\d+\.\d+$/, 'expected a tag such as v1.3.28'),
  commit: z.string().regex(/^[0-9a-f]{40}$/),
  /** The commit's date, as the upstream release stamps its build info. */
  date: z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
  /** The archive's file name, and the directory every path in it starts with. */
  file: z.string().regex(/^[A-Za-z0-9._-]+\.tar\.gz$/),
  prefix: z.string().regex(/^[A-Za-z0-9._-]+$/),
  tar_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Where a machine that reaches the forge gets it. */
  url: z.string().url(),
  /** Copies kept beside the repository, relative to the main checkout (for machines without the forge). */
  mirrors: z.array(z.string().min(1)).default([]),
});
const lockSchema = z.strictObject({
  comment: z.string().optional(),
  inputs: z.record(z.string(), z.discriminatedUnion('kind', [debInput, npmInput, sourceInput])),
});
export type SourceInput = z.infer<typeof sourceInput>;
export type Input = z.infer<typeof lockSchema>['inputs'][string];
export type InputLock = Record<string, Input>;

export class InputError extends Error {
  override readonly name = 'InputError';
}

export async function loadLock(path: string): Promise<InputLock> {
  const result = lockSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
  if (!result.success) {
    const i = result.error.issues[0]!;
    throw new InputError(`${path}: ${i.path.join('.')}: ${i.message}`);
  }
  return result.data.inputs;
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function sha512Base64(path: string): Promise<string> {
  const h = createHash('sha512');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return `sha512-${h.digest('base64')}`;
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

export function describeInput(i: Input): string {
  if (i.kind === 'source') return `${i.package} ${i.version} (source)`;
  return i.kind === 'deb' ? `${i.package} ${i.version} (${i.arch})` : `${i.package}@${i.version} (npm)`;
}

/** The cached file of a pinned input, fetching it first if it is not there yet. */
export async function fetchInput(
  lock: InputLock,
  key: string,
  cacheDir: string,
  log: (m: string) => void,
): Promise<string> {
  const input = lock[key];
  if (!input) throw new InputError(`no pinned input "${key}" in images/inputs.lock.json`);
  if (input.kind === 'source')
    throw new InputError(`${key} is a source archive: images/stages/skywire.ts fetches and builds it`);
  const dir = join(cacheDir, input.kind === 'deb' ? 'debs' : 'npm');
  await mkdir(dir, { recursive: true });
  const name =
    input.kind === 'deb'
      ? `${input.package}_${input.version.replace(/:/g, '%3a')}_${input.arch}.deb`
      : `${input.package.replace(/\//g, '-')}-${input.version}.tgz`;
  const path = join(dir, name);
  if (await exists(path)) {
    await verify(input, path);
    return path;
  }
  log(`fetching ${describeInput(input)}`);
  const tmp = await mkdtemp(join(dir, '.fetch-'));
  try {
    if (input.kind === 'deb') {
      await run('apt-get', ['download', '-q', `${input.package}:${input.arch}=${input.version}`], {
        cwd: tmp,
      }).catch((err: Error) => {
        throw new InputError(
          `cannot download pinned input ${describeInput(input)}: ${err.message} (run \`make image-deps\` to add the ${input.arch} architecture; if the archive no longer has this version, update it and its sha256 in images/inputs.lock.json)`,
        );
      });
    } else {
      await run('npm', ['pack', '--silent', `${input.package}@${input.version}`, '--pack-destination', tmp], {
        env: { HOME: process.env.HOME ?? '/root' },
      }).catch((err: Error) => {
        throw new InputError(`cannot download pinned input ${describeInput(input)}: ${err.message}`);
      });
    }
    const got = (await readdir(tmp)).filter((f) => !f.startsWith('.'));
    if (got.length !== 1) throw new InputError(`fetching ${describeInput(input)} gave ${got.length} files`);
    await verify(input, join(tmp, got[0]!));
    await rename(join(tmp, got[0]!), path);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return path;
}

async function verify(input: Exclude<Input, SourceInput>, path: string): Promise<void> {
  if (input.kind === 'deb') {
    const sum = await sha256File(path);
    if (sum !== input.sha256)
      throw new InputError(
        `${describeInput(input)}: sha256 ${sum} differs from the pinned ${input.sha256} (${path})`,
      );
  } else {
    const sum = await sha512Base64(path);
    if (sum !== input.integrity)
      throw new InputError(
        `${describeInput(input)}: integrity ${sum} differs from the pinned ${input.integrity}`,
      );
  }
}

/** Unpacks a fetched input once into the cache (keyed by the pinned checksum); returns the directory. */
export async function unpackInput(
  lock: InputLock,
  key: string,
  cacheDir: string,
  log: (m: string) => void,
): Promise<string> {
  const input = lock[key]!;
  if (input.kind === 'source') throw new InputError(`${key} is a source archive, not a package to unpack`);
  const file = await fetchInput(lock, key, cacheDir, log);
  const id =
    input.kind === 'deb'
      ? input.sha256.slice(0, 16)
      : createHash('sha256').update(input.integrity).digest('hex').slice(0, 16);
  const dest = join(cacheDir, 'unpacked', `${key}-${id}`);
  if (await exists(join(dest, '.complete'))) return dest;
  // Unpacked beside and renamed into place, so a concurrent build sees either nothing or the whole tree.
  await mkdir(join(cacheDir, 'unpacked'), { recursive: true });
  const tmp = await mkdtemp(`${dest}.tmp-`);
  if (input.kind === 'deb') await run('dpkg-deb', ['-x', file, tmp]);
  else await run('tar', ['-xzf', file, '-C', tmp, '--no-same-owner']);
  await writeFile(join(tmp, '.complete'), '');
  if (await exists(join(dest, '.complete'))) {
    // Another build unpacked the same input meanwhile: use theirs.
    await rm(tmp, { recursive: true, force: true });
    return dest;
  }
  await rm(dest, { recursive: true, force: true });
  await rename(tmp, dest).catch(async (err: NodeJS.ErrnoException) => {
    if (!(await exists(join(dest, '.complete')))) throw err;
    await rm(tmp, { recursive: true, force: true });
  });
  return dest;
}
