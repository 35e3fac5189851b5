import type { Peer } from '../protocol/datagrams.js';
import type { JoinClaim, JoinPending, JoinRefused } from '../protocol/join.js';

/*
 * Zero-touch enrolment, the decision: which claim for a slot's key is granted, which refused, what the owner is
 * told. Pure functions of (state, event, clock); the supervisor loop performs the actions. The threat model and the
 * reasons for every rule are in join-window.md beside this file.
 *
 * In short: a window opens for slot n only when the manager itself has just switched board n on (or reset it) on
 * its own line. Claims for slot n are collected for the whole window; when it closes, the key is sealed to the one
 * claimant there was. Two different claimants spend the window (nobody gets anything) and raise an alert. A board
 * that comes back with its own key closes its window. Outside a window, nothing joins.
 */

export interface JoinPolicy {
  /** Board numbers that may join: 2 to `boards` (board 1 is the manager). */
  boards: number;
  /** How long a window stays open after the power-on that opened it. */
  windowMs: number;
  /** After a grant, how long a repeat of the granted claim gets the same sealed grant again (a lost answer). */
  regrantMs: number;
  /** How long a join alert stays on the panel (the event log keeps it for good). */
  alertMs: number;
}

export const DEFAULT_JOIN_POLICY: JoinPolicy = {
  boards: 8,
  windowMs: 60_000,
  regrantMs: 60_000,
  alertMs: 600_000,
};

export interface Claimant {
  publicKey: string;
  bootId: string;
  from: Peer;
  at: number;
}

/**
 * - `open`: collecting claims until `closesAt`;
 * - `granted`: the one claimant got the key; repeats of its claim are answered with the same grant until `endsAt`;
 * - `contested`: two different claimants; nothing handed over, ends at `endsAt`;
 * - `board-back`: the board was heard with its own key; ends at `endsAt`.
 */
export type WindowPhase = 'open' | 'granted' | 'contested' | 'board-back';

export interface JoinWindow {
  board: number;
  phase: WindowPhase;
  openedAt: number;
  /** When the window (or what is left of it) ends and is forgotten. */
  endsAt: number;
  claimants: readonly Claimant[];
}

export interface JoinState {
  windows: ReadonlyMap<number, JoinWindow>;
  /** Public keys that have claimed before (granted or refused in a window): a later claim with one is a replay. */
  used: readonly string[];
  /** Slots whose owner was told a claim came with no window open (told once until a window opens again). */
  toldOutside: ReadonlySet<number>;
  /** The panel's join alerts, per board, until `until`. */
  alerts: ReadonlyMap<number, { text: string; until: number }>;
}

export const INITIAL_JOIN_STATE: JoinState = {
  windows: new Map(),
  used: [],
  toldOutside: new Set(),
  alerts: new Map(),
};

/** How many used public keys are remembered: a replay of anything older meets no window or a spent one. */
const USED_KEPT = 512;

export type JoinAction =
  /** Answer a claimant (pending or refused), at the address its claim came from. */
  | { kind: 'answer'; to: Peer; message: JoinPending | JoinRefused }
  /** Seal board `board`'s key to the claimant's public key and send it (the window just closed with one claimant). */
  | { kind: 'grant'; board: number; claimant: Claimant }
  /** Send the grant already sealed for this board again (the claimant repeated its claim: the answer was lost). */
  | { kind: 'regrant'; board: number; to: Peer }
  | { kind: 'log'; board: number; event: string; details?: Record<string, unknown> }
  | { kind: 'alert'; board: number; message: string };

export interface JoinDecision {
  state: JoinState;
  actions: JoinAction[];
}

const addr = (p: Peer): string => `${p.address}:${p.port}`;

function withWindow(state: JoinState, w: JoinWindow): JoinState {
  const windows = new Map(state.windows);
  windows.set(w.board, w);
  return { ...state, windows };
}

function withUsed(state: JoinState, keys: readonly string[]): JoinState {
  const fresh = keys.filter((k) => !state.used.includes(k));
  if (fresh.length === 0) return state;
  return { ...state, used: [...state.used, ...fresh].slice(-USED_KEPT) };
}

function withAlert(state: JoinState, board: number, text: string, at: number, policy: JoinPolicy): JoinState {
  const alerts = new Map(state.alerts);
  alerts.set(board, { text, until: at + policy.alertMs });
  return { ...state, alerts };
}

function refuse(claim: JoinClaim, from: Peer, reason: string): JoinAction {
  return {
    kind: 'answer',
    to: from,
    message: { type: 'join-refused', board: claim.board, public_key: claim.public_key, reason },
  };
}

