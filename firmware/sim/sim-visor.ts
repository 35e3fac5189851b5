// The simulator's visor: the board's visor service runs it exactly as it runs `skywire visor` on a box, but the
// process is a stand-in that drives the board's emulated visor (the one the emulated hypervisor lists). Its keys
// and config outlive the board's boots, as the data partition does.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { VisorProcess, VisorHost, ConfiguredVisor, VisorRole } from '../skywire/visor-host.js';
import { emulatedPk, type EmulatedVisor } from '../skywire/emulated-visor.js';
import type { KeyPair } from '../skywire/visor-config.js';
import type { VisorInfo } from '../skywire/visor-info.js';
import type { TransportBytes } from '../skywire/transport-log.js';

/** One board's Skywire files: what survives its reboots. */
export interface SimVisorDisk {
  config: ConfiguredVisor | null;
}

let nextPid = 40_000;

/** A visor process stand-in: exits when killed, or when the simulator makes it crash. */
export class SimVisorProcess extends EventEmitter implements VisorProcess {
  readonly pid = nextPid++;
  exited = false;

  constructor(private readonly onExit: () => void) {
    super();
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    this.exit(null, signal);
    return true;
  }

  /** The process ends (a crash: code 1; killed: its signal). */
  exit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exited) return;
    this.exited = true;
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
}

/** The board's visor host in the simulator. */
export class SimVisorHost implements VisorHost {
  process: SimVisorProcess | null = null;
  private startedAt = 0;
  /** Makes the visor hang: it keeps running but its RPC no longer answers. */
  hung = false;

  constructor(private readonly options: SimVisorHostOptions) {}

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

  spawn(): VisorProcess {
    this.hung = false;
    this.startedAt = this.now;
    this.options.emulated?.start(this.now);
    const p = new SimVisorProcess(() => {
      if (this.process === p) this.process = null;
      this.options.emulated?.stop(this.now);
    });
    this.process = p;
    return p;
  }

  async info(): Promise<VisorInfo> {
    const p = this.process;
    if (!p || p.exited || this.hung) throw new Error('RPC connection failed; is skywire running?');
    const keys = await this.keys();
    const uptimeS = (this.now - this.startedAt) / 1000;
    return {
      pk: keys.pk,
      version: this.options.emulated?.version ?? 'v1.3.28',
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
