import { randomBytes } from 'node:crypto';
import type { OutputLine } from '../../drivers/gpio/line.js';
import { silentLogger, type Logger } from '../../drivers/logger.js';
import type { Watchdog } from '../../drivers/watchdog/watchdog.js';
import { openEnvelope, seal } from '../auth/envelope.js';
import { outsideWindow } from '../auth/freshness.js';
import { sealGrant, usableJoinKey } from '../auth/join-seal.js';
import { bindUdp, type Datagrams, type Peer } from '../protocol/datagrams.js';
import type { HeartbeatFigures } from '../protocol/figures.js';
import { decodeAgentMessage, encodeMessage, type ManagerMessage } from '../protocol/messages.js';
import { decodeJoinClaim, encodeJoin, isJoinDatagram, type JoinGrant } from '../protocol/join.js';
import {
  decide,
  initialState,
  powerOnPlan,
  type BoardAction,
  type BoardEvent,
  type BoardState,
  type Policy,
} from './board-state.js';
import type { EventSink, SupervisorEvent } from './event-log.js';
import type { BoardOperation, OperationResult, SupervisorOperator } from './operator.js';
import { loadState, persistentKey, saveState, toSaved, type SavedBoard } from './state-store.js';
import { diskEvents } from './disk-events.js';
import { boxHypervisorKey, hypervisorKeyDue } from './hypervisor-key.js';
import { trialAckDue } from './trial-ack.js';
import { rewardAddressDue } from './reward-address-order.js';
import { visorEvents } from './visor-events.js';
import { INITIAL_NETWORK, judgeNetwork, type NetworkMemory, type Uplink } from './network-silence.js';
import type { BoxView } from './view.js';
import type { BoardSeen, FirmwareReport, UpdateReport } from '../update/rollout.js';
import type { UpdateOrderWire } from '../protocol/messages.js';
import {
  boardHeard,
  INITIAL_JOIN_STATE,
  joinAlert,
  judgeClaim,
  openWindow,
  tickWindows,
  type JoinAction,
  type JoinDecision,
  type JoinPolicy,
  type JoinState,
} from './join-window.js';

export interface BoardLines {
  power?: OutputLine;
  reset?: OutputLine;
}

export interface SupervisorOptions {
  boards: number;
  /** Lines per board; board 1 (the manager) has none. */
  lines: Map<number, BoardLines>;
  listen: { host: string; port: number };
  policy: Policy;
  powerOnGapMs: number;
  /** Every board's key (see firmware/auth/keys.ts BoxKeys). */
  keyFor: (board: number) => Buffer | undefined;
  /** How far a heartbeat's stamp may be from the manager's clock. */
  replayWindowMs?: number;
  tickMs?: number;
  /** How long a reset line is held asserted. */
  resetPulseMs?: number;
  /** Where to probe a board not heard from yet (its configured address and agent port). */
  boardAddress?: (board: number) => Peer | undefined;
  /** The manager's own hardware watchdog, petted from the tick: a stalled supervisor resets the manager. */
  watchdog?: { device: Watchdog; timeoutS: number };
  /** The saved state (versioned JSON); none keeps nothing across restarts. */
  stateFile?: string;
  /** The zero of the events' `t` (ms); the simulator keeps one across a supervisor restart. */
  epochMs?: number;
  /** Sends datagrams; UDP on `listen` by default. */
  datagrams?: () => Promise<Datagrams>;
  logger?: Logger;
  events?: EventSink;
  /** The manager's uplink as last judged (telemetry/uplink.ts): evidence for telling the network from boards. */
  uplink?: () => Uplink;
  /**
   * Zero-touch enrolment (join-window.md): a board the manager has just switched on may claim its key in a window.
   * None: no board joins over the network (each needs the box secret on its card).
   */
  join?: { policy: Omit<JoinPolicy, 'boards'>; attachLine?: string };
  /**
   * The reward address to write on board n itself (the rewards service's choice for a visor its hypervisor cannot
   * reach); null: none to send. None: the supervisor never sends one.
   */
  rewardAddressFor?: (board: number) => string | null;
}

