// The simulator's visor: the board's visor service runs it exactly as it runs `skywire visor` on a box, but the
// process is a stand-in that drives the board's emulated visor (the one the emulated hypervisor lists). Its keys
// and config outlive the board's boots, as the data partition does.
//
// With a data folder, the stand-in runs the binary the board's visor slots make current (update/visor-slots.ts, as
// SkywireHost does), so a visor bundle is installed, swapped and fallen back from by the same code as on a box. The
// simulator's "binaries" are small text programs (simVisorBinary): the version they run as, and whether they die
// some time after starting, as a bad build does.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { VisorProcess, VisorHost, ConfiguredVisor, VisorRole } from '../skywire/visor-host.js';
import { emulatedPk, type EmulatedVisor } from '../skywire/emulated-visor.js';
import type { KeyPair } from '../skywire/visor-config.js';
import type { VisorInfo } from '../skywire/visor-info.js';
import type { TransportBytes } from '../skywire/transport-log.js';

/** One board's Skywire files: what survives its reboots. */
export interface SimVisorDisk {
  config: ConfiguredVisor | null;
  /** The visor's data folder, holding its installed binaries (`current`, `previous`); none: the image's only. */
  dir?: string;
  /** The version the image's binary runs as (default v1.3.28, the image's Skywire). */
  imageVersion?: string;
}

const SIM_BINARY_MAGIC = '#!skyminer-sim-visor';

/** A binary the simulator's visor runs: as `version`, exiting `exitsAfterMs` after each start when given. */
export function simVisorBinary(version: string, o: { exitsAfterMs?: number } = {}): Buffer {
  const lines = [SIM_BINARY_MAGIC, `version=${version}`];
  if (o.exitsAfterMs !== undefined) lines.push(`exits-after-ms=${o.exitsAfterMs}`);
  return Buffer.from(lines.join('\n') + '\n');
}

/** What a simulator binary says it is; throws as exec would on anything else. */
function readSimBinary(file: string): { version: string; exitsAfterMs: number | null } {
  const text = readFileSync(file, 'latin1');
  const lines = text.split('\n');
  const fields = new Map(lines.slice(1).map((l) => l.split('=', 2) as [string, string]));
  const version = fields.get('version');
  if (lines[0] !== SIM_BINARY_MAGIC || !version) throw new Error(`spawn ${file} ENOEXEC`);
  const exits = fields.get('exits-after-ms');
  return { version, exitsAfterMs: exits === undefined ? null : Number(exits) };
}

let nextPid = 40_000;

/** A visor process stand-in: exits when killed, or when the simulator makes it crash. */
export class SimVisorProcess extends EventEmitter implements VisorProcess {
  readonly pid = nextPid++;
  exited = false;

  constructor(private readonly onExit: () => void) {
    super();
  }

  /** A binary that dies on its own: when. */
  dieTimer: NodeJS.Timeout | undefined;

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    this.exit(null, signal);
    return true;
  }

  /** The process ends (a crash: code 1; killed: its signal). */
  exit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exited) return;
    this.exited = true;
    clearTimeout(this.dieTimer);
    this.onExit();
    setImmediate(() => this.emit('exit', code, signal));
  }
}

export interface SimVisorHostOptions {
  board: number;
  disk: SimVisorDisk;
  /** The emulated visor the hypervisor lists (none without the Skywire simulation). */
  emulated?: EmulatedVisor | undefined;
  now?: () => number;
  /** A fault of this board: any installed binary (not the image's) dies this long after each start. */
  installedDiesAfterMs?: () => number | undefined;
}

/** The board's visor host in the simulator. */
export class SimVisorHost implements VisorHost {
  process: SimVisorProcess | null = null;
  private startedAt = 0;
  /** The version the running binary runs as. */
  private runningVersion: string | null = null;
  /** Makes the visor hang: it keeps running but its RPC no longer answers. */
  hung = false;

  constructor(private readonly options: SimVisorHostOptions) {}

  private get imageVersion(): string {
    return this.options.disk.imageVersion ?? 'v1.3.28';
  }

  private get now(): number {
    return (this.options.now ?? Date.now)();
  }

  keys(): Promise<KeyPair> {
    const name = `skyminer-sim/board-${this.options.board}`;
    const pk = this.options.emulated?.pk ?? emulatedPk(name);
    return Promise.resolve({ pk, sk: createHash('sha256').update(`${name}/sk`).digest('hex') });
  }

  configured(): Promise<ConfiguredVisor | null> {
    return Promise.resolve(this.options.disk.config);
  }

  configure(role: VisorRole, hypervisorPk: string): Promise<void> {
    this.options.disk.config = { role, hypervisorPk };
    return Promise.resolve();
  }

  /** The binary the board's visor service would start: the slots' `current` once a bundle was installed. */
  private binary(): { version: string; exitsAfterMs: number | null } {
    const dir = this.options.disk.dir;
    if (!dir) return { version: this.imageVersion, exitsAfterMs: null };
    const current = join(dir, 'current', 'skywire');
    try {
      const found = readSimBinary(current);
      const dies = this.options.installedDiesAfterMs?.();
      return dies === undefined
        ? found
        : { ...found, exitsAfterMs: Math.min(dies, found.exitsAfterMs ?? dies) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        return { version: this.imageVersion, exitsAfterMs: null };
      throw err;
    }
  }

  spawn(): VisorProcess {
    const binary = this.binary();
    this.hung = false;
    this.startedAt = this.now;
    this.runningVersion = binary.version;
    if (this.options.emulated) this.options.emulated.version = binary.version;
    this.options.emulated?.start(this.now);
    const p = new SimVisorProcess(() => {
      if (this.process === p) this.process = null;
      this.options.emulated?.stop(this.now);
    });
    this.process = p;
    if (binary.exitsAfterMs !== null) {
      p.dieTimer = setTimeout(() => p.exit(2, null), binary.exitsAfterMs);
      p.dieTimer.unref();
    }
    return p;
  }

  async info(): Promise<VisorInfo> {
    const p = this.process;
    if (!p || p.exited || this.hung) throw new Error('RPC connection failed; is skywire running?');
    const keys = await this.keys();
    const uptimeS = (this.now - this.startedAt) / 1000;
    return {
      pk: keys.pk,
      version: this.runningVersion ?? this.imageVersion,
      dmsgConnected: true,
      connectedHypervisors:
        this.options.disk.config?.role === 'visor' ? [this.options.disk.config.hypervisorPk] : null,
      roundTripMs: 42,
      servicesHealth: uptimeS >= 300 ? 'healthy' : 'connecting',
      uptimeS,
    };
  }

  traffic(): Promise<TransportBytes | null> {
    return Promise.resolve(this.process ? (this.options.emulated?.traffic() ?? null) : null);
  }

  /** The emulated visor's reward address is its reward.txt: the hypervisor and the board see the same one. */
  rewardAddress(): Promise<string | null> {
    return Promise.resolve(this.options.emulated?.rewardAddress || null);
  }

  setRewardAddress(address: string): Promise<void> {
    if (this.options.emulated) this.options.emulated.rewardAddress = address;
    return Promise.resolve();
  }
}
