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

/**
 * The agent's guard for probes: a nonce is answered at most once, so a recorded probe replayed at the board gets
 * no answer (the board is no reflector). Only the latest `capacity` nonces are kept: memory stays bounded, and the
 * manager draws a fresh random nonce for every probe, so a forgotten one is never asked again honestly.
 */
export class NonceMemory {
  private readonly seen = new Set<string>();

  constructor(private readonly capacity = 256) {}

  /** True the first time `nonce` is offered (it is then remembered), false for a repeat. */
  firstTime(nonce: string): boolean {
    if (this.seen.has(nonce)) return false;
    this.seen.add(nonce);
    // A Set iterates in insertion order: the first entry is the oldest.
    if (this.seen.size > this.capacity) this.seen.delete(this.seen.values().next().value!);
    return true;
  }
}