/**
 * The manager-side loop: feeds heartbeats, probe answers, operator requests and clock ticks to the pure
 * `decide`, stores the new states and performs the actions. It senses line levels at start instead of
 * trusting any saved belief, and switches unpowered boards on one by one.
 */
export class Supervisor implements SupervisorOperator {
  private readonly states = new Map<number, BoardState>();
  private net: Datagrams | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly startedAt: number;
  private readonly logger: Logger;
  private readonly listeners = new Set<() => void>();
  private readonly eventListeners = new Set<(event: SupervisorEvent) => void>();
  /** The newest events, for the console; the event log on disk keeps the full history. */
  private readonly recent: SupervisorEvent[] = [];
  /** Where each board was last heard from (authenticated), to probe and command it. */
  private readonly peers = new Map<number, Peer>();
  /** Outstanding probe nonces and the command waiting for its acknowledgement, per board. */
  private readonly nonces = new Map<number, Set<string>>();
  private readonly pendingCommand = new Map<number, number>();
  /** Update orders and commits sent and not acknowledged yet (their sequence numbers). */
  private readonly updateCommands = new Set<number>();
  /** What each board said of its firmware in its latest heartbeat taken. */
  private readonly firmware = new Map<number, FirmwareReport>();
  /** What each board said of its latest visor update in its latest heartbeat taken. */
  private readonly visorUpdates = new Map<number, UpdateReport>();
  private readonly skewReported = new Map<number, string>();
  /** When each board was last sent the hypervisor key (it is resent while the board trusts another). */
  private readonly keySentAt = new Map<number, number>();
  /** The boot each board's trial was last acknowledged in, and when (see trial-ack.ts). */
  private readonly trialAckedAt = new Map<number, { bootId: string; at: number }>();
  private readonly rewardSentAt = new Map<number, number>();
  /** Rises across supervisor restarts too (it starts from the clock), as the agents' command guard needs. */
  private commandSeq = Date.now() * 1000;
  /** Line operations run one after another per board, so a pulse never interleaves with a power switch. */
  private readonly lineChains = new Map<number, Promise<void>>();
  private lastPowerOnAt = -Infinity;
  private readonly powerQueue: { board: number; then?: () => void }[] = [];
  private powerTimer: NodeJS.Timeout | null = null;
  /** Whether many boards are silent together, and since when: restarts wait for the network. */
  private network: NetworkMemory = INITIAL_NETWORK;
  private saving: Promise<void> = Promise.resolve();
  private saveQueued = false;
  private stopped = false;
  /** How late the supervision tick ran (ms past its period), worst since the last read: see tickLateness(). */
  private lastTickAt = 0;
  private worstLateMs = 0;
  /** Join windows and claims (join-window.ts), and the grant last sealed per board, resent when asked again. */
  private joins: JoinState = INITIAL_JOIN_STATE;
  private readonly grants = new Map<number, Buffer>();
  /** Datagrams refused (bad tag, malformed, stale, replayed), for the console and tests. */
  rejected = 0;
  lastRejection = '';
  /** Heartbeats taken whose figures did not parse (protocol/figures.ts), and the latest reason. */
  figuresDropped = 0;
  lastFiguresError = '';
  port = 0;

  constructor(private readonly options: SupervisorOptions) {
    this.logger = options.logger ?? silentLogger;
    this.startedAt = options.epochMs ?? Date.now();
  }

