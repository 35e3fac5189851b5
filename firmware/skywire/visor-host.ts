// Where a board's visor runs: the real `skywire` binary with its keys and config on the data partition (this file),
// or the simulator's stand-in (firmware/sim/sim-visor.ts). The board's visor service (board-visor.ts) only speaks
// to this interface.
import { spawn } from 'node:child_process';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { access, mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { writeFileAtomic } from '../lib/files.js';
import { sumTransportLog, transportLogPath, type TransportBytes } from './transport-log.js';
import {
  generateKeys,
  makeVisorConfig,
  SKYWIRE_PACKAGE_DIR,
  VisorConfigError,
  type KeyPair,
  type SkywireTool,
} from './visor-config.js';
import { parseConnectedHypervisors, parseVisorInfo, VisorInfoError, type VisorInfo } from './visor-info.js';

/** What the service needs of a visor process (a ChildProcess has it; the simulator's stand-in too). */
export interface VisorProcess {
  readonly pid?: number | undefined;
  kill(signal?: NodeJS.Signals): boolean;
  once(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
}

/** The manager's visor hosts the hypervisor; every other one trusts the key the manager sent. */
export type VisorRole = 'hypervisor' | 'visor';

/** What the present config says: its role, and the hypervisor key it trusts (the hypervisor's: its own). */
export interface ConfiguredVisor {
  role: VisorRole;
  hypervisorPk: string;
}

export interface VisorHost {
  /** The visor's key pair: made once (before any config, so the manager's public key is known first), then kept. */
  keys(): Promise<KeyPair>;
  /** The present config, or null when there is none (or it is not one this host wrote). */
  configured(): Promise<ConfiguredVisor | null>;
  /** (Re)writes the config for `role`; a visor's trusts exactly `hypervisorPk`. */
  configure(role: VisorRole, hypervisorPk: string): Promise<void>;
  spawn(): VisorProcess;
  /** The running visor's own summary over its RPC; throws when it does not answer. */
  info(): Promise<VisorInfo>;
  /** Today's (UTC) transport bytes from the visor's own logs; null when there are none yet. */
  traffic(nowMs: number): Promise<TransportBytes | null>;
  /**
   * Ends a visor left running by an earlier agent (killed before it could stop its visor) and waits for it to
   * exit: a second visor would die on its ports.
   */
  reclaim?(): Promise<void>;
  /** The address in the visor's own `reward.txt`; null when there is none (or not a readable one). */
  rewardAddress?(): Promise<string | null>;
  /** Writes the visor's `reward.txt` whole (the visor reads it at every request, running or not). */
  setRewardAddress?(address: string): Promise<void>;
}

export interface SkywireHostOptions {
  /** The skywire binary (`/opt/skywire/bin/skywire` in the image). */
  binary: string;
  /** Keys, config and the visor's local files: on the data partition, so they outlive updates. */
  dir: string;
  /** The services file the image ships (`/opt/skywire/services-config.json`): offline config gen needs it. */
  servicesFile: string;
  /** Prefix for every skywire command (tests: ['ip', 'netns', 'exec', NS]). */
  wrap?: readonly string[];
  /** Apps the visor must not start. */
  disableApps?: readonly string[];
  /** How long `cli visor info` may take before the visor counts as not answering. */
  infoTimeoutMs?: number;
  /** Where the visor's output goes (a file descriptor, e.g. the agent's stderr); default: discarded. */
  output?: number | 'ignore';
}

const run = promisify(execFile);

/** The key file: the visor's key pair as JSON, readable by root only. */
export const KEYS_FILE = 'visor-keys.json';
export const CONFIG_FILE = 'skywire.json';
/** The visor's reward address, in its local folder (skywire's visorconfig.RewardFile). */
export const REWARD_FILE = 'reward.txt';

/** The real visor: `skywire visor -c <dir>/skywire.json`, its keys and config under `dir`. */
export class SkywireHost implements VisorHost {
  readonly config: string;
  private cached: KeyPair | null = null;

  constructor(private readonly options: SkywireHostOptions) {
    this.config = join(options.dir, CONFIG_FILE);
  }

  /**
   * The binary to run now: `<dir>/current/skywire` once a signed visor bundle was installed (the update's
   * slots live beside the keys, see update/visor-slots), else the image's. Read at each start, so a swapped or
   * fallen-back binary is what the next restart runs.
   */
  get binary(): string {
    const current = join(this.options.dir, 'current', 'skywire');
    return existsSync(current) ? current : this.options.binary;
  }

  private tool(): SkywireTool {
    return {
      binary: this.binary,
      cwd: this.options.dir,
      ...(this.options.wrap ? { wrap: this.options.wrap } : {}),
    };
  }

  async keys(): Promise<KeyPair> {
    if (this.cached) return this.cached;
    const file = join(this.options.dir, KEYS_FILE);
    const text = await readFile(file, 'utf8').catch(() => null);
    if (text !== null) {
      const k = JSON.parse(text) as Partial<KeyPair>;
      if (typeof k.pk === 'string' && typeof k.sk === 'string') return (this.cached = { pk: k.pk, sk: k.sk });
      throw new VisorConfigError(`${file}: not a key pair; move it away to make new keys`);
    }
    await mkdir(this.options.dir, { recursive: true, mode: 0o700 });
    const made = await generateKeys(this.tool());
    await writeFileAtomic(file, JSON.stringify(made) + '\n', 0o600);
    return (this.cached = made);
  }

  async configured(): Promise<ConfiguredVisor | null> {
    const text = await readFile(this.config, 'utf8').catch(() => null);
    if (text === null) return null;
    try {
      const c = JSON.parse(text) as { pk?: unknown; hypervisors?: unknown; hypervisor?: unknown };
      const keys = await this.keys();
      if (c.pk !== keys.pk) return null;
      if (c.hypervisor && typeof c.hypervisor === 'object')
        return { role: 'hypervisor', hypervisorPk: keys.pk };
      const hvs = Array.isArray(c.hypervisors) ? c.hypervisors : [];
      return hvs.length === 1 && typeof hvs[0] === 'string' ? { role: 'visor', hypervisorPk: hvs[0] } : null;
    } catch {
      return null;
    }
  }

  async configure(role: VisorRole, hypervisorPk: string): Promise<void> {
    const keys = await this.keys();
    await access(this.options.servicesFile).catch(() => {
      throw new VisorConfigError(
        `${this.options.servicesFile} missing: skywire cannot write a config offline without it`,
      );
    });
    await makeVisorConfig(
      this.tool(),
      {
        role,
        keys,
        ...(role === 'visor' ? { hypervisorPk } : {}),
        servicesFile: this.options.servicesFile,
        out: this.config,
        ...(this.options.disableApps ? { disableApps: this.options.disableApps } : {}),
      },
      this.options.dir,
      // The apps start from the binary's folder in the image; only the visor's own files move to the data partition.
      { binPath: dirname(this.options.binary) },
    );
  }

  spawn(): VisorProcess {
    const [cmd, ...pre] = [...(this.options.wrap ?? []), this.binary];
    const out = this.options.output ?? 'ignore';
    const child = spawn(cmd!, [...pre, 'visor', '-c', this.config], {
      cwd: this.options.dir,
      stdio: ['ignore', out, out],
    });
    if (child.pid !== undefined) void writeFileAtomic(this.pidFile, `${child.pid}\n`).catch(() => undefined);
    return child;
  }

  private get pidFile(): string {
    return join(this.options.dir, 'visor.pid');
  }

  async reclaim(): Promise<void> {
    const pid = Number((await readFile(this.pidFile, 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(pid) || pid <= 1) return;
    // Only a skywire process still running this config is ours: a pid reused by another program is left alone.
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(this.config) && cmdline.includes('visor')) {
      const alive = () =>
        readFile(`/proc/${pid}/cmdline`, 'utf8').then(
          (c) => c === cmdline,
          () => false,
        );
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 150 && (await alive()); i++) {
        if (i === 100) process.kill(pid, 'SIGKILL');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await rm(this.pidFile, { force: true });
  }

  async info(): Promise<VisorInfo> {
    const info = parseVisorInfo(await this.cli(['visor', 'info']));
    if (info.dmsgConnected) return info;
    // A worker's tracker reads zeros even while connected: its connected hypervisor tells instead.
    const connected = parseConnectedHypervisors(await this.cli(['visor', 'hv', 'pk']));
    return { ...info, connectedHypervisors: connected, dmsgConnected: connected.length > 0 };
  }

  /** One `skywire cli ... --json` call to the visor's RPC, bounded in time (a hung visor never answers). */
  private async cli(args: string[]): Promise<string> {
    const [cmd, ...pre] = [...(this.options.wrap ?? []), this.binary];
    const { stdout } = await run(cmd!, [...pre, 'cli', ...args, '--json'], {
      timeout: this.options.infoTimeoutMs ?? 10_000,
      killSignal: 'SIGKILL',
    }).catch((err: Error & { stdout?: string }) => {
      // The CLI exits 1 with its error as JSON on stdout.
      if (err.stdout) return { stdout: err.stdout };
      throw new VisorInfoError(`skywire cli ${args.join(' ')}: ${err.message.split('\n')[0]}`);
    });
    return stdout;
  }

  async rewardAddress(): Promise<string | null> {
    const text = await readFile(join(this.options.dir, 'local', REWARD_FILE), 'utf8').catch(() => null);
    const address = text?.trim();
    return address ? address : null;
  }

  async setRewardAddress(address: string): Promise<void> {
    const local = join(this.options.dir, 'local');
    await mkdir(local, { recursive: true });
    // As `skywire cli reward` writes it: the address alone, no newline, readable by the visor's apps.
    await writeFileAtomic(join(local, REWARD_FILE), address, 0o644);
  }

  async traffic(nowMs: number): Promise<TransportBytes | null> {
    const local = join(this.options.dir, 'local');
    const text = await readFile(transportLogPath(local, nowMs), 'utf8').catch(() => null);
    return text === null ? null : sumTransportLog(text);
  }
}

/** The data-partition folder for Skywire under the firmware's state directory. */
export function skywireDataDir(stateDir: string): string {
  return join(stateDir, 'skywire');
}

/** The image's Skywire: binary and services file. */
export const SKYWIRE_BINARY = join(SKYWIRE_PACKAGE_DIR, 'bin', 'skywire');
export const SKYWIRE_SERVICES_FILE = join(SKYWIRE_PACKAGE_DIR, 'services-config.json');
