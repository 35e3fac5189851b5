/**
 * The clock check on heartbeats of a boot not proven yet: one stamped further than `windowMs` from the manager's
 * clock is refused and its board probed (a nonce, no clock). Once a probe answer proves the boot, its heartbeats
 * are judged by boot id and sequence alone, so a board whose clock is off is heard, not flapping.
 */
export function outsideWindow(sentMs: number, now: number, windowMs: number): string | undefined {
  const skew = sentMs - now;
  if (Math.abs(skew) <= windowMs) return undefined;
  return `stamped ${Math.round(Math.abs(skew) / 1000)} s ${skew > 0 ? 'ahead of' : 'behind'} the manager's clock`;
}

/**
 * The agent's guard for commands: one boot, rising sequence numbers. A command is accepted at most once, and a
 * recorded command is worthless in any later boot.
 */
export class CommandGuard {
  private lastSeq = -1;

  constructor(private readonly bootId: string) {}

  accept(bootId: string, seq: number): string | undefined {
    if (bootId !== this.bootId) return `command for boot ${bootId}, this is boot ${this.bootId}`;
    if (seq <= this.lastSeq) return `command sequence ${seq} not after ${this.lastSeq}`;
    this.lastSeq = seq;
    return undefined;
  }
}