  async start(): Promise<void> {
    const { options } = this;
    const saved = new Map<number, SavedBoard>();
    if (options.stateFile) {
      const loaded = await loadState(options.stateFile);
      if (loaded.note) this.logger.warn(loaded.note);
      for (const b of loaded.state?.boards ?? []) saved.set(b.board, b);
    }
    const now = Date.now();
    const unpowered: number[] = [];
    for (let board = 1; board <= options.boards; board++) {
      const lines = options.lines.get(board);
      // Sense first: a line's level is read back, never written, so running boards see no change.
      let powered = true;
      if (lines?.power) {
        try {
          powered = (await lines.power.read()) === 1;
        } catch (err) {
          this.logger.error(`board ${board}: cannot read ${lines.power.name}: ${String(err)}`);
        }
      }
      const state = this.restore(
        initialState(board, powered, now, { power: !!lines?.power, reset: !!lines?.reset }),
        saved.get(board),
        now,
      );
      this.states.set(board, state);
      if (!powered && state.status === 'off') unpowered.push(board);
    }
    this.net = await (options.datagrams?.() ??
      bindUdp(options.listen.port, options.listen.host, (m) => this.logger.warn(`heartbeat ${m}`)));
    this.net.onMessage((msg, from) => this.onDatagram(msg, from));
    this.port = this.net.port;
    const wd = options.watchdog;
    if (wd) {
      try {
        await wd.device.open(wd.timeoutS);
      } catch (err) {
        this.logger.error(`manager watchdog: ${String(err)}; running without it`);
        options.watchdog = undefined;
      }
    }
    this.tickTimer = setInterval(() => this.tick(), options.tickMs ?? 50);
    for (const { board } of powerOnPlan(unpowered, options.powerOnGapMs)) {
      this.schedulePowerOn(board, () => this.apply(board, { kind: 'power', at: Date.now(), on: true }));
    }
    this.scheduleSave();
  }

  /** Merges what was saved with what was sensed: history and quarantine from the file, levels from the lines. */
  private restore(state: BoardState, saved: SavedBoard | undefined, now: number): BoardState {
    if (!saved) return state;
    const restored: BoardState = {
      ...state,
      bootId: saved.boot_id,
      lastSeq: saved.last_seq,
      pastBootIds: saved.past_boot_ids,
      restarts: saved.restarts,
    };
    if (saved.quarantined) return { ...restored, status: 'quarantined' };
    // A board that was up is heard again within a heartbeat timeout, or probed: no boot time to wait for.
    if (state.status === 'booting' && saved.was_up)
      return { ...restored, deadline: now + this.options.policy.heartbeatTimeoutMs };
    return restored;
  }

  async stop(): Promise<void> {
    await this.quiesce();
    await Promise.all(this.lineChains.values());
    if (this.options.stateFile) {
      await this.saving;
      await this.save();
    }
    const wd = this.options.watchdog;
    if (wd) await wd.device.close(true).catch(() => {});
  }

  /**
   * Stops as a crash or a power loss would: no more ticks, no petting, no final save, no line touched.
   * The simulator's power-loss fault and manager watchdog use it.
   */
  async halt(): Promise<void> {
    await this.quiesce();
    await this.saving;
  }

  /** No more ticks, timers or datagrams; what stop() and halt() share. */
  private async quiesce(): Promise<void> {
    this.stopped = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.tickTimer = null;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.powerTimer = null;
    this.powerQueue.length = 0;
    const net = this.net;
    this.net = null;
    await net?.close();
  }

  /** The worst lateness of the supervision tick since the last call (ms), for benches and health. */
  tickLateness(): number {
    const worst = this.worstLateMs;
    this.worstLateMs = 0;
    return Math.max(0, worst);
  }

  /** Calls `listener` after any board's state changed. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The current belief about one board (for tests and the simulator). */
  state(board: number): BoardState | undefined {
    return this.states.get(board);
  }

  /** The figures of board n's latest heartbeat, without building the whole view. */
  telemetryOf(board: number): HeartbeatFigures | undefined {
    return this.states.get(board)?.telemetry;
  }

  view(): BoxView {
    const at = Date.now();
    return {
      at,
      boards: [...this.states.values()].map((s) => ({
        board: s.board,
        role: s.board === 1 ? 'manager' : 'worker',
        status: s.status,
        forS: Math.max(0, Math.round((at - s.since) / 1000)),
        uptimeS: s.uptimeS,
        healthy: s.health?.ok,
        ...(s.health && !s.health.ok ? { failing: s.health.failing } : {}),
        restarts: s.restarts.length,
        ...(s.step ? { step: s.step } : {}),
        ...this.joinAlertOf(s.board, at),
        telemetry: s.telemetry,
      })),
    };
  }

