import { open } from 'node:fs/promises';
import { parse, TomlError } from 'smol-toml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';

export const DEFAULT_CONFIG_PATH = '/etc/skyminer/skyminer.conf';

/** A config that cannot be used; the message is one line naming the file, the key path and what was expected. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Validates a parsed document against the schema, giving every default a value. */
export function parseConfig(doc: unknown, source = 'config'): Config {
  const result = configSchema.safeParse(doc, { reportInput: true });
  if (result.success) return result.data;
  throw new ConfigError(`${source}: ${describeIssue(result.error.issues[0]!)}`);
}

/** The built-in config the simulator uses, with overrides, validated like a file. */
export function defaultConfig(overrides: Record<string, unknown> = {}): Config {
  return parseConfig(overrides, 'built-in config');
}

/** Reads and validates a TOML config file. Nothing is written, whatever the outcome. */
export async function loadConfig(path = DEFAULT_CONFIG_PATH): Promise<Config> {
  let text: string;
  try {
    text = await readBounded(path, MAX_CONFIG_BYTES);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return parseConfigText(text, path);
}

/** A config is a few kilobytes; anything past this (a device such as /dev/zero, a wrong file) is refused. */
export const MAX_CONFIG_BYTES = 1 << 20;

/** Reads at most `max` bytes, refusing a longer file without reading the rest of it. */
async function readBounded(path: string, max: number): Promise<string> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(max + 1);
    let size = 0;
    while (size <= max) {
      const { bytesRead } = await file.read(buffer, size, max + 1 - size, null);
      if (bytesRead === 0) break;
      size += bytesRead;
    }
    if (size > max) throw new ConfigError(`${path}: longer than ${max} bytes; not a config file`);
    return buffer.subarray(0, size).toString('utf8');
  } finally {
    await file.close();
  }
}

export function parseConfigText(text: string, source: string): Config {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    if (err instanceof TomlError) {
      throw new ConfigError(`${source}:${err.line}:${err.column}: not valid TOML: ${firstLine(err.message)}`);
    }
    throw new ConfigError(`${source}: not valid TOML: ${String(err)}`);
  }
  return parseConfig(doc, source);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k));
    return `unknown key ${keys.join(', ')}`;
  }
  const where = path || '(top level)';
  const got = 'input' in issue && issue.input !== undefined ? `, got ${JSON.stringify(issue.input)}` : '';
  return `${where}: ${issue.message}${got}`;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
