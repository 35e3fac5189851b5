// The board's Skywire visor as one service of its agent: keys and config made with no hands (the manager's visor is
// the hypervisor; a worker's trusts only the key the manager sent over the firmware's authenticated channel), the
// process run and watched by the visor service (visor-service.ts), and what the heartbeat says of it.
import { silentLogger, type Logger } from '../../drivers/logger.js';
import type { BoardVisorFigures } from '../protocol/figures.js';
import { transportRate, type TransportBytes } from './transport-log.js';
import type { VisorInfo } from './visor-info.js';
import type { VisorHost, VisorRole } from './visor-host.js';
import type { VisorPolicy } from './visor-policy.js';
import { VisorService } from './visor-service.js';

export interface BoardVisorOptions {
  host: VisorHost;
  /** The manager's visor hosts the hypervisor; every other board's is a visor. */
  role: VisorRole;
  /** Manager only: makes sure the hypervisor has its account, called while the visor runs until it resolves. */
  account?: () => Promise<void>;
  policy?: VisorPolicy;
  /** How often the visor's RPC is asked (the health probe and the figures). */
  probeEveryMs?: number;
  killGraceMs?: number;
  now?: () => number;
  logger?: Logger;
}

export class BoardVisor {
  private readonly service: VisorService;
  private readonly now: () => number;
  private readonly logger: Logger;
  private pk: string | null = null;
  private trusted: string | null = null;
  private info: VisorInfo | null = null;
  private traffic: { at: number; bytes: TransportBytes } | null = null;
  private rate: { rxBps: number; txBps: number } | null = null;
  private accountDone = false;
  private accountBusy = false;
  private started = false;
  private stopped = false;
  /** Key changes and starts run one after another, never interleaved. */
  private chain: Promise<void> = Promise.resolve();
  private lastError = '';
  /** Why the visor could not be set up (its config not written), for the heartbeat. */
  private setupError: string | null = null;
  /** What the visor's reward.txt held at the last look. */
  private reward: string | null = null;

  constructor(private readonly options: BoardVisorOptions) {
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? silentLogger;
    this.service = new VisorService({
      spawn: () => options.host.spawn(),
      probe: () => this.probe(),
      ...(options.policy ? { policy: options.policy } : {}),
      probeEveryMs: options.probeEveryMs ?? 15_000,
      ...(options.killGraceMs !== undefined ? { killGraceMs: options.killGraceMs } : {}),
      now: this.now,
      logger: this.logger,
    });
  }

  /** Makes the keys (and, on the manager, the config) and starts the visor when it has a config. */
  start(): Promise<void> {
    return this.serial(async () => {
      const { host, role } = this.options;
      const keys = await host.keys();
      this.pk = keys.pk;
      await this.readReward();
      const present = await host.configured();
      if (role === 'hypervisor' && present?.role !== 'hypervisor')
        await host.configure('hypervisor', keys.pk);
      const now = role === 'hypervisor' ? { role, hypervisorPk: keys.pk } : present;
      // A worker's config that is not a visor's (a board moved from slot 1) waits for the manager's key.
      this.trusted = now && now.role === role ? now.hypervisorPk : null;
      if (this.trusted === null) {
        this.logger.info("visor: waiting for the hypervisor's key from the manager");
        return;
      }
      await host.reclaim?.();
      this.started = true;
      this.service.start();
    });
  }

  /**
   * The box's hypervisor key, as the manager sent it: a worker whose config trusts another key (or has none)
   * writes a new one trusting exactly this key and restarts its visor. The manager's own visor ignores it.
   */
  setHypervisorKey(pk: string): Promise<void> {
    if (this.options.role !== 'visor' || pk === this.trusted) return Promise.resolve();
    return this.serial(async () => {
      if (this.stopped || pk === this.trusted) return;
      this.logger.info(
        `visor: hypervisor key ${pk.slice(0, 12)}... from the manager; writing the visor config`,
      );
      if (this.started) await this.service.stop();
      await this.options.host.configure('visor', pk);
      this.trusted = pk;
      this.info = null;
      if (this.stopped) return;
      this.started = true;
      this.service.start();
    });
  }

  /**
   * The box's reward address, as the manager sent it for a visor its hypervisor cannot reach: written to the visor's
   * own reward.txt, which the visor reads at every request, so no restart is needed.
   */
  setRewardAddress(address: string): Promise<void> {
    const host = this.options.host;
    if (!host.setRewardAddress || address === this.reward) return Promise.resolve();
    return this.serial(async () => {
      await host.setRewardAddress!(address);
      this.logger.info(`visor: reward address ${address} written to its reward.txt, as the manager asked`);
      await this.readReward();
    });
  }

