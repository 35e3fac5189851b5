import { randomBytes } from 'node:crypto';
import { silentLogger, type Logger } from '../../drivers/logger.js';
import { WDIOF_CARDRESET, type Watchdog } from '../../drivers/watchdog/watchdog.js';
import { openEnvelope, seal } from '../auth/envelope.js';
import { CommandGuard, NonceMemory } from '../auth/freshness.js';
import { bindUdp, type Datagrams, type Peer } from '../protocol/datagrams.js';
import type { HeartbeatFigures } from '../protocol/figures.js';
import {
  decodeManagerMessage,
  encodeMessage,
  type AgentMessage,
  type ResetReason,
} from '../protocol/messages.js';
import type { BoardUpdater } from '../update/board-updater.js';
import type { VisorUpdater } from '../update/visor-updater.js';
import type { GrantContents } from '../auth/join-seal.js';
import { runChecks, type HealthCheck } from './health.js';
import { JoinClient } from './join.js';
import { petDecision, trackProgress, type InstallProgress, type PetDecision } from './pet.js';

export interface AgentOptions {
  board: number;
  manager: { host: string; port: number };
  intervalMs: number;
  /** This board's key (see firmware/auth/enrol.ts); none: the board joins the box for one first (`join`). */
  key?: Buffer;
  /**
   * Zero-touch enrolment for a board without a key: claim one from the manager (agent/join.ts) before the first
   * heartbeat, and `keep` what the grant carried (the key on the data partition) before using it.
   */
  join?: { keep: (contents: GrantContents) => Promise<void>; retryMs?: number };
  /** How long the health checks may take before counting as failing; default half the interval. */
  checkTimeoutMs?: number;
  /** The board's health checks; the agent pets the watchdog only while all pass. */
  checks?: HealthCheck[];
  /** Compact live figures to ride along in the heartbeat. */
  telemetry?: () => HeartbeatFigures | undefined;
  logger?: Logger;
  /** The board's hardware watchdog: armed at start, petted from the heartbeat loop only while healthy. */
  watchdog?: { device: Watchdog; timeoutS: number; disarmOnStop: boolean };
  /** Where probes and commands arrive: a UDP port (0 = any) by default; the simulator passes its own. */
  datagrams?: () => Promise<Datagrams>;
  listenPort?: number;
  /** Reboots the board (the `reboot` command on a device); called after the command is acknowledged. */
  reboot?: () => void;
  /** The manager sent the box's hypervisor key (see protocol/messages.ts `hypervisor-key`). */
  onHypervisorKey?: (pk: string) => void;
  /** The manager sent the box's reward address for the visor's own file (protocol/messages.ts `reward-address`). */
  onRewardAddress?: (address: string) => void;
  /** The wall clock stamped into heartbeats. */
  now?: () => number;
  /** The board's update machinery: its firmware rides in every heartbeat, and it takes the manager's orders. */
  updater?: BoardUpdater;
  /** The board's visor updates: its latest rides in the heartbeats, and it takes the manager's visor orders. */
  visorUpdater?: Pick<VisorUpdater, 'report' | 'install'>;
  /** A monotonic clock in ms (default performance.now): how long an install has not moved. */
  monotonicMs?: () => number;
}

/**
 * The board-side program: one per board. It announces the board to the manager with an authenticated
 * heartbeat every interval, answers the manager's probes and commands, and pets the board's watchdog from
 * the same loop while its checks pass, so a stalled loop or a sick board resets itself.
 */
export class Agent {
  readonly bootId = randomBytes(8).toString('hex');
  private net: Datagrams | null = null;
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;
  private beating = false;
  private stalled = false;
  private readonly startedAt = performance.now();
  private readonly logger: Logger;
  private readonly guard = new CommandGuard(this.bootId);
  private readonly probes = new NonceMemory();
  private readonly manager: Peer;
  private key: Buffer | undefined;
  private joining: JoinClient | null = null;
  private armed = false;
  private install: InstallProgress | undefined;
  /** The failing checks and the petting as last logged: a change is logged once, not at every heartbeat. */
  private said = '';
  resetReason: ResetReason = 'unknown';
  /** Datagrams refused (bad tag, stale, malformed), for tests and the log. */
  rejected = 0;

