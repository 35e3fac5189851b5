import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { silentLogger, type Logger } from '../../drivers/logger.js';
import type { Watchdog } from '../../drivers/watchdog/watchdog.js';
import { encodeHeartbeat, type Health } from '../protocol/messages.js';

export interface AgentOptions {
  board: number;
  manager: { host: string; port: number };
  intervalMs: number;
  /** The board's health now; the agent sends it and (later) pets the watchdog only while it is ok. */
  health?: () => Health;
  /** Compact live figures to ride along in the heartbeat. */
  telemetry?: () => Record<string, unknown> | undefined;
  logger?: Logger;
  /** The board's hardware watchdog: armed at start, petted from the heartbeat loop only while healthy. */
  watchdog?: { device: Watchdog; timeoutS: number; disarmOnStop: boolean };
}

/**
 * The board-side program: one per board. It announces the board to the manager with a heartbeat every
 * interval. A new random boot id per start lets the supervisor tell a reboot from a late packet.
 */
export class Agent {
  readonly bootId = randomBytes(8).toString('hex');
  private socket: Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;
  private readonly startedAt = performance.now();
  private readonly logger: Logger;

  constructor(private readonly options: AgentOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  async start(): Promise<void> {
    const socket = createSocket('udp4');
    socket.on('error', (err) =>
      this.logger.warn(`board ${this.options.board}: socket error: ${err.message}`),
    );
    await new Promise<void>((resolve) => socket.bind(0, resolve));
    this.socket = socket;
    const wd = this.options.watchdog;
    if (wd) await wd.device.open(wd.timeoutS);
    this.beat();
    this.timer = setInterval(() => this.beat(), this.options.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const socket = this.socket;
    this.socket = null;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
    const wd = this.options.watchdog;
    if (wd) await wd.device.close(wd.disarmOnStop);
  }

  private beat(): void {
    const socket = this.socket;
    if (!socket) return;
    const health = this.options.health?.() ?? { ok: true, failing: [] };
    // Petting from this loop means a stalled loop or a sick board stops the petting and the board resets.
    if (health.ok) void this.options.watchdog?.device.pet();
    const message = encodeHeartbeat({
      type: 'heartbeat',
      board: this.options.board,
      boot_id: this.bootId,
      seq: this.seq++,
      uptime_s: Math.round((performance.now() - this.startedAt) / 100) / 10,
      health,
      telemetry: this.options.telemetry?.(),
    });
    // Fire and forget: a lost heartbeat is what the supervisor's timeout is for.
    socket.send(message, this.options.manager.port, this.options.manager.host, (err) => {
      if (err) this.logger.warn(`board ${this.options.board}: heartbeat not sent: ${err.message}`);
    });
  }
}
