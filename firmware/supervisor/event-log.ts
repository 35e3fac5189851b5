import { appendFile } from 'node:fs/promises';

/** One supervisor event: `t` is seconds since the supervisor started, `board` is numbered from 1. */
export interface SupervisorEvent {
  t: number;
  board: number;
  event: string;
  [detail: string]: unknown;
}

export type EventSink = (event: SupervisorEvent) => void;

/**
 * Appends events as JSON lines. Writes are chained so lines never interleave, and a failing disk is
 * reported once instead of taking the supervisor down.
 */
export class JsonLinesEventLog {
  private chain: Promise<void> = Promise.resolve();
  private failing = false;

  constructor(
    readonly path: string,
    private readonly onError: (message: string) => void = () => {},
  ) {}

  readonly sink: EventSink = (event) => {
    const line = JSON.stringify(event) + '\n';
    this.chain = this.chain.then(() =>
      appendFile(this.path, line).then(
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

  /** Resolves once every event recorded so far is on disk (or failed). */
  flush(): Promise<void> {
    return this.chain;
  }
}