/** The claim is heard; its answer comes when the window closes, `closesInMs` from now. */
function pending(claim: JoinClaim, from: Peer, closesInMs: number): JoinAction {
  return {
    kind: 'answer',
    to: from,
    message: {
      type: 'join-pending',
      board: claim.board,
      public_key: claim.public_key,
      closes_in_ms: closesInMs,
    },
  };
}

/**
 * The manager has just switched board `board` on (or pulsed its reset) on its own line: a fresh board there may
 * claim its key until `at + windowMs`. A window still open from an earlier power-on is replaced.
 */
export function openWindow(state: JoinState, board: number, at: number, policy: JoinPolicy): JoinState {
  if (board < 2 || board > policy.boards) return state;
  const toldOutside = new Set(state.toldOutside);
  toldOutside.delete(board);
  return {
    ...withWindow(state, { board, phase: 'open', openedAt: at, endsAt: at + policy.windowMs, claimants: [] }),
    toldOutside,
  };
}

/**
 * A claim arrived from `from`. Every claim gets one answer; the state changes only as the rules say. A window that
 * ran out before the clock's tick saw it is closed first, so a claim is never judged against a stale window.
 */
export function judgeClaim(
  state: JoinState,
  claim: JoinClaim,
  from: Peer,
  at: number,
  policy: JoinPolicy,
): JoinDecision {
  const closed = tickWindows(state, at, policy);
  const judged = judgeOpen(closed.state, claim, from, at, policy);
  return closed.actions.length === 0
    ? judged
    : { state: judged.state, actions: [...closed.actions, ...judged.actions] };
}

function judgeOpen(
  state: JoinState,
  claim: JoinClaim,
  from: Peer,
  at: number,
  policy: JoinPolicy,
): JoinDecision {
  const n = claim.board;
  if (n < 2 || n > policy.boards) {
    const reason =
      n === 1
        ? 'slot 1 is the manager; it never joins'
        : `slot ${n} is not in this box (2 to ${policy.boards})`;
    return { state, actions: [refuse(claim, from, reason)] };
  }
  const w = state.windows.get(n);
  const live = w && w.endsAt > at ? w : undefined;
  const mine = live?.claimants.find((c) => c.publicKey === claim.public_key);

  // The same claimant again (a board repeats its claim until answered for good).
  if (live && mine) {
    switch (live.phase) {
      case 'open':
        return { state, actions: [pending(claim, from, live.endsAt - at)] };
      case 'granted':
        return { state, actions: [{ kind: 'regrant', board: n, to: from }] };
      case 'contested':
        return { state, actions: [refuse(claim, from, contestedReason(n))] };
      case 'board-back':
        return {
          state,
          actions: [refuse(claim, from, `board ${n} came back with its own key; no join needed`)],
        };
    }
  }

  if (state.used.includes(claim.public_key)) {
    return {
      state,
      actions: [
        refuse(claim, from, 'replayed join: this key has claimed before; a fresh boot draws a new one'),
      ],
    };
  }

  if (!live) {
    const reason = `no join window is open for slot ${n}: switch board ${n} off and on from the console (cycle ${n}) to open one`;
    if (state.toldOutside.has(n)) return { state, actions: [refuse(claim, from, reason)] };
    const toldOutside = new Set(state.toldOutside);
    toldOutside.add(n);
    const message = `board ${n} asks to join from ${addr(from)} but no join window is open: if you just flashed it, cycle ${n}`;
    return {
      state: withAlert({ ...state, toldOutside }, n, `board ${n} join refused`, at, policy),
      actions: [
        refuse(claim, from, reason),
        { kind: 'log', board: n, event: 'join-refused', details: { from: addr(from), reason: 'no window' } },
        { kind: 'alert', board: n, message },
      ],
    };
  }

  const claimant: Claimant = { publicKey: claim.public_key, bootId: claim.boot_id, from, at };
  switch (live.phase) {
    case 'open': {
      if (live.claimants.length === 0) {
        return {
          state: withWindow(state, { ...live, claimants: [claimant] }),
          actions: [
            pending(claim, from, live.endsAt - at),
            { kind: 'log', board: n, event: 'join-claim', details: { from: addr(from) } },
          ],
        };
      }
      // A second, different claimant: the manager cannot tell which is the board it switched on, so nobody gets
      // the key, and every key seen in this window is spent.
      const claimants = [...live.claimants, claimant];
      const froms = claimants.map((c) => addr(c.from));
      let next = withWindow(state, { ...live, phase: 'contested', claimants });
      next = withUsed(
        next,
        claimants.map((c) => c.publicKey),
      );
      next = withAlert(next, n, `2 claims for board ${n}`, at, policy);
      return {
        state: next,
        actions: [
          refuse(claim, from, contestedReason(n)),
          { kind: 'log', board: n, event: 'join-contested', details: { from: froms } },
          {
            kind: 'alert',
            board: n,
            message: `two claimants for board ${n}'s key (${froms.join(', ')}); nothing was handed over. If you just flashed board ${n}, cycle ${n} to try again; if not, someone on your network tried to join your box`,
          },
        ],
      };
    }
    case 'granted':
    case 'board-back': {
      // Too late: the slot's boot is accounted for. Someone else asking now is worth the owner's attention.
      const why =
        live.phase === 'granted'
          ? `board ${n} has joined already`
          : `board ${n} came back with its own key; no join needed`;
      const next = withAlert(withUsed(state, [claim.public_key]), n, `board ${n} join refused`, at, policy);
      return {
        state: next,
        actions: [
          refuse(claim, from, why),
          { kind: 'log', board: n, event: 'join-refused', details: { from: addr(from), reason: why } },
          {
            kind: 'alert',
            board: n,
            message: `a second claim for board ${n}'s key from ${addr(from)} after ${live.phase === 'granted' ? 'it joined' : 'it came back'}: refused; someone on your network may be trying to join your box`,
          },
        ],
      };
    }
    case 'contested':
      return {
        state: withUsed(state, [claim.public_key]),
        actions: [
          refuse(claim, from, contestedReason(n)),
          {
            kind: 'log',
            board: n,
            event: 'join-refused',
            details: { from: addr(from), reason: 'contested' },
          },
        ],
      };
  }
}

