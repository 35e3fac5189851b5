// Whether a newly installed visor binary stays: it must answer (its own RPC) without a break for `steadyMs` within
// `limitMs` of the swap, or the board goes back to the previous binary. Pure: the installer's loop feeds it probes
// and the clock, and acts on the verdict.

export interface SwapPolicy {
  /** From the swap: the new visor must have been steady by then. */
  limitMs: number;
  /** How long it must answer without a break (a binary that starts and then dies is not kept). */
  steadyMs: number;
}

export const DEFAULT_SWAP_POLICY: SwapPolicy = { limitMs: 180_000, steadyMs: 30_000 };

export interface SwapState {
  swappedAtMs: number;
  /** Answering without a break since; null while it does not answer. */
  upSinceMs: number | null;
  /** What the last failed probe said. */
  lastProblem: string | null;
}

export type SwapVerdict = { verdict: 'wait' } | { verdict: 'keep' } | { verdict: 'fallback'; reason: string };

export function swapStarted(nowMs: number): SwapState {
  return { swappedAtMs: nowMs, upSinceMs: null, lastProblem: null };
}

/** One probe of the new visor (ok, or the one-line problem) at `nowMs`. */
export function judgeSwap(
  state: SwapState,
  probe: { ok: true } | { ok: false; problem: string },
  nowMs: number,
  policy: SwapPolicy = DEFAULT_SWAP_POLICY,
): { state: SwapState; verdict: SwapVerdict } {
  const next: SwapState = probe.ok
    ? { ...state, upSinceMs: state.upSinceMs ?? nowMs }
    : { ...state, upSinceMs: null, lastProblem: probe.problem };
  if (next.upSinceMs !== null && nowMs - next.upSinceMs >= policy.steadyMs)
    return { state: next, verdict: { verdict: 'keep' } };
  if (nowMs - state.swappedAtMs >= policy.limitMs) {
    const s = (ms: number) => `${Math.round(ms / 1000)} s`;
    const last = next.lastProblem ? `; last: ${next.lastProblem}` : '';
    const reason =
      next.upSinceMs !== null
        ? `the new visor answered only ${s(nowMs - next.upSinceMs)} of the ${s(policy.steadyMs)} needed within ${s(policy.limitMs)}${last}`
        : `the new visor did not come up within ${s(policy.limitMs)}${last}`;
    return { state: next, verdict: { verdict: 'fallback', reason } };
  }
  return { state: next, verdict: { verdict: 'wait' } };
}
