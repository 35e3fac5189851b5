import type { Datagrams } from '../protocol/datagrams.js';

/** A board's network as the simulator's faults leave it: cut until a time, or delayed for a while. */
export interface LinkFaults {
  /** Nothing goes in or out before this time (ms). */
  cutUntil: number;
  /** Everything the board sends leaves `delayMs` late before `delayUntil` (a loaded board). */
  delayMs: number;
  delayUntil: number;
}

/** Wraps a board's endpoint so that its faults apply to every datagram, both ways. */
export function faultyLink(inner: Datagrams, faults: LinkFaults): Datagrams {
  const timers = new Set<NodeJS.Timeout>();
  return {
    port: inner.port,
    send: (message, to) => {
      const now = Date.now();
      if (now < faults.cutUntil) return;
      if (now < faults.delayUntil && faults.delayMs > 0) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (Date.now() >= faults.cutUntil) inner.send(message, to);
        }, faults.delayMs);
        timers.add(timer);
        return;
      }
      inner.send(message, to);
    },
    onMessage: (listener) =>
      inner.onMessage((message, from) => {
        if (Date.now() >= faults.cutUntil) listener(message, from);
      }),
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await inner.close();
    },
  };
}
