import { lstat, mkdir, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { silentLogger, type Logger } from '../../drivers/logger.js';
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
  /** Connections served at once; more are answered with one error line and closed. */
  maxConnections?: number;
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
  private readonly sockets = new Set<Socket>();
  private readonly logger: Logger;

  constructor(
    private readonly operator: SupervisorOperator,
    private readonly sources: ControlSources,
    private readonly options: ControlServerOptions,
  ) {
    this.logger = options.logger ?? silentLogger;
  }

  get path(): string {
    return this.options.path;
  }

  async listen(): Promise<void> {
    const { path } = this.options;
    await mkdir(dirname(path), { recursive: true });
    await removeStaleSocket(path);
    const server = createServer((socket) => this.accept(socket));
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
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    socket.on('error', () => {
      // A client that vanished mid-answer is its own business.
    });
    if (this.sockets.size >= (this.options.maxConnections ?? 16)) {
      socket.end(JSON.stringify(errorLine(null, 'failed', 'too many control connections; try again')) + '\n');
      return;
    }
    this.sockets.add(socket);
    const stops: (() => void)[] = [];
    socket.on('close', () => {
      this.sockets.delete(socket);
      for (const stop of stops) stop();
    });
    const send = (line: object): void => {
      if (!socket.destroyed && socket.writable) socket.write(JSON.stringify(line) + '\n');
    };
    const splitter = new LineSplitter(
      MAX_REQUEST_BYTES,
      (line) => {
        if (line.trim() === '') return;
        const parsed = parseRequest(line);
        if (!parsed.ok) {
          send(errorLine(parsed.id, 'bad-request', parsed.error));
          return;
        }
        const request = parsed.request;
        if (request.method === 'follow') {
          stops.push(this.follow(request.id, request.board, send));
          return;
        }
        this.handle(request).then(
          (result) => send({ id: request.id, ok: true, result }),
          (err: unknown) => {
            if (err instanceof RequestError) send(errorLine(request.id, err.code, err.message));
            else {
              this.logger.warn(`control: ${request.method} failed: ${String(err)}`);
              send(errorLine(request.id, 'failed', `${request.method} failed: ${oneLine(err)}`));
            }
          },
        );
      },
      () => send(errorLine(null, 'bad-request', `request longer than ${MAX_REQUEST_BYTES} bytes`)),
    );
    socket.on('data', (chunk) => splitter.push(chunk));
  }

  private follow(id: number, board: number | undefined, send: (line: object) => void): () => void {
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
      case 'config': {
        const config = this.need(this.sources.config, 'the config in force');
        return { path: config.path ?? null, config: config.show() };
      }
      case 'attach':
        this.checkBoard(request.board);
        return this.need(this.sources.attach, 'attaching to a board')(request.board);
      case 'panel':
        return this.panel(request);
    }
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
