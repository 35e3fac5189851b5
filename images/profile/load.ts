import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, TomlError } from 'smol-toml';
import type { z } from 'zod';
import { ConfigError, parseConfig } from '../../firmware/config/load.js';
import { profileSchema, type Profile } from './schema.js';

/** A profile that cannot be used; the message is one line naming the file and what was wrong. */
export class ProfileError extends Error {
  override readonly name = 'ProfileError';
}

/** images/boards/ in the source tree (this module runs from dist/images/profile/ or images/profile/). */
export function boardsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = here.includes(`${join('dist', 'images')}`)
    ? join(here, '..', '..', '..')
    : join(here, '..', '..');
  return join(root, 'images', 'boards');
}

export async function listProfiles(dir = boardsDir()): Promise<string[]> {
  return (await readdir(dir))
    .filter((f) => f.endsWith('.toml'))
    .map((f) => f.slice(0, -'.toml'.length))
    .sort();
}

/** Loads `images/boards/<name>.toml`, or a path to a .toml file. */
export async function loadProfile(nameOrPath: string, dir = boardsDir()): Promise<Profile> {
  const path = nameOrPath.endsWith('.toml') ? nameOrPath : join(dir, `${nameOrPath}.toml`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !nameOrPath.endsWith('.toml')) {
      const known = await listProfiles(dir).catch(() => []);
      throw new ProfileError(`no board profile "${nameOrPath}"; profiles: ${known.join(', ')}`);
    }
    throw new ProfileError(`${path}: cannot read (${code ?? String(err)})`);
  }
  const profile = parseProfileText(text, path);
  const expected = basename(path, '.toml');
  if (profile.name !== expected)
    throw new ProfileError(`${path}: name: "${profile.name}" differs from the file name "${expected}"`);
  return profile;
}

export function parseProfileText(text: string, source: string): Profile {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    if (err instanceof TomlError)
      throw new ProfileError(
        `${source}:${err.line}:${err.column}: not valid TOML: ${err.message.split('\n')[0]}`,
      );
    throw new ProfileError(`${source}: not valid TOML: ${String(err)}`);
  }
  const result = profileSchema.safeParse(doc, { reportInput: true });
  if (!result.success) throw new ProfileError(`${source}: ${describeIssue(result.error.issues[0]!)}`);
  const profile = result.data;
  if (profile.bootloader.kind === 'sunxi') {
    const { input, path } = profile.bootloader;
    if ((input === undefined) !== (path === undefined))
      throw new ProfileError(
        `${source}: bootloader: input and path go together (the package and the file in it)`,
      );
    if (profile.bootloader.fit_path !== undefined && input === undefined)
      throw new ProfileError(`${source}: bootloader.fit_path: needs the package (input) it is in`);
    if (profile.bootloader.offset >= profile.layout.first_partition_mib * 1024 * 1024)
      throw new ProfileError(`${source}: bootloader.offset: must lie before the first partition`);
  }
  try {
    parseConfig(profile.firmware_config, `${source}: firmware_config`);
  } catch (err) {
    if (err instanceof ConfigError) throw new ProfileError(err.message);
    throw err;
  }
  return profile;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    return `unknown key ${issue.keys.map((k) => (path ? `${path}.${k}` : k)).join(', ')}`;
  }
  const got = 'input' in issue && issue.input !== undefined ? `, got ${JSON.stringify(issue.input)}` : '';
  return `${path || '(top level)'}: ${issue.message}${got}`;
}
