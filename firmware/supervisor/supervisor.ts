import { createSocket, type Socket } from 'node:dgram';
import type { OutputLine } from '../../drivers/gpio/line.js';
import { silentLogger, type Logger } from '../../drivers/logger.js';
import { decodeHeartbeat } from '../protocol/messages.js';
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
import type { BoxView } from './view.js';

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
  tickMs?: number;
  /** How long a reset line is held asserted, and a power cycle keeps power off. */
  resetPulseMs?: number;
  powerCycleOffMs?: number;
  logger?: Logger;
  events?: EventSink;
}

/**
 * The manager-side loop: feeds heartbeats, power changes and clock ticks to the pure `decide`, stores the
 * new states and performs the actions. It senses line levels at start instead of trusting any saved belief,
 * and switches unpowered boards on one by one.
 */
export class Supervisor implements SupervisorOperator {
  private readonly states = new Map<number, BoardState>();
  private socket: Socket | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private readonly powerTimers = new Set<NodeJS.Timeout>();
  private readonly startedAt = Date.now();
  private readonly logger: Logger;
  private readonly listeners = new Set<() => void>();
  private readonly eventListeners = new Set<(event: SupervisorEvent) => void>();
  /** The newest events, for the console; the event log on disk keeps the full history. */
  private readonly recent: SupervisorEvent[] = [];
  /** Datagrams refused (malformed, wrong board), for the console and tests. */
  rejected = 0;
  port = 0;

  constructor(private readonly options: SupervisorOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  async start(): Promise<void> {
    const now = Date.now();
    const unpowered: number[] = [];
    for (let board = 1; board <= this.options.boards; board++) {
      const power = this.options.lines.get(board)?.power;
      const powered = power ? (await power.read()) === 1 : true;
      this.states.set(board, initialState(board, powered, now));
      if (!powered) unpowered.push(board);
    }
    const socket = createSocket('udp4');
    socket.on('message', (msg) => this.onDatagram(msg));
    socket.on('error', (err) => this.logger.warn(`heartbeat socket: ${err.message}`));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.options.listen.port, this.options.listen.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    this.socket = socket;
    this.port = socket.address().port;
    this.tickTimer = setInterval(
      () => this.apply(0, { kind: 'tick', at: Date.now() }),
      this.options.tickMs ?? 200,
    );
    for (const { board, afterMs } of powerOnPlan(unpowered, this.options.powerOnGapMs)) {
      const timer = setTimeout(() => {
        this.powerTimers.delete(timer);
        void this.setPower(board, true);
      }, afterMs);
      this.powerTimers.add(timer);
    }
  }

  async stop(): Promise<void> {
    if (this.tickTimer) clearInterval(this.tickTimer);
    for (const timer of this.powerTimers) clearTimeout(timer);
    this.powerTimers.clear();
    const socket = this.socket;
    this.socket = null;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  /** Calls `listener` after any board's state changed. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
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
    if (!this.states.has(board))
      return { ok: false, message: `no board ${board}; boards are 1 to ${this.options.boards}` };
    const lines = this.options.lines.get(board);
    if (!lines?.power && operation !== 'release') {
      return { ok: false, message: `board ${board} has no power or reset line (board 1 is the manager)` };
    }
    this.record(board, 'operator', { operation, by });
    switch (operation) {
      case 'on':
      case 'off':
        await this.setPower(board, operation === 'on');
        return { ok: true, message: `board ${board} switched ${operation}` };
      case 'reset': {
        if (!lines?.reset) return { ok: false, message: `board ${board} has no reset line` };
        await lines.reset.write(1);
        await delay(this.options.resetPulseMs ?? 200);
        await lines.reset.write(0);
        return { ok: true, message: `board ${board} reset` };
      }
      case 'cycle':
        await this.setPower(board, false);
        await delay(this.options.powerCycleOffMs ?? 5000);
        await this.setPower(board, true);
        return { ok: true, message: `board ${board} power-cycled` };
      case 'release':
        return { ok: true, message: `board ${board} is not quarantined` };
    }
  }

  async setPower(board: number, on: boolean): Promise<void> {
    const line = this.options.lines.get(board)?.power;
    if (!line) return;
    try {
      await line.write(on ? 1 : 0);
      this.apply(board, { kind: 'power', at: Date.now(), on });
    } catch (err) {
      this.logger.error(
        `board ${board}: cannot switch power ${on ? 'on' : 'off'} on ${line.name}: ${String(err)}`,
      );
    }
  }

  private onDatagram(msg: Buffer): void {
    const decoded = decodeHeartbeat(msg);
    if (!decoded.ok || !this.states.has(decoded.message.board)) {
      this.rejected++;
      return;
    }
    this.apply(decoded.message.board, { kind: 'heartbeat', at: Date.now(), heartbeat: decoded.message });
  }

  /** Runs the decision for one board (or every board for a tick, board 0) and performs its actions. */
  private apply(board: number, event: BoardEvent): void {
    let changed = false;
    const targets = board === 0 ? [...this.states.keys()] : [board];
    for (const n of targets) {
      const state = this.states.get(n)!;
      const decision = decide(state, event, this.options.policy);
      if (decision.state !== state) {
        changed ||= decision.state.status !== state.status;
        this.states.set(n, decision.state);
      }
      for (const action of decision.actions) this.perform(n, action);
    }
    if (changed) for (const listener of this.listeners) listener();
  }

  private perform(board: number, action: BoardAction): void {
    switch (action.kind) {
      case 'log':
        this.record(board, action.event, action.details);
        return;
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
