// The board's visor as a service: one process at a time, watched by its exit and a health probe (its local RPC
// port), restarted with backoff only after the old process has gone (a visor started too soon dies on `bind:
// address already in use`). Nothing here touches the watchdog: a missing or failing visor is reported, never a
// reason to stop petting.
import { createConnection } from 'node:net';
import { silentLogger, type Logger } from '../../drivers/logger.js';
import type { VisorProcess } from './visor-host.js';
import {
  decideVisor,
  DEFAULT_VISOR_POLICY,
  initialVisorState,
  visorSick,
  type VisorAction,
  type VisorEvent,
  type VisorPolicy,
  type VisorState,
  type VisorStatus,
} from './visor-policy.js';

export interface VisorServiceOptions {
  /** Starts the visor process (`skywire visor -c /opt/skywire/skywire.json`). */
  spawn: () => VisorProcess;
  /** True when the visor answers (default: its RPC port, localhost:3435, accepts a connection). */
  probe?: () => Promise<boolean>;
  policy?: VisorPolicy;
  probeEveryMs?: number;
  /** How long a killed visor gets to exit before SIGKILL (its own shutdown_timeout is 10 s). */
  killGraceMs?: number;
  now?: () => number;
  logger?: Logger;
}

/** What the heartbeat and the panel carry about the board's visor. */
export interface VisorReport {
  status: VisorStatus;
  pid: number | null;
  uptimeS: number | null;
  restarts: number;
  lastExit: string | null;
  /** Restarting too often lately: the board reports its visor as failing (the visor is still retried). */
  sick: boolean;
}

/** Resolves whether something accepts TCP connections at host:port within timeoutMs. */
export function tcpProbe(port: number, host = '127.0.0.1', timeoutMs = 2000): () => Promise<boolean> {
  return () =>
    new Promise((resolve) => {
      const s = createConnection({ port, host });
      const done = (ok: boolean) => {
        s.destroy();
        resolve(ok);
      };
      s.setTimeout(timeoutMs, () => done(false));
      s.once('connect', () => done(true)).once('error', () => done(false));
    });
}

export class VisorService {
  private state: VisorState;
  private child: VisorProcess | null = null;
  private readonly policy: VisorPolicy;
  private readonly now: () => number;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | null = null;
  private killTimer: NodeJS.Timeout | null = null;
  private probing = false;
  private exitWaiters: (() => void)[] = [];

  constructor(private readonly options: VisorServiceOptions) {
    this.policy = options.policy ?? DEFAULT_VISOR_POLICY;
    this.state = initialVisorState(this.policy);
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? silentLogger;
  }

  start(): void {
    this.apply({ kind: 'start' });
    this.timer ??= setInterval(() => void this.tick(), this.options.probeEveryMs ?? 5000);
  }

  /** Stops the visor and waits for its process to exit. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const gone = this.child ? new Promise<void>((r) => this.exitWaiters.push(r)) : Promise.resolve();
    this.apply({ kind: 'stop' });
    await gone;
  }

  report(): VisorReport {
    const s = this.state;
    return {
      status: s.status,
      pid: this.child?.pid ?? null,
      uptimeS: s.startedAtMs === null ? null : Math.max(0, (this.now() - s.startedAtMs) / 1000),
      restarts: s.restarts,
      lastExit: s.lastExit,
      sick: visorSick(s, this.now(), this.policy),
    };
  }

  /** One probe and one look at the restart timer (the interval calls it; tests may too). */
  async tick(): Promise<void> {
    this.apply({ kind: 'tick' });
    if (this.probing || (this.state.status !== 'starting' && this.state.status !== 'running')) return;
    this.probing = true;
    try {
      const ok = await (this.options.probe ?? tcpProbe(3435))().catch(() => false);
      this.apply({ kind: 'probe', ok });
    } finally {
      this.probing = false;
    }
  }

  private apply(e: VisorEvent): void {
    const { state, actions } = decideVisor(this.state, e, this.now(), this.policy);
    this.state = state;
    for (const a of actions) this.act(a);
  }

  private act(a: VisorAction): void {
    if (a.kind === 'log') this.logger.warn(`visor: ${a.message}`);
    else if (a.kind === 'spawn') this.spawn();
    else this.kill(a.reason);
  }

  private spawn(): void {
    let child: VisorProcess;
    try {
      child = this.options.spawn();
    } catch (err) {
      queueMicrotask(() => this.apply({ kind: 'exited', how: `not started: ${(err as Error).message}` }));
      return;
    }
    this.child = child;
    child.once('error', (err) => {
      if (this.child === child && child.pid === undefined) {
        this.child = null;
        this.apply({ kind: 'exited', how: `not started: ${err.message}` });
        this.release();
      }
    });
    child.once('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = null;
      if (this.killTimer) clearTimeout(this.killTimer);
      this.killTimer = null;
      this.apply({ kind: 'exited', how: signal ? `signal ${signal}` : `exit code ${code}` });
      this.release();
    });
  }

  private release(): void {
    const waiters = this.exitWaiters;
    this.exitWaiters = [];
    for (const w of waiters) w();
  }

  private kill(reason: string): void {
    const child = this.child;
    if (!child) {
      this.apply({ kind: 'exited', how: 'not running' });
      this.release();
      return;
    }
    // Stopping with the service is routine; a visor killed for not answering is news.
    this.logger[this.state.stopRequested ? 'info' : 'warn'](`visor: stopping it (${reason})`);
    child.kill('SIGTERM');
    this.killTimer = setTimeout(() => child.kill('SIGKILL'), this.options.killGraceMs ?? 15_000);
  }
}
