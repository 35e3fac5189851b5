// When to start, kill and restart the board's visor: a pure function of (state, event, clock), so the restart
// policy is tested with a fake clock. The loop in visor-service.ts applies the actions to a real process.

export interface VisorPolicy {
  /** First restart delay, doubled after each restart that did not last, up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
  /** A visor that ran this long counts as having stayed up: the next restart starts from backoffMs again. */
  stableMs: number;
  /** Failed health probes in a row before a running visor is taken as hung and killed. */
  probeFailures: number;
  /** Restarts within `sickWindowMs` after which the board reports its visor as failing (it keeps retrying). */
  sickRestarts: number;
  sickWindowMs: number;
}

export const DEFAULT_VISOR_POLICY: VisorPolicy = {
  backoffMs: 2_000,
  maxBackoffMs: 120_000,
  stableMs: 600_000,
  probeFailures: 3,
  sickRestarts: 5,
  sickWindowMs: 1_800_000,
};

export type VisorStatus = 'starting' | 'running' | 'stopping' | 'waiting' | 'stopped';

export interface VisorState {
  status: VisorStatus;
  /** When the current process started (starting/running/stopping). */
  startedAtMs: number | null;
  /** When the next start is due (waiting). */
  nextStartMs: number | null;
  backoffMs: number;
  failedProbes: number;
  /** Start times of the restarts (not the first start), for the sickness window. */
  restartsAtMs: number[];
  restarts: number;
  lastExit: string | null;
  /** The service asked the visor to stop: its exit ends supervision instead of starting a restart. */
  stopRequested: boolean;
}

export type VisorEvent =
  | { kind: 'start' }
  | { kind: 'stop' }
  | { kind: 'exited'; how: string }
  | { kind: 'probe'; ok: boolean }
  | { kind: 'tick' };

export type VisorAction =
  { kind: 'spawn' } | { kind: 'kill'; reason: string } | { kind: 'log'; message: string };

export function initialVisorState(policy: VisorPolicy = DEFAULT_VISOR_POLICY): VisorState {
  return {
    status: 'stopped',
    startedAtMs: null,
    nextStartMs: null,
    backoffMs: policy.backoffMs,
    failedProbes: 0,
    restartsAtMs: [],
    restarts: 0,
    lastExit: null,
    stopRequested: false,
  };
}

/** True when the visor keeps failing: many restarts lately. The board then reports it; the watchdog is not told. */
export function visorSick(s: VisorState, nowMs: number, policy: VisorPolicy = DEFAULT_VISOR_POLICY): boolean {
  return s.restartsAtMs.filter((t) => nowMs - t < policy.sickWindowMs).length >= policy.sickRestarts;
}

export function decideVisor(
  s: VisorState,
  e: VisorEvent,
  nowMs: number,
  policy: VisorPolicy = DEFAULT_VISOR_POLICY,
): { state: VisorState; actions: VisorAction[] } {
  switch (e.kind) {
    case 'start':
      if (s.status !== 'stopped') return { state: s, actions: [] };
      return {
        state: { ...s, status: 'starting', startedAtMs: nowMs, failedProbes: 0, stopRequested: false },
        actions: [{ kind: 'spawn' }],
      };
    case 'stop':
      if (s.status === 'starting' || s.status === 'running')
        return {
          state: { ...s, status: 'stopping', stopRequested: true },
          actions: [{ kind: 'kill', reason: 'service stopped' }],
        };
      if (s.status === 'stopping') return { state: { ...s, stopRequested: true }, actions: [] };
      return { state: { ...s, status: 'stopped', nextStartMs: null, stopRequested: true }, actions: [] };
    case 'exited': {
      if (s.status === 'stopped') return { state: s, actions: [] };
      if (s.stopRequested)
        return { state: { ...s, status: 'stopped', startedAtMs: null, lastExit: e.how }, actions: [] };
      // Restart only once the old process is gone (its RPC port is free again), after the backoff.
      const ranMs = s.startedAtMs === null ? 0 : nowMs - s.startedAtMs;
      const backoff = ranMs >= policy.stableMs ? policy.backoffMs : s.backoffMs;
      return {
        state: {
          ...s,
          status: 'waiting',
          startedAtMs: null,
          nextStartMs: nowMs + backoff,
          backoffMs: Math.min(policy.maxBackoffMs, backoff * 2),
          lastExit: e.how,
        },
        actions: [
          { kind: 'log', message: `visor exited (${e.how}); restarting in ${Math.round(backoff / 1000)} s` },
        ],
      };
    }
    case 'probe': {
      if (s.status !== 'starting' && s.status !== 'running') return { state: s, actions: [] };
      if (e.ok) return { state: { ...s, status: 'running', failedProbes: 0 }, actions: [] };
      // A visor still starting has not opened its RPC port yet: only a running one that stops answering is hung.
      if (s.status === 'starting') return { state: s, actions: [] };
      const failed = s.failedProbes + 1;
      if (failed < policy.probeFailures) return { state: { ...s, failedProbes: failed }, actions: [] };
      return {
        state: { ...s, status: 'stopping', failedProbes: failed },
        actions: [{ kind: 'kill', reason: `no answer on its RPC port ${failed} times in a row` }],
      };
    }
    case 'tick': {
      if (s.status !== 'waiting' || s.nextStartMs === null || nowMs < s.nextStartMs)
        return { state: s, actions: [] };
      return {
        state: {
          ...s,
          status: 'starting',
          startedAtMs: nowMs,
          nextStartMs: null,
          failedProbes: 0,
          restarts: s.restarts + 1,
          restartsAtMs: [...s.restartsAtMs.filter((t) => nowMs - t < policy.sickWindowMs), nowMs],
        },
        actions: [{ kind: 'spawn' }],
      };
    }
  }
}