  recentEvents(filter: { board?: number; limit?: number } = {}): SupervisorEvent[] {
    const matching = this.recent.filter((e) => filter.board === undefined || e.board === filter.board);
    return matching.slice(-(filter.limit ?? matching.length));
  }

  onEvent(listener: (event: SupervisorEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  async operate(board: number, operation: BoardOperation, by: string): Promise<OperationResult> {
    const state = this.states.get(board);
    if (!state) return { ok: false, message: `no board ${board}; boards are 1 to ${this.options.boards}` };
    const lines = this.options.lines.get(board);
    if (operation !== 'release' && !lines?.power && !(operation === 'reset' && lines?.reset)) {
      return { ok: false, message: `board ${board} has no power or reset line (board 1 is the manager)` };
    }
    if (operation === 'reset' && !lines?.reset)
      return { ok: false, message: `board ${board} has no reset line` };
    if (operation === 'reset' && !state.powered)
      return {
        ok: false,
        message: `board ${board} has no power: a reset would do nothing; switch it on instead`,
      };
    const before = state.restarts.length;
    const wasQuarantined = state.status === 'quarantined';
    this.record(board, 'operator', { operation, by });
    this.apply(board, { kind: 'operator', at: Date.now(), operation, by });
    // Operations answer once their lines have moved (a power cycle answers once the power is off).
    await this.lineChains.get(board);
    switch (operation) {
      case 'on':
        return { ok: true, message: `board ${board} switched on` };
      case 'off':
        return { ok: true, message: `board ${board} switched off` };
      case 'reset':
        return { ok: true, message: `board ${board} reset` };
      case 'cycle':
        return {
          ok: true,
          message: `board ${board} power-cycling (off ${this.options.policy.powerOffMs / 1000} s)`,
        };
      case 'release':
        if (wasQuarantined)
          return { ok: true, message: `board ${board} released from quarantine; ${before} restarts cleared` };
        return { ok: true, message: `board ${board} is not quarantined; ${before} restarts cleared` };
    }
  }

  private tick(): void {
    if (this.stopped) return;
    const now = performance.now();
    if (this.lastTickAt > 0)
      this.worstLateMs = Math.max(this.worstLateMs, now - this.lastTickAt - (this.options.tickMs ?? 50));
    this.lastTickAt = now;
    // Petted from the loop that does the work: if this loop stalls, the manager resets.
    void this.options.watchdog?.device.pet().catch(() => {});
    // Decided after the loop's I/O phase: heartbeats that arrived while this loop was busy are read first, so
    // the manager's own stall never passes for the boards' silence.
    setImmediate(() => this.decideTick());
  }

  private decideTick(): void {
    if (this.stopped) return;
    const at = Date.now();
    const uplink = this.options.uplink?.() ?? { state: 'unknown', reason: 'not watched' };
    const judged = judgeNetwork(this.network, this.states.values(), uplink, at, this.options.policy);
    this.network = judged.memory;
    for (const action of judged.actions) this.perform(0, action);
    this.apply(0, { kind: 'tick', at, ...(judged.hold ? { hold: judged.hold } : {}) });
    if (this.options.join) this.applyJoin(tickWindows(this.joins, at, this.joinPolicy()!));
  }

  private joinPolicy(): JoinPolicy | undefined {
    const join = this.options.join;
    return join && { ...join.policy, boards: this.options.boards };
  }

  private joinAlertOf(board: number, at: number): { joinAlert?: string } {
    const text = joinAlert(this.joins, board, at);
    return text ? { joinAlert: text } : {};
  }

  /** The manager's own line just switched board `board` on (or reset it): a fresh board there may now join. */
  private openJoinWindow(board: number): void {
    const policy = this.joinPolicy();
    if (!policy || this.stopped) return;
    this.joins = openWindow(this.joins, board, Date.now(), policy);
  }

  /** A join datagram: judged by join-window.ts; a malformed one is refused in one line and changes nothing. */
  private onJoin(datagram: Buffer, from: Peer): void {
    const policy = this.joinPolicy();
    const who = `join from ${from.address}:${from.port}`;
    if (!policy) return this.reject(`${who}: this manager takes no joins (box secret only)`);
    const decoded = decodeJoinClaim(datagram);
    if (!decoded.ok) return this.reject(`${who}: ${decoded.error}`);
    const unusable = usableJoinKey(decoded.message.public_key);
    if (unusable) return this.reject(`${who}: ${unusable}`);
    this.applyJoin(judgeClaim(this.joins, decoded.message, from, Date.now(), policy));
  }

  private applyJoin(decision: JoinDecision): void {
    this.joins = decision.state;
    for (const action of decision.actions) this.performJoin(action);
  }

  private performJoin(action: JoinAction): void {
    switch (action.kind) {
      case 'answer':
        if (action.message.type === 'join-refused')
          this.reject(`join for board ${action.message.board}: ${action.message.reason}`);
        this.net?.send(encodeJoin(action.message), action.to);
        return;
      case 'grant': {
        const key = this.options.keyFor(action.board);
        if (!key) return this.reject(`join for board ${action.board}: no key to hand over`);
        const { claimant } = action;
        const attachLine = this.options.join?.attachLine;
        const grant: JoinGrant = {
          type: 'join-grant',
          board: action.board,
          public_key: claimant.publicKey,
          ...sealGrant(action.board, claimant.publicKey, { key, ...(attachLine ? { attachLine } : {}) }),
        };
        const datagram = encodeJoin(grant);
        this.grants.set(action.board, datagram);
        this.net?.send(datagram, claimant.from);
        return;
      }
      case 'regrant': {
        const datagram = this.grants.get(action.board);
        if (datagram) this.net?.send(datagram, action.to);
        return;
      }
      case 'log':
        this.record(action.board, action.event, action.details);
        return;
      case 'alert':
        this.perform(action.board, { kind: 'alert', message: action.message });
        return;
    }
  }

  private onDatagram(datagram: Buffer, from: Peer): void {
    if (isJoinDatagram(datagram)) return this.onJoin(datagram, from);
    const opened = openEnvelope(datagram, this.options.keyFor);
    if (!opened.ok) return this.reject(opened.error);
    const decoded = decodeAgentMessage(opened.body);
    if (!decoded.ok) return this.reject(`board ${opened.board}: ${decoded.error}`);
    if (decoded.figuresError) this.dropFigures(`board ${opened.board}: ${decoded.figuresError}`);
    const message = decoded.message;
    const board = message.board;
    if (board !== opened.board || !this.states.has(board))
      return this.reject(`board ${opened.board}: message names board ${board}`);
    const at = Date.now();
    switch (message.type) {
      case 'heartbeat': {
        // Freshness is the boot id and the rising sequence (judged in decide), never the board's clock. The clock
        // only screens a boot not proven yet: such a board is probed (a nonce, no clock), and its answer proves
        // the boot, whose heartbeats then count whatever its clock says. A wrong clock is reported once.
        const stale = outsideWindow(message.time_ms, at, this.options.replayWindowMs ?? 30_000);
        if (stale) {
          this.reportSkew(board, message.boot_id, message.time_ms - at);
          if (this.states.get(board)!.bootId !== message.boot_id) {
            this.perform(board, { kind: 'probe' });
            this.peers.set(board, this.peers.get(board) ?? from);
            return this.reject(`board ${board}: heartbeat of an unproven boot ${stale}`);
          }
        }
        const before = this.states.get(board)!.telemetry;
        if (!this.apply(board, { kind: 'heartbeat', at, heartbeat: message })) return;
        this.peers.set(board, from);
        if (message.firmware) this.firmware.set(board, message.firmware);
        else this.firmware.delete(board);
        if (message.visor_update) this.visorUpdates.set(board, message.visor_update);
        else this.visorUpdates.delete(board);
        // Heard with its own key: an open join window for it closes (join-window.ts).
        const policy = this.joinPolicy();
        if (policy && this.joins.windows.has(board))
          this.applyJoin(boardHeard(this.joins, board, at, policy));
        // Telemetry of a replaced boot starts over; a board's disks are judged against its own last report.
        const after = this.states.get(board)!.telemetry;
        for (const e of [...diskEvents(before, after), ...visorEvents(before, after)])
          this.record(board, e.event, e.details);
        this.offerHypervisorKey(board, message.boot_id, after, at);
        this.acknowledgeTrial(board, message.boot_id, message.firmware, message.health.ok, at);
        this.offerRewardAddress(board, message.boot_id, after, at);
        return;
      }
      case 'probe-answer': {
        const nonces = this.nonces.get(board);
        if (!nonces?.delete(message.nonce))
          return this.reject(`board ${board}: probe answer to no probe of ours`);
        this.peers.set(board, from);
        this.apply(board, { kind: 'probe-answer', at, bootId: message.boot_id });
        return;
      }
      case 'command-ack':
        if (this.updateCommands.delete(message.seq)) return;
        if (this.pendingCommand.get(board) !== message.seq)
          return this.reject(`board ${board}: acknowledgement of no command of ours`);
        this.pendingCommand.delete(board);
        this.apply(board, { kind: 'command-ack', at, bootId: message.boot_id });
        return;
    }
  }

  /**
   * The answer to a worker's heartbeat whose visor trusts another hypervisor key: the manager's visor key, sealed
   * with the board's own key and bound to its boot, so a worker's visor trusts a hypervisor only on the manager's
   * word. Rate-limited per board; the board's next heartbeats show whether it took it.
   */
  private offerHypervisorKey(
    board: number,
    bootId: string,
    figures: HeartbeatFigures | undefined,
    at: number,
  ): void {
    const hypervisorPk = boxHypervisorKey(this.states.get(1)?.telemetry);
    if (!hypervisorKeyDue({ board, figures, hypervisorPk, lastSentAt: this.keySentAt.get(board), now: at }))
      return;
    this.keySentAt.set(board, at);
    this.sendTo(board, {
      type: 'hypervisor-key',
      board,
      boot_id: bootId,
      seq: ++this.commandSeq,
      pk: hypervisorPk!,
    });
  }

  /** A taken heartbeat of a trial boot is answered with `commit`: its watch may commit the new slot on it. */
  private acknowledgeTrial(
    board: number,
    bootId: string,
    firmware: FirmwareReport | undefined,
    healthy: boolean,
    at: number,
  ): void {
    const last = this.trialAckedAt.get(board);
    if (!trialAckDue({ firmware, healthy, bootId, last, now: at })) return;
    this.trialAckedAt.set(board, { bootId, at });
    this.sendUpdate(board, 'commit');
  }

  /**
   * The answer to a heartbeat of a board whose visor the rewards service wants set on the board itself (its
   * hypervisor cannot reach it): the box's reward address for the visor's reward.txt, sealed like the hypervisor key.
   */
  private offerRewardAddress(
    board: number,
    bootId: string,
    figures: HeartbeatFigures | undefined,
    at: number,
  ): void {
    const wanted = this.options.rewardAddressFor?.(board) ?? null;
    if (!rewardAddressDue({ figures, wanted, lastSentAt: this.rewardSentAt.get(board), now: at })) return;
    this.rewardSentAt.set(board, at);
    this.sendTo(board, {
      type: 'reward-address',
      board,
      boot_id: bootId,
      seq: ++this.commandSeq,
      address: wanted!,
    });
  }

  /** The heartbeat still counts as a sign of life; only its figures are lost. Logged when the reason changes. */
  private dropFigures(reason: string): void {
    this.figuresDropped++;
    if (reason !== this.lastFiguresError) this.logger.warn(`figures dropped: ${reason}`);
    this.lastFiguresError = reason;
  }

  /** Once per boot: the board's clock is off by `offsetMs`; its heartbeats still count (see onDatagram). */
  private reportSkew(board: number, bootId: string, offsetMs: number): void {
    if (this.skewReported.get(board) === bootId) return;
    this.skewReported.set(board, bootId);
    this.record(board, 'clock-skew', { offset_ms: Math.round(offsetMs) });
  }

  private reject(reason: string): void {
    this.rejected++;
    this.lastRejection = reason;
  }

  /**
   * Runs the decision for one board (or every board for a tick, board 0) and performs its actions.
   * Returns false when the decision refused the event as evidence.
   */
  private apply(board: number, event: BoardEvent): boolean {
    let changed = false;
    let persist = false;
    let accepted = true;
    const targets = board === 0 ? [...this.states.keys()] : [board];
    for (const n of targets) {
      const state = this.states.get(n)!;
      const decision = decide(state, event, this.options.policy);
      if (decision.rejected) {
        accepted = false;
        this.reject(`board ${n}: ${decision.rejected}`);
      }
      if (decision.state !== state) {
        changed ||= decision.state.status !== state.status;
        persist ||= persistentKey(decision.state) !== persistentKey(state);
        this.states.set(n, decision.state);
      }
      for (const action of decision.actions) this.perform(n, action);
    }
    if (persist) this.scheduleSave();
    if (changed) for (const listener of this.listeners) listener();
    return accepted;
  }

  private perform(board: number, action: BoardAction): void {
    switch (action.kind) {
      case 'log':
        this.record(board, action.event, action.details);
        return;
      case 'alert':
        this.logger.error(action.message);
        this.record(board, 'alert', { message: action.message });
        return;
      case 'probe': {
        const nonce = randomBytes(8).toString('hex');
        const nonces = this.nonces.get(board) ?? new Set<string>();
        // Only the latest few probes may be answered; older nonces expire.
        nonces.add(nonce);
        if (nonces.size > 16) nonces.delete(nonces.values().next().value!);
        this.nonces.set(board, nonces);
        this.sendTo(board, { type: 'probe', board, nonce });
        return;
      }
      case 'soft-reboot': {
        const seq = ++this.commandSeq;
        this.pendingCommand.set(board, seq);
        this.sendTo(board, { type: 'command', board, boot_id: action.bootId, seq, command: 'soft-reboot' });
        return;
      }
      case 'reset-pulse': {
        const reset = this.options.lines.get(board)?.reset;
        if (!reset) return;
        this.onLines(board, async () => {
          await reset.write(1);
          await delay(this.options.resetPulseMs ?? 200);
          await reset.write(0);
          this.openJoinWindow(board);
        });
        return;
      }
      case 'power': {
        const power = this.options.lines.get(board)?.power;
        if (!power) return;
        if (action.on) this.schedulePowerOn(board);
        else {
          this.cancelPowerOn(board);
          this.onLines(board, () => power.write(0));
        }
        return;
      }
    }
  }

  /**
   * Every board as a box-wide update weighs it: its status, whether it earns, its boot, its firmware and its visor
   * (the version its RPC gives and whether it runs, from the heartbeat's figures, and its latest visor update).
   */
  boardsSeen(): BoardSeen[] {
    return [...this.states.values()].map((s) => {
      const firmware = this.firmware.get(s.board);
      const figures = s.telemetry?.visor;
      const update = this.visorUpdates.get(s.board);
      const visor =
        figures || update
          ? {
              version: figures?.version ?? null,
              running: figures?.status === 'running',
              ...(update ? { update } : {}),
            }
          : undefined;
      return {
        board: s.board,
        status: s.status,
        earning: s.status === 'up' && s.health?.ok !== false,
        ...(s.health?.ok === false ? { failing: s.health.failing } : {}),
        ...(s.bootId !== undefined ? { bootId: s.bootId } : {}),
        ...(firmware ? { firmware } : {}),
        ...(visor ? { visor } : {}),
      };
    });
  }

  /**
   * Sends a box-wide update's word to the board's current boot over the authenticated channel: `update` (fetch and
   * install the bundle) or `commit` (its trial boot is acknowledged). False when the board has no boot to send to.
   */
  sendUpdate(board: number, command: 'update' | 'commit', update?: UpdateOrderWire): boolean {
    const bootId = this.states.get(board)?.bootId;
    if (bootId === undefined) return false;
    const seq = ++this.commandSeq;
    this.updateCommands.add(seq);
    // Acknowledgements that never came are forgotten: the rollout sends again if it hears nothing.
    if (this.updateCommands.size > 64) this.updateCommands.delete(this.updateCommands.values().next().value!);
    this.sendTo(board, {
      type: 'command',
      board,
      boot_id: bootId,
      seq,
      command,
      ...(update ? { update } : {}),
    });
    return true;
  }

  /** Takes the board down into its new slot: a reboot the supervisor expects, not a failure it counts. */
  updateReboot(board: number): void {
    if (this.states.has(board)) this.apply(board, { kind: 'update-reboot', at: Date.now() });
  }

  /** A box-wide update has the board installing, or no longer: its heartbeats may lag meanwhile. */
  updateInstalling(board: number, on: boolean): void {
    if (this.states.has(board)) this.apply(board, { kind: 'installing', at: Date.now(), on });
  }

  /** Records an event of another part of the manager (a box-wide update) in the supervisor's stream. */
  note(board: number, event: string, details?: Record<string, unknown>): void {
    this.record(board, event, details);
  }

  private sendTo(board: number, message: ManagerMessage): void {
    const peer = this.peers.get(board) ?? this.options.boardAddress?.(board);
    const key = this.options.keyFor(board);
    if (!peer || !key || !this.net) return;
    this.net.send(seal(key, board, encodeMessage(message)), peer);
  }

  private onLines(board: number, op: () => Promise<void>): void {
    const line = this.options.lines.get(board);
    const chain = (this.lineChains.get(board) ?? Promise.resolve()).then(op).catch((err: unknown) => {
      this.logger.error(
        `board ${board}: line operation on ${line?.power?.name ?? '?'} failed: ${String(err)}`,
      );
    });
    this.lineChains.set(board, chain);
  }

  /**
   * Power-on goes through one queue for the whole box, served by one timer: each board is switched on
   * `powerOnGapMs` after the previous one actually was, so a stalled loop never switches two on back to back and
   * the supply never dips. A board switched off while queued leaves the queue.
   */
  private schedulePowerOn(board: number, then?: () => void): void {
    if (!this.options.lines.get(board)?.power) return;
    if (this.powerQueue.some((q) => q.board === board)) return;
    this.powerQueue.push({ board, then });
    this.armPowerTimer();
  }

  private cancelPowerOn(board: number): void {
    const i = this.powerQueue.findIndex((q) => q.board === board);
    if (i >= 0) this.powerQueue.splice(i, 1);
  }

  private armPowerTimer(): void {
    if (this.powerTimer || this.powerQueue.length === 0 || this.stopped) return;
    const wait = Math.max(0, this.lastPowerOnAt + this.options.powerOnGapMs - Date.now());
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.powerTimer = null;
      const next = this.powerQueue.shift();
      if (!next) return;
      const power = this.options.lines.get(next.board)!.power!;
      this.lastPowerOnAt = Date.now();
      this.onLines(next.board, async () => {
        await power.write(1);
        this.openJoinWindow(next.board);
        next.then?.();
      });
      this.armPowerTimer();
    }, wait);
    this.powerTimer = timer;
    this.timers.add(timer);
  }

  private scheduleSave(): void {
    const file = this.options.stateFile;
    if (!file || this.saveQueued || this.stopped) return;
    this.saveQueued = true;
    this.saving = this.saving.then(async () => {
      this.saveQueued = false;
      await this.save();
    });
  }

  private async save(): Promise<void> {
    const file = this.options.stateFile;
    if (!file) return;
    try {
      await saveState(file, toSaved(this.states.values(), Date.now()));
    } catch (err) {
      this.logger.error(`state ${file}: not saved: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }

  private record(board: number, name: string, details?: Record<string, unknown>): void {
    const event: SupervisorEvent = {
      t: Math.round((Date.now() - this.startedAt) / 10) / 100,
      board,
      event: name,
      ...details,
    };
    this.recent.push(event);
    if (this.recent.length > 1000) this.recent.splice(0, this.recent.length - 1000);
    this.options.events?.(event);
    for (const listener of this.eventListeners) listener(event);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