  constructor(private readonly options: AgentOptions) {
    this.logger = options.logger ?? silentLogger;
    this.manager = { address: options.manager.host, port: options.manager.port };
    this.key = options.key;
    if (!this.key && !options.join)
      throw new Error(`board ${options.board}: the agent needs a key or a way to join`);
  }

  /** True once the board holds its key (from the start, or after joining). */
  get enrolled(): boolean {
    return this.key !== undefined;
  }

  async start(): Promise<void> {
    const { options } = this;
    const wd = options.watchdog;
    if (wd) {
      // Read before arming: the boot status tells why this boot began, and is reported in every heartbeat.
      try {
        this.resetReason = ((await wd.device.bootStatus()) & WDIOF_CARDRESET) !== 0 ? 'watchdog' : 'other';
      } catch (err) {
        this.logger.warn(`board ${options.board}: watchdog boot status unreadable: ${String(err)}`);
      }
      if (this.resetReason === 'watchdog')
        this.logger.warn(`board ${options.board}: the watchdog reset this board`);
    }
    this.net = await (options.datagrams?.() ??
      bindUdp(options.listenPort ?? 0, undefined, (m) => this.logger.warn(`board ${options.board}: ${m}`)));
    this.net.onMessage((msg, from) =>
      this.joining ? this.joining.offer(msg, from) : this.onDatagram(msg, from),
    );
    if (!this.key) await this.join(this.net);
    if (wd) {
      await wd.device.open(wd.timeoutS);
      this.armed = true;
    }
    void this.beat();
    this.timer = setInterval(() => void this.beat(), options.intervalMs);
  }

  /** Claims the key before anything else: the watchdog is armed only once heartbeats can follow. */
  private async join(net: Datagrams): Promise<void> {
    const { options } = this;
    this.joining = new JoinClient({
      board: options.board,
      manager: this.manager,
      net,
      bootId: this.bootId,
      logger: this.logger,
      ...(options.join?.retryMs !== undefined ? { retryMs: options.join.retryMs } : {}),
    });
    try {
      const contents = await this.joining.run();
      // Kept before used: a board that loses power now joins again rather than running on a key it lost.
      await options.join!.keep(contents);
      this.key = contents.key;
    } finally {
      this.joining = null;
    }
    if (!this.net) throw new Error(`board ${options.board}: stopped while joining`);
  }

