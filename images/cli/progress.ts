// How `skyminer-image build` shows its stages: on a terminal, one live line under the log (the stage, its
// elapsed time and, where it is known, how far it got); anywhere else (CI, a pipe) only the plain log lines.

export interface ProgressOut {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface BuildProgress {
  /** A log line: kept on screen, and the stage the live line now follows. */
  line(message: string): void;
  /** How far the current stage got, 0 to 1, with a short detail such as "120/260 MiB". */
  update(fraction: number, detail: string): void;
  /** Clears the live line; the log above it stays. */
  end(): void;
}

/** Plain lines only: what CI logs and pipes get. */
export function plainProgress(out: ProgressOut): BuildProgress {
  return {
    line: (m) => void out.write(`${m}\n`),
    update: () => undefined,
    end: () => undefined,
  };
}

const CLEAR_LINE = '\r\x1b[K';

/** The live line of a terminal, redrawn at most every `everyMs` and on a timer, so a quiet stage still ticks. */
export class TerminalProgress implements BuildProgress {
  private stage = '';
  private since = 0;
  private shown = '';
  private fraction: number | null = null;
  private detail = '';
  private lastDraw = -Infinity;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly out: ProgressOut,
    private readonly options: { now?: () => number; everyMs?: number; tick?: boolean } = {},
  ) {}

  private now(): number {
    return (this.options.now ?? performance.now)();
  }

  line(message: string): void {
    this.clear();
    this.out.write(`${message}\n`);
    this.stage = message.replace(/^skyminer-image: (\[[\d.]+s\] )?/, '');
    this.since = this.now();
    this.fraction = null;
    this.detail = '';
    this.draw(true);
    if (this.options.tick !== false && !this.timer) {
      this.timer = setInterval(() => this.draw(true), 1000);
      this.timer.unref();
    }
  }

  update(fraction: number, detail: string): void {
    this.fraction = Math.max(0, Math.min(1, fraction));
    this.detail = detail;
    this.draw(false);
  }

  end(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.clear();
  }

  private clear(): void {
    if (this.shown) this.out.write(CLEAR_LINE);
    this.shown = '';
  }

  private draw(force: boolean): void {
    const now = this.now();
    if (!force && now - this.lastDraw < (this.options.everyMs ?? 100)) return;
    this.lastDraw = now;
    const elapsed = `${Math.floor((now - this.since) / 1000)}s`;
    const done = this.fraction === null ? '' : ` ${Math.floor(this.fraction * 100)}%`;
    const detail = this.detail ? ` ${this.detail}` : '';
    let text = `  ... ${this.stage}${done}${detail} (${elapsed})`;
    const width = (this.out.columns ?? 80) - 1;
    if (text.length > width) text = `${text.slice(0, width - 1)}~`;
    this.out.write(`${CLEAR_LINE}${text}`);
    this.shown = text;
  }
}
