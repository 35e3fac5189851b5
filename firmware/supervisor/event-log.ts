import { appendFile, rename, stat } from 'node:fs/promises';

/** One supervisor event: `t` is seconds since the supervisor started, `board` is numbered from 1. */
export interface SupervisorEvent {
  t: number;
  board: number;
  event: string;
  [detail: string]: unknown;
}

export type EventSink = (event: SupervisorEvent) => void;

export interface EventLogOptions {
  /** Rotate once the file reaches this size: `events.jsonl` -> `events.jsonl.1` -> ... */
  maxBytes?: number;
  /** How many rotated files to keep. */
  keep?: number;
}

/**
 * Appends events as JSON lines, rotated by size. Writes are chained so lines never interleave, and a failing
 * disk is reported once instead of taking the supervisor down.
 */
export class JsonLinesEventLog {
  private chain: Promise<void> = Promise.resolve();
  private failing = false;
  private size: number | undefined;

  constructor(
    readonly path: string,
    private readonly onError: (message: string) => void = () => {},
    private readonly rotation: EventLogOptions = {},
  ) {}

  readonly sink: EventSink = (event) => {
    const line = JSON.stringify(event) + '\n';
    this.chain = this.chain.then(() =>
      this.append(line).then(
        () => {
          this.failing = false;
        },
        (err: NodeJS.ErrnoException) => {
          if (!this.failing) this.onError(`event log ${this.path}: ${err.code ?? err.message}`);
          this.failing = true;
        },
      ),
    );
  };

  private async append(line: string): Promise<void> {
    const max = this.rotation.maxBytes;
    if (max !== undefined) {
      this.size ??= await stat(this.path).then(
        (s) => s.size,
        () => 0,
      );
      if (this.size > 0 && this.size + Buffer.byteLength(line) > max) {
        await this.rotate();
        this.size = 0;
      }
    }
    await appendFile(this.path, line);
    if (this.size !== undefined) this.size += Buffer.byteLength(line);
  }

  private async rotate(): Promise<void> {
    const keep = Math.max(1, this.rotation.keep ?? 3);
    for (let i = keep - 1; i >= 1; i--) {
      await rename(`${this.path}.${i}`, `${this.path}.${i + 1}`).catch(() => {});
    }
    await rename(this.path, `${this.path}.1`);
  }

  /** Resolves once every event recorded so far is on disk (or failed). */
  flush(): Promise<void> {
    return this.chain;
  }
}
