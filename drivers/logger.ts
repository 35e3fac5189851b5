/** The logging a driver needs; services pass theirs down so every line lands in one place. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Drops everything: for tests that assert on behaviour, not on log lines. */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** Collects lines in memory; tests assert that a fault was logged exactly once. */
export class MemoryLogger implements Logger {
  readonly lines: string[] = [];
  info(message: string): void {
    this.lines.push(`info: ${message}`);
  }
  warn(message: string): void {
    this.lines.push(`warn: ${message}`);
  }
  error(message: string): void {
    this.lines.push(`error: ${message}`);
  }
}