  async stop(): Promise<void> {
    this.joining?.cancel();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const c of this.options.checks ?? []) c.close?.();
    const net = this.net;
    this.net = null;
    await net?.close();
    const wd = this.options.watchdog;
    if (wd && this.armed && !this.stalled) await wd.device.close(wd.disarmOnStop);
  }

  /**
   * Freezes the agent as a wedged event loop would: no heartbeat, no petting, no answer. The simulator's
   * `agent-stall` and `hang` faults use it; only the watchdog or the manager's lines bring the board back.
   */
  stall(): void {
    this.stalled = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async beat(): Promise<void> {
    // One beat at a time: checks slower than the interval must not pile up.
    if (this.beating || this.stalled || !this.net) return;
    this.beating = true;
    try {
      const limitMs = this.options.checkTimeoutMs ?? Math.max(50, this.options.intervalMs / 2);
      const health = await runChecks(this.options.checks ?? [], limitMs);
      if (this.stalled || !this.net) return;
      // Petting from this loop means a stalled loop or a sick board stops the petting and the board resets.
      const wd = this.options.watchdog;
      const nowMs = this.options.monotonicMs?.() ?? performance.now();
      this.install = trackProgress(this.install, this.options.updater?.progress?.(), nowMs);
      const decision = petDecision(health.ok, this.install, nowMs, (wd?.timeoutS ?? 0) * 1000);
      if (decision !== 'withheld') await wd?.device.pet().catch(() => {});
      this.sayHealth(health.failing, decision);
      this.send({
        type: 'heartbeat',
        board: this.options.board,
        boot_id: this.bootId,
        seq: this.seq++,
        time_ms: Math.round(this.options.now?.() ?? Date.now()),
        uptime_s: Math.round((performance.now() - this.startedAt) / 100) / 10,
        health,
        reset_reason: this.resetReason,
        telemetry: this.options.telemetry?.(),
        firmware: this.options.updater?.report(),
        visor_update: this.options.visorUpdater?.report(),
      });
      // A trial boot's watch names these if the manager never acknowledges (it takes no failing heartbeat as proof).
      this.options.updater?.checked(health.failing);
    } finally {
      this.beating = false;
    }
  }

  private sayHealth(failing: readonly string[], decision: PetDecision): void {
    const said = `${failing.join(', ')}|${decision}`;
    if (said === this.said) return;
    const first = this.said === '';
    this.said = said;
    const board = `board ${this.options.board}`;
    if (decision === 'healthy') {
      if (!first) this.logger.info(`${board}: healthy again`);
    } else if (decision === 'installing')
      this.logger.warn(
        `${board}: failing ${failing.join(', ')}; the watchdog is still petted while the update installs`,
      );
    else
      this.logger.warn(
        `${board}: failing ${failing.join(', ')}${this.options.watchdog ? '; the watchdog is no longer petted' : ''}`,
      );
  }

  private send(message: AgentMessage): void {
    if (this.key) this.net?.send(seal(this.key, this.options.board, encodeMessage(message)), this.manager);
  }

  private onDatagram(datagram: Buffer, from: Peer): void {
    if (this.stalled) return;
    const opened = openEnvelope(datagram, (b) => (b === this.options.board ? this.key : undefined));
    const decoded = opened.ok ? decodeManagerMessage(opened.body) : opened;
    if (!decoded.ok || decoded.message.board !== this.options.board) {
      this.rejected++;
      return;
    }
    const message = decoded.message;
    if (message.type === 'probe') {
      // A replayed probe gets no answer: answering every copy would make the board a reflector.
      if (!this.probes.firstTime(message.nonce)) {
        this.rejected++;
        return;
      }
      this.reply(from, {
        type: 'probe-answer',
        board: message.board,
        boot_id: this.bootId,
        nonce: message.nonce,
      });
      return;
    }
    const refused = this.guard.accept(message.boot_id, message.seq);
    if (refused) {
      this.rejected++;
      this.logger.warn(`board ${this.options.board}: command refused: ${refused}`);
      return;
    }
    if (message.type === 'hypervisor-key') {
      // No acknowledgement: the next heartbeats carry the key the visor trusts, which is what the manager checks.
      this.options.onHypervisorKey?.(message.pk);
      return;
    }
    if (message.type === 'reward-address') {
      // The same: the next heartbeats carry what the visor's reward.txt holds.
      this.options.onRewardAddress?.(message.address);
      return;
    }
    this.reply(from, { type: 'command-ack', board: message.board, boot_id: this.bootId, seq: message.seq });
    this.logger.info(`board ${this.options.board}: ${message.command} asked by the manager`);
    if (message.command === 'soft-reboot') this.options.reboot?.();
    if (message.command === 'update' && message.update) {
      if (message.update.kind === 'visor') this.options.visorUpdater?.install(message.update);
      else this.options.updater?.install(message.update);
    }
    if (message.command === 'commit') this.options.updater?.commit();
  }

  private reply(to: Peer, message: AgentMessage): void {
    if (this.key) this.net?.send(seal(this.key, this.options.board, encodeMessage(message)), to);
  }
}
