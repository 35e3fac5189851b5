// A visor's config, made by Skywire's own `config gen` with no hands: the manager's visor is the hypervisor, with a
// key pair the firmware made first (so its public key is known before it starts); every other visor trusts only
// that key. Offline, `config gen` needs the shipped services file (`--nofetch -S`), and without one it writes
// nothing and still exits 0: the file is checked, never assumed.
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeFileAtomic } from '../lib/files.js';

/** Where the image keeps Skywire, and the paths `config gen -p` writes into a config. */
export const SKYWIRE_PACKAGE_DIR = '/opt/skywire';

export interface KeyPair {
  pk: string;
  sk: string;
}

export class VisorConfigError extends Error {
  override readonly name = 'VisorConfigError';
}

const PK = /^0[23][0-9a-f]{64}$/;
const SK = /^[0-9a-f]{64}$/;

/** Reads `skywire cli config gen-keys` output: the public key, then the secret key, one per line. */
export function parseKeyPair(text: string): KeyPair {
  const [pk, sk] = text.trim().split(/\s+/);
  if (!pk || !PK.test(pk) || !sk || !SK.test(sk))
    throw new VisorConfigError('skywire cli config gen-keys: expected a public and a secret key');
  return { pk, sk };
}

export interface VisorConfigSpec {
  /** The manager's visor hosts the hypervisor; the others trust exactly one hypervisor key. */
  role: 'hypervisor' | 'visor';
  keys: KeyPair;
  /** Required for a visor: the hypervisor's public key, as received over the firmware's authenticated channel. */
  hypervisorPk?: string;
  /** The services file shipped in the image (`/opt/skywire/services-config.json`). */
  servicesFile: string;
  out: string;
  /** Apps the visor must not start (comma list for `-g`). */
  disableApps?: readonly string[];
}

/** The `skywire` arguments that write the config (pure, so the exact command is tested). */
export function configGenArgs(spec: VisorConfigSpec): string[] {
  if (spec.role === 'visor' && !(spec.hypervisorPk && PK.test(spec.hypervisorPk)))
    throw new VisorConfigError('a visor config needs the hypervisor public key (66 hex digits)');
  if (!SK.test(spec.keys.sk)) throw new VisorConfigError('the visor secret key must be 64 hex digits');
  return [
    'cli',
    'config',
    'gen',
    '-p',
    ...(spec.role === 'hypervisor' ? ['-i'] : ['-j', spec.hypervisorPk!]),
    '--nofetch',
    '-S',
    spec.servicesFile,
    '-s',
    spec.keys.sk,
    ...(spec.disableApps?.length ? ['-g', spec.disableApps.join(',')] : []),
    '-o',
    spec.out,
    '-w',
    '-f',
  ];
}

/**
 * Moves a `-p` config's package paths from /opt/skywire to `dir`, and the dmsgpty socket from /tmp into it (so
 * visors sharing a filesystem, as in tests, never share a socket). Returns a new object.
 */
export function relocateConfig(config: Record<string, unknown>, dir: string): Record<string, unknown> {
  const move = (v: unknown): unknown => {
    if (typeof v === 'string') {
      if (v === '/tmp/dmsgpty.sock') return join(dir, 'dmsgpty.sock');
      return v === SKYWIRE_PACKAGE_DIR || v.startsWith(`${SKYWIRE_PACKAGE_DIR}/`)
        ? dir + v.slice(SKYWIRE_PACKAGE_DIR.length)
        : v;
    }
    if (Array.isArray(v)) return v.map(move);
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, move(x)]));
    return v;
  };
  return move(config) as Record<string, unknown>;
}

export interface MadeConfig {
  path: string;
  pk: string;
  hypervisors: string[];
}

/** Checks what `config gen` wrote: our key, and for a visor exactly the one hypervisor key we gave. */
export function checkConfig(config: Record<string, unknown>, spec: VisorConfigSpec): string[] {
  if (config.pk !== spec.keys.pk)
    throw new VisorConfigError(`config gen wrote public key ${String(config.pk)}, not ${spec.keys.pk}`);
  const hvs = Array.isArray(config.hypervisors) ? (config.hypervisors as unknown[]).map(String) : [];
  if (spec.role === 'visor' && (hvs.length !== 1 || hvs[0] !== spec.hypervisorPk))
    throw new VisorConfigError(
      `config gen wrote hypervisors ${JSON.stringify(hvs)}, not [${spec.hypervisorPk}]`,
    );
  if (spec.role === 'hypervisor' && !(config.hypervisor && typeof config.hypervisor === 'object'))
    throw new VisorConfigError('config gen -i wrote no hypervisor section');
  return hvs;
}

export interface SkywireTool {
  /** The skywire binary. */
  binary: string;
  /** Run with this working directory (config gen resolves some defaults against it). */
  cwd?: string;
  /** Prefix for the command (e.g. ['ip', 'netns', 'exec', NS] in tests). */
  wrap?: readonly string[];
}

const run = promisify(execFile);

async function skywire(tool: SkywireTool, args: string[]): Promise<string> {
  const [cmd, ...pre] = [...(tool.wrap ?? []), tool.binary];
  const { stdout } = await run(cmd!, [...pre, ...args], {
    ...(tool.cwd ? { cwd: tool.cwd } : {}),
    timeout: 60_000,
    maxBuffer: 8 << 20,
  }).catch((err: Error & { stderr?: string }) => {
    const why = (err.stderr || err.message).trim().split('\n').pop();
    throw new VisorConfigError(`skywire ${args.slice(0, 3).join(' ')} failed: ${why}`);
  });
  return stdout;
}

/** A fresh key pair from `skywire cli config gen-keys`. */
export async function generateKeys(tool: SkywireTool): Promise<KeyPair> {
  return parseKeyPair(await skywire(tool, ['cli', 'config', 'gen-keys']));
}

/**
 * Writes the visor config with `config gen`, checks it (the file exists, our key, the trusted hypervisor), moves its
 * paths to `dir` when that is not /opt/skywire, and replaces the config atomically.
 */
export async function makeVisorConfig(
  tool: SkywireTool,
  spec: VisorConfigSpec,
  dir = SKYWIRE_PACKAGE_DIR,
  options: { binPath?: string } = {},
): Promise<MadeConfig> {
  await mkdir(dir, { recursive: true });
  const scratch = `${spec.out}.gen-${process.pid}.json`;
  await skywire(tool, configGenArgs({ ...spec, out: scratch }));
  const text = await readFile(scratch, 'utf8').catch(() => {
    throw new VisorConfigError(
      `skywire cli config gen wrote no ${scratch} (is ${spec.servicesFile} there? without it config gen writes nothing)`,
    );
  });
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new VisorConfigError(`skywire cli config gen wrote a ${scratch} that is not JSON`);
  }
  const hypervisors = checkConfig(config, spec);
  if (dir !== SKYWIRE_PACKAGE_DIR) config = relocateConfig(config, dir);
  const launcher = config.launcher as Record<string, unknown> | undefined;
  if (options.binPath && launcher && typeof launcher === 'object') launcher.bin_path = options.binPath;
  await writeFileAtomic(spec.out, JSON.stringify(config, null, 2) + '\n', 0o600);
  await rm(scratch, { force: true });
  return { path: spec.out, pk: spec.keys.pk, hypervisors };
}
