import { createConnection, type Socket } from 'node:net';
import type { SupervisorEvent } from '../supervisor/event-log.js';
import { LineSplitter, MAX_RESPONSE_BYTES, type ErrorCode, type RequestBody } from './protocol.js';

/** Where the supervisor serves its control socket on a box. */
export const DEFAULT_CONTROL_PATH = '/run/skyminer/control.sock';

/** Nothing serves the control socket: the supervisor is not running (the CLI's exit code 69). */
export class ControlUnavailableError extends Error {
  override readonly name = 'ControlUnavailableError';
}

/** The supervisor answered with an error. */
export class ControlRequestError extends Error {
  override readonly name = 'ControlRequestError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The person asking stopped waiting (Ctrl-C). */
export class CancelledError extends Error {
  override readonly name = 'CancelledError';
}

export interface RequestOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** What the console and the CLI need of the supervisor; tests may serve it from a fake. */
export interface ControlApi {
  request<T = unknown>(body: RequestBody, options?: RequestOptions): Promise<T>;
  /** Streams new events until `signal` aborts (then resolves) or the supervisor goes away (then rejects). */
  follow(
    board: number | undefined,
    onEvent: (event: SupervisorEvent) => void,
    signal: AbortSignal,
  ): Promise<void>;
}

/** A client that opens one connection per request, so a restarted supervisor is picked up by the next command. */
export class ControlClient implements ControlApi {
  constructor(readonly path: string) {}

  async request<T = unknown>(body: RequestBody, options: RequestOptions = {}): Promise<T> {
    const socket = await this.connect(options.signal);
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const finish = (err: Error | null, value?: unknown): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        socket.destroy();
        if (err) reject(err);
        else resolve(value as T);
      };
      const onAbort = (): void => finish(new CancelledError('cancelled'));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const timeoutMs = options.timeoutMs ?? 10_000;
      const timer = setTimeout(
        () =>
          finish(
            new ControlRequestError('failed', `no answer from the supervisor within ${timeoutMs / 1000} s`),
          ),
        timeoutMs,
      );
      const splitter = new LineSplitter(
        MAX_RESPONSE_BYTES,
        (line) => {
          const answer = parseAnswer(line);
          if (answer instanceof Error) finish(answer);
          else if ('event' in answer) return;
          else if (answer.ok) finish(null, answer.result);
          else finish(new ControlRequestError(answer.code, answer.error));
        },
        () => finish(new ControlRequestError('failed', 'the supervisor sent an answer too long to read')),
      );
      socket.on('data', (chunk) => splitter.push(chunk));
      socket.on('error', (err) =>
        finish(new ControlRequestError('failed', `control socket: ${err.message}`)),
      );
      socket.on('close', () => finish(new ControlUnavailableError('the supervisor closed the connection')));
      if (options.signal?.aborted) return onAbort(); // Ctrl-C while connecting
      socket.write(JSON.stringify({ id: 1, ...body }) + '\n');
    });
  }

  async follow(
    board: number | undefined,
    onEvent: (event: SupervisorEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const socket = await this.connect(signal);
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (err: Error | null): void => {
        if (done) return;
        done = true;
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        if (err) reject(err);
        else resolve();
      };
      const onAbort = (): void => finish(null);
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) return finish(null); // Ctrl-C while connecting
      const splitter = new LineSplitter(
        MAX_RESPONSE_BYTES,
        (line) => {
          const answer = parseAnswer(line);
          if (answer instanceof Error) return finish(answer);
          if ('event' in answer) onEvent(answer.event as SupervisorEvent);
          else if (!answer.ok) finish(new ControlRequestError(answer.code, answer.error));
        },
        () => finish(new ControlRequestError('failed', 'the supervisor sent a line too long to read')),
      );
      socket.on('data', (chunk) => splitter.push(chunk));
      socket.on('error', (err) =>
        finish(new ControlRequestError('failed', `control socket: ${err.message}`)),
      );
      socket.on('close', () =>
        finish(new ControlUnavailableError('the supervisor stopped (connection closed)')),
      );
      socket.write(
        JSON.stringify({ id: 1, method: 'follow', ...(board !== undefined ? { board } : {}) }) + '\n',
      );
    });
  }

  private connect(signal?: AbortSignal): Promise<Socket> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new CancelledError('cancelled'));
      const socket = createConnection(this.path);
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        socket.destroy();
        switch (err.code) {
          case 'ENOENT':
            return reject(
              new ControlUnavailableError(`supervisor not running: no control socket at ${this.path}`),
            );
          case 'ECONNREFUSED':
            return reject(
              new ControlUnavailableError(`supervisor not running: nothing answers on ${this.path}`),
            );
          case 'EACCES':
            return reject(
              new ControlRequestError(
                'failed',
                `permission denied on ${this.path}: needs root or the skyminer group`,
              ),
            );
          default:
            return reject(
              new ControlUnavailableError(
                `supervisor not reachable on ${this.path}: ${err.code ?? err.message}`,
              ),
            );
        }
      });
    });
  }
}

type Answer =
  | { id: number | null; ok: true; result: unknown }
  | { id: number | null; ok: false; code: ErrorCode; error: string }
  | { id: number; event: unknown };

function parseAnswer(line: string): Answer | Error {
  try {
    const doc = JSON.parse(line) as Answer;
    if (typeof doc === 'object' && doc !== null && ('ok' in doc || 'event' in doc)) return doc;
  } catch {
    // fall through
  }
  return new ControlRequestError('failed', 'the supervisor sent something that is not a control answer');
}
