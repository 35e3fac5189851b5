/** Whether a source answers, since when it does not, and the one log line each episode deserves. */
export class SourceHealth {
  lastOkMs: number | null = null;
  failingSinceMs: number | null = null;
  lastError: string | null = null;

  constructor(readonly name: string) {}

  /** A good answer; returns the recovery line when it ends a failure episode. */
  ok(nowMs: number): string | undefined {
    const was = this.failingSinceMs;
    this.lastOkMs = nowMs;
    this.failingSinceMs = null;
    this.lastError = null;
    if (was === null) return undefined;
    return `${this.name} answering again after ${Math.max(0, Math.round((nowMs - was) / 1000))} s`;
  }

  /** A failure; returns the line to log only when it starts an episode or its cause changes. */
  fail(nowMs: number, message: string): string | undefined {
    const first = this.failingSinceMs === null;
    const changed = this.lastError !== message;
    this.failingSinceMs ??= nowMs;
    this.lastError = message;
    if (!first && !changed) return undefined;
    return `${this.name}: ${message}; showing the last good figures as stale`;
  }

  /** Seconds since the last good answer; null before the first. */
  ageS(nowMs: number): number | null {
    return this.lastOkMs === null ? null : Math.max(0, Math.round((nowMs - this.lastOkMs) / 1000));
  }

  stale(nowMs: number, staleAfterMs: number): boolean {
    return this.failingSinceMs !== null || this.lastOkMs === null || nowMs - this.lastOkMs > staleAfterMs;
  }
}
