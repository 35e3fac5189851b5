import { lstat, mkdir, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { silentLogger, type Logger } from '../../drivers/logger.js';
import { loadNativeIoctl } from '../../drivers/native/addon.js';
import { checkRewardAddress } from '../rewards/reward-address.js';
import { passwordProblem } from '../skywire/hypervisor-account.js';
import type { SupervisorEvent } from '../supervisor/event-log.js';
import type { SupervisorOperator } from '../supervisor/operator.js';
import {
  LineSplitter,
  MAX_REQUEST_BYTES,
  parseRequest,
  PROTOCOL_VERSION,
  type ControlRequest,
  type ControlResponse,
  type ErrorCode,
} from './protocol.js';
import { restrictSocket } from './socket-access.js';
import type { ControlSources } from './sources.js';

export interface ControlServerOptions {
  path: string;
  /** Group allowed beside root (default `skyminer`); null leaves the group alone. */
  group?: string | null;
  /** Where to look the group up (tests pass their own). */
  etcGroup?: string;
  logger?: Logger;
  /** Connections served at once; past it the one idle longest is closed, or the newcomer is refused. */
  maxConnections?: number;
  /** A connection with nothing under way and nothing sent for this long is closed. */
  idleMs?: number;
  /** Requests of one connection under way at once; further lines wait unread (the socket stops reading). */
  maxPending?: number;
  /** `follow` subscriptions per connection. */
  maxFollows?: number;
  /** Answers a client has not read: past this the connection stops being read (and a follower is dropped). */
  maxUnreadBytes?: number;
}

interface ConnectionLimits {
  maxConnections: number;
  idleMs: number;
  maxPending: number;
  maxFollows: number;
  maxUnreadBytes: number;
}

type Send = (line: object) => void;

/**
 * One client. Lines are queued as they arrive and performed a few at a time: at most `maxPending` under way,
 * none while the client leaves `maxUnreadBytes` of answers unread, and a turn of the event loop between
 * batches, so no client can hold the loop that supervision runs on or make the server's memory grow.
 */
class Connection {
  private readonly queue: string[] = [];
  private pending = 0;
  private readonly follows: (() => void)[] = [];
  private ended = false;
  private scheduled = false;
  lastActive = Date.now();
  private readonly splitter: LineSplitter;

  constructor(
    readonly socket: Socket,
    private readonly limits: ConnectionLimits,
    private readonly perform: (request: ControlRequest, send: Send) => Promise<void> | (() => void),
  ) {
    this.splitter = new LineSplitter(
      MAX_REQUEST_BYTES,
      (line) => {
        if (line.trim() !== '') this.queue.push(line);
      },
      () => this.send(errorLine(null, 'bad-request', `request longer than ${MAX_REQUEST_BYTES} bytes`)),
    );
    socket.setTimeout(limits.idleMs);
    socket.on('timeout', () => {
      if (this.idle()) socket.destroy();
    });
    socket.on('data', (chunk) => {
      this.lastActive = Date.now();
      this.splitter.push(chunk);
      this.pump();
    });
    // The client shut its side: a last line without its newline is still a request, and every request is
    // answered before this side closes.
    socket.on('end', () => {
      this.ended = true;
      this.splitter.flush();
      this.pump();
    });
    socket.on('drain', () => this.pump());
    socket.on('close', () => {
      for (const stop of this.follows) stop();
      this.follows.length = 0;
      this.queue.length = 0;
    });
  }

  /** Nothing under way, nothing waiting, nothing followed: the connection may be closed at no loss. */
  idle(): boolean {
    return this.pending === 0 && this.queue.length === 0 && this.follows.length === 0;
  }

  private send = (line: object): void => {
    const { socket } = this;
    if (socket.destroyed || !socket.writable) return;
    socket.write(JSON.stringify(line) + '\n');
  };

  /** Event lines for a follower: one that leaves them unread past the limit is dropped, not buffered. */
  private sendEvent = (line: object): void => {
    if (this.socket.writableLength > this.limits.maxUnreadBytes) {
      this.socket.destroy();
      return;
    }
    this.send(line);
  };

  private pump(): void {
    const { socket, limits } = this;
    if (socket.destroyed) return;
    let budget = limits.maxPending;
    while (
      this.queue.length > 0 &&
      this.pending < limits.maxPending &&
      socket.writableLength <= limits.maxUnreadBytes &&
      budget-- > 0
    ) {
      this.lastActive = Date.now();
      this.run(this.queue.shift()!);
    }
    if (this.queue.length > 0) {
      socket.pause();
      // Blocked by nothing but this turn's budget: go on after the loop has run timers and I/O.
      if (this.pending < limits.maxPending && socket.writableLength <= limits.maxUnreadBytes) this.later();
    } else if (!this.ended) socket.resume();
    else if (this.pending === 0 && this.follows.length === 0 && socket.writable) socket.end();
  }

  private later(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private run(line: string): void {
    const parsed = parseRequest(line);
    if (!parsed.ok) {
      this.send(errorLine(parsed.id, 'bad-request', parsed.error));
      return;
    }
    const request = parsed.request;
    if (request.method === 'follow' && this.follows.length >= this.limits.maxFollows) {
      this.send(errorLine(request.id, 'usage', `at most ${this.limits.maxFollows} follows per connection`));
      return;
    }
    this.pending++;
    let outcome: Promise<void> | (() => void);
    try {
      outcome = this.perform(request, request.method === 'follow' ? this.sendEvent : this.send);
    } catch (err) {
      outcome = Promise.resolve();
      const e = err as { code?: ErrorCode; message?: string };
      this.send(errorLine(request.id, e.code ?? 'failed', e.message ?? String(err)));
    }
    if (typeof outcome === 'function') {
      this.follows.push(outcome);
      this.pending--;
      return;
    }
    void outcome.finally(() => {
      this.pending--;
      this.later();
    });
  }
}

/** An answer that is an error, thrown by a handler and turned into one response line. */
class RequestError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The supervisor's local control socket. Every request line is validated; a bad one is answered with a one-line
 * error and the connection stays usable. Nothing a client sends can stop the server or the supervisor.
 */
export class ControlServer {
  private server: Server | null = null;
  private readonly connections = new Set<Connection>();
  private readonly turnedAway = new Set<Socket>();
  private readonly logger: Logger;
  private readonly limits: ConnectionLimits;

  constructor(
    private readonly operator: SupervisorOperator,
    private readonly sources: ControlSources,
    private readonly options: ControlServerOptions,
  ) {
    this.logger = options.logger ?? silentLogger;
    this.limits = {
      maxConnections: options.maxConnections ?? 16,
      idleMs: options.idleMs ?? 30_000,
      maxPending: options.maxPending ?? 8,
      maxFollows: options.maxFollows ?? 4,
      maxUnreadBytes: options.maxUnreadBytes ?? 1 << 20,
    };
  }

  get path(): string {
    return this.options.path;
  }

  async listen(): Promise<void> {
    const { path } = this.options;
    await mkdir(dirname(path), { recursive: true });
    await removeStaleSocket(path);
    // Half-open: a client that sends its request and shuts its side still gets every answer.
    const server = createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
    server.on('error', (err) => this.logger.warn(`control socket ${path}: ${err.message}`));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const access = await restrictSocket(path, { group: this.options.group, etcGroup: this.options.etcGroup });
    this.logger.info(`control socket on ${path} (${access})`);
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const connection of this.connections) connection.socket.destroy();
    for (const socket of this.turnedAway) socket.destroy();
    // Every socket is destroyed above; the bound only guards the supervisor's stop (and its last save).
    if (server)
      await new Promise<void>((resolve) => {
        setTimeout(resolve, 2000).unref();
        server.close(() => resolve());
      });
  }

  private accept(socket: Socket): void {
    socket.on('error', () => {
      // A client that vanished mid-answer is its own business.
    });
    if (this.connections.size >= this.limits.maxConnections) {
      // Room is made by closing the connection idle longest; only when every one is busy is the newcomer refused.
      const idle = [...this.connections]
        .filter((c) => c.idle())
        .sort((a, b) => a.lastActive - b.lastActive)[0];
      if (idle) idle.socket.destroy();
      else return this.turnAway(socket);
    }
    const peer = peerOf(socket);
    const connection = new Connection(socket, this.limits, (request, send) =>
      this.dispatch(request, send, peer),
    );
    this.connections.add(connection);
    socket.on('close', () => this.connections.delete(connection));
  }

  /** Answers one error line and closes: a turned-away connection never lingers, whatever the client does. */
  private turnAway(socket: Socket): void {
    this.turnedAway.add(socket);
    socket.on('close', () => this.turnedAway.delete(socket));
    const line = JSON.stringify(errorLine(null, 'failed', 'too many control connections; try again')) + '\n';
    socket.end(line, () => socket.destroy());
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  /** Performs one request; resolves once its answer is sent (a follow once it is subscribed). */
  private dispatch(request: ControlRequest, send: Send, peer: string): Promise<void> | (() => void) {
    if (request.method === 'follow') {
      if (request.board !== undefined) this.checkBoard(request.board);
      return this.follow(request.id, request.board, send);
    }
    // Who asked is what the kernel says of the peer; the client's own words only follow, in brackets.
    if (request.method === 'operate') request.by = `${peer} (${request.by})`;
    if (request.method === 'update') request.by = request.by ? `${peer} (${request.by})` : peer;
    return this.handle(request).then(
      (result) => void send({ id: request.id, ok: true, result }),
      (err: unknown) => {
        if (err instanceof RequestError) send(errorLine(request.id, err.code, err.message));
        else {
          this.logger.warn(`control: ${request.method} failed: ${String(err)}`);
          send(errorLine(request.id, 'failed', `${request.method} failed: ${oneLine(err)}`));
        }
      },
    );
  }

  private follow(id: number, board: number | undefined, send: Send): () => void {
    send({ id, ok: true, result: 'following' });
    return this.operator.onEvent((event: SupervisorEvent) => {
      if (board === undefined || event.board === board) send({ id, event });
    });
  }

  private async handle(request: Exclude<ControlRequest, { method: 'follow' }>): Promise<unknown> {
    switch (request.method) {
      case 'hello':
        return {
          product: 'skyminer',
          protocol: PROTOCOL_VERSION,
          boards: this.operator.view().boards.length,
        };
      case 'view':
        return this.operator.view();
      case 'events':
        if (request.board !== undefined) this.checkBoard(request.board);
        return this.operator.recentEvents({ board: request.board, limit: request.limit });
      case 'operate': {
        this.checkBoard(request.board);
        const result = await this.operator.operate(request.board, request.operation, request.by);
        if (!result.ok) throw new RequestError('failed', result.message);
        return result;
      }
      case 'disks':
        return this.need(this.sources.disks, 'disk data')();
      case 'rewards':
        return this.need(this.sources.rewards, 'rewards data')();
      case 'reward-address': {
        const checked = checkRewardAddress(request.address);
        if (!checked.ok) throw new RequestError('usage', checked.error);
        return this.need(this.sources.setRewardAddress, 'setting the reward address')(checked.address);
      }
      case 'skywire':
        return this.need(this.sources.skywire, 'Skywire data')();
      case 'hypervisor-password': {
        const control = this.need(this.sources.hypervisorPassword, "the hypervisor's password");
        if (request.action === 'show') return { password: await control.show() };
        if (request.password === undefined) throw new RequestError('usage', 'name the new password');
        const problem = passwordProblem(request.password);
        if (problem) throw new RequestError('usage', problem);
        await control.set(request.password);
        return { changed: true };
      }
      case 'config': {
        const config = this.need(this.sources.config, 'the config in force');
        return { path: config.path ?? null, config: config.show() };
      }
      case 'attach':
        this.checkBoard(request.board);
        return this.need(this.sources.attach, 'attaching to a board')(request.board);
      case 'panel':
        return this.panel(request);
      case 'update':
        return this.update(request);
    }
  }

  private async update(request: Extract<ControlRequest, { method: 'update' }>): Promise<unknown> {
    const update = this.need(this.sources.update, 'box-wide updates');
    const by = request.by ?? 'control';
    if (request.action === 'status') return update.status();
    if (request.action === 'start' && !request.source)
      throw new RequestError('usage', 'update: name a bundle (a path on the manager or a URL)');
    const answer =
      request.action === 'start' ? await update.start(request.source!, by) : await update.stop(by);
    if (!answer.ok) throw new RequestError('failed', answer.message);
    return answer;
  }

  private panel(request: Extract<ControlRequest, { method: 'panel' }>): unknown {
    const panel = this.need(this.sources.panel, 'the front panel');
    switch (request.action) {
      case 'pages':
        return { pages: panel.pages() };
      case 'page': {
        const pages = panel.pages();
        if (request.page === undefined || !pages.includes(request.page)) {
          throw new RequestError(
            'usage',
            `no panel page "${request.page ?? ''}"; pages: ${pages.join(', ')}`,
          );
        }
        panel.pin(request.page);
        return { pinned: request.page };
      }
      case 'cycle':
        panel.pin(null);
        return { pinned: null };
      case 'dim':
      case 'off':
      case 'on':
        panel[request.action]();
        return { panel: request.action };
      case 'snapshot':
        return { png_base64: panel.snapshot().toString('base64') };
    }
  }

  private checkBoard(board: number): void {
    const count = this.operator.view().boards.length;
    if (board > count) throw new RequestError('usage', `no board ${board}; boards are 1 to ${count}`);
  }

  private need<T>(source: T | undefined, what: string): NonNullable<T> {
    if (source === undefined || source === null) {
      throw new RequestError('not-available', `${what} is not available on this box`);
    }
    return source as NonNullable<T>;
  }
}

/** The peer's uid and pid as the kernel recorded them at connect (SO_PEERCRED), or `peer=unknown`. */
function peerOf(socket: Socket): string {
  try {
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (fd === undefined || fd < 0) return 'peer=unknown';
    const cred = loadNativeIoctl().peerCredentials(fd);
    return `uid=${cred.uid} pid=${cred.pid}`;
  } catch {
    return 'peer=unknown';
  }
}

function errorLine(id: number | null, code: ErrorCode, error: string): ControlResponse {
  return { id, ok: false, code, error };
}

function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!.slice(0, 200);
}

/**
 * A socket file left by a supervisor that died is removed; one that still answers means another server runs,
 * and anything that is not a socket is never deleted.
 */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch {
    return;
  }
  if (!isSocket) throw new Error(`control socket ${path}: a file that is not a socket is in the way`);
  const alive = await new Promise<boolean>((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`control socket ${path}: another supervisor is already serving it`);
  await unlink(path);
}