  /**
   * Restarts the visor, which starts again on whatever binary is current now (a visor update's swap or fallback):
   * the old process has exited before the new one starts, so it does not die on the old one's ports.
   */
  restart(): Promise<void> {
    return this.serial(async () => {
      if (this.stopped || !this.started) return;
      await this.service.stop();
      this.info = null;
      if (this.stopped) return;
      this.service.start();
    });
  }

  /** Whether the visor answers its own RPC now, or the one-line reason it does not (a visor update's judge). */
  async answers(): Promise<{ ok: true } | { ok: false; problem: string }> {
    const r = this.service.report();
    if (r.status !== 'running' && r.status !== 'starting')
      return {
        ok: false,
        problem: `the visor is ${r.status}${r.lastExit ? ` (it ended: ${r.lastExit})` : ''}`,
      };
    try {
      await this.options.host.info();
      return { ok: true };
    } catch (err) {
      return { ok: false, problem: (err as Error).message.split('\n')[0]! };
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.chain;
    if (this.started) await this.service.stop();
  }

  /** The visor's figures for the heartbeat. */
  figures(): BoardVisorFigures {
    const r = this.service.report();
    const live = r.status === 'running' ? this.info : null;
    return {
      status: this.trusted === null && !this.started ? 'no-key' : r.status,
      pk: this.pk,
      hypervisor_pk: this.trusted,
      version: live?.version ?? null,
      dmsg_connected: live ? live.dmsgConnected : null,
      hypervisor_connected:
        live?.connectedHypervisors && this.options.role === 'visor' && this.trusted !== null
          ? live.connectedHypervisors.includes(this.trusted)
          : null,
      round_trip_ms: live?.roundTripMs ?? null,
      services_health: live?.servicesHealth ?? null,
      uptime_s: r.uptimeS === null ? null : Math.round(r.uptimeS),
      restarts: r.restarts,
      sick: r.sick,
      last_exit: this.setupError ?? r.lastExit,
      rx_bytes: this.traffic?.bytes.recv ?? null,
      tx_bytes: this.traffic?.bytes.sent ?? null,
      rx_bps: live ? (this.rate?.rxBps ?? null) : null,
      tx_bps: live ? (this.rate?.txBps ?? null) : null,
      reward_address: this.reward,
    };
  }

  /** Asks the visor's RPC (the service's health probe), then reads its traffic and, on the manager, the account. */
  async tick(): Promise<void> {
    await this.service.tick();
  }

  private async probe(): Promise<boolean> {
    // The hypervisor sets it through the visor's RPC, which rewrites the file: read it again at every probe.
    await this.readReward();
    try {
      this.info = await this.options.host.info();
    } catch (err) {
      this.info = null;
      this.note(`visor: no answer on its RPC (${(err as Error).message})`);
      return false;
    }
    this.lastError = '';
    await this.readTraffic();
    if (this.options.account && !this.accountDone && !this.accountBusy) void this.ensureAccount();
    return true;
  }

  private async readReward(): Promise<void> {
    this.reward = (await this.options.host.rewardAddress?.().catch(() => null)) ?? null;
  }

  private async readTraffic(): Promise<void> {
    const at = this.now();
    const bytes = await this.options.host.traffic(at).catch(() => null);
    if (!bytes) return;
    const next = { at, bytes };
    this.rate = transportRate(this.traffic, next) ?? this.rate;
    this.traffic = next;
  }

  private async ensureAccount(): Promise<void> {
    this.accountBusy = true;
    try {
      await this.options.account!();
      this.accountDone = true;
    } catch (err) {
      this.note(`hypervisor account: ${(err as Error).message}`);
    } finally {
      this.accountBusy = false;
    }
  }

  /** Logs a problem once, not at every probe. */
  private note(message: string): void {
    if (message !== this.lastError) this.logger.warn(message);
    this.lastError = message;
  }

  private serial(step: () => Promise<void>): Promise<void> {
    const next = this.chain.then(step).then(
      () => {
        this.setupError = null;
      },
      (err: unknown) => {
        this.setupError = `setup: ${(err as Error).message}`;
        this.logger.error(`visor: ${(err as Error).message}`);
      },
    );
    this.chain = next;
    return next;
  }
}