function contestedReason(n: number): string {
  return `slot ${n} was claimed twice in its join window; nothing was handed over (cycle ${n} on the manager to try again)`;
}

/**
 * Board `board` was heard with its own key (an authenticated heartbeat): it is enrolled, so its open window
 * closes without a grant. A claim already in that window was not the board's: the owner is told.
 */
export function boardHeard(state: JoinState, board: number, at: number, policy: JoinPolicy): JoinDecision {
  const w = state.windows.get(board);
  if (!w || w.phase !== 'open' || w.endsAt <= at) return { state, actions: [] };
  let next = withWindow(state, { ...w, phase: 'board-back' });
  if (w.claimants.length === 0) return { state: next, actions: [] };
  const froms = w.claimants.map((c) => addr(c.from));
  next = withAlert(
    withUsed(
      next,
      w.claimants.map((c) => c.publicKey),
    ),
    board,
    `board ${board} join refused`,
    at,
    policy,
  );
  return {
    state: next,
    actions: [
      {
        kind: 'log',
        board,
        event: 'join-refused',
        details: { from: froms, reason: 'board back with its key' },
      },
      {
        kind: 'alert',
        board,
        message: `board ${board} came back with its own key while ${froms.join(', ')} claimed its slot: refused; someone on your network may be trying to join your box`,
      },
    ],
  };
}

/**
 * The clock: an open window that has run out grants its one claimant (or closes empty); spent windows are
 * forgotten once over; panel alerts expire.
 */
export function tickWindows(state: JoinState, at: number, policy: JoinPolicy): JoinDecision {
  const actions: JoinAction[] = [];
  let next = state;
  for (const w of state.windows.values()) {
    if (w.endsAt > at) continue;
    const windows = new Map(next.windows);
    if (w.phase === 'open' && w.claimants.length === 1) {
      const claimant = w.claimants[0]!;
      windows.set(w.board, { ...w, phase: 'granted', endsAt: at + policy.regrantMs });
      next = withUsed({ ...next, windows }, [claimant.publicKey]);
      actions.push(
        { kind: 'grant', board: w.board, claimant },
        {
          kind: 'log',
          board: w.board,
          event: 'joined',
          details: { from: addr(claimant.from), key: claimant.publicKey.slice(0, 16) },
        },
      );
    } else {
      windows.delete(w.board);
      next = { ...next, windows };
    }
  }
  let alerts: Map<number, { text: string; until: number }> | undefined;
  for (const [board, a] of next.alerts) {
    if (a.until > at) continue;
    alerts ??= new Map(next.alerts);
    alerts.delete(board);
  }
  if (alerts) next = { ...next, alerts };
  return { state: next, actions };
}

/** The join alert the panel shows for `board`, if any. */
export function joinAlert(state: JoinState, board: number, at: number): string | undefined {
  const a = state.alerts.get(board);
  return a && a.until > at ? a.text : undefined;
}
