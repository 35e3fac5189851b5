import type { UplinkState } from '../telemetry/uplink.js';
import type { BoardAction, BoardState, Policy } from './board-state.js';

/**
 * Correlated silence is the network's fault until shown otherwise. A switch or router reboot silences every
 * board at once; restarting them then is useless (they are healthy) and harmful (three reboots of the switch in
 * an hour would quarantine, by default switch off, the whole box). The rule, judged at every tick before the
 * boards' own decisions:
 *
 * - The boards listened to are those the supervisor could restart (it holds a line for them) and expects to hear
 *   (`up` or `suspect`). A board is silent once nothing came from it for longer than the heartbeat timeout.
 * - The silence is correlated when at least two boards are silent and either at least three quarters of the
 *   boards listened to are silent (a box has one switch: a board still heard through it proves it carries
 *   traffic), or the manager's uplink is down (its own link or the gateway is gone: nothing heard is evidence).
 * - While it is correlated, restarts are held: silent boards stay `suspect` and keep being probed. One alert
 *   names the boards and the uplink. Restarts the box made since the silence began are the network's doing and
 *   are forgiven (they never count toward quarantine).
 * - Once fewer boards are silent, the hold stays for `networkSettleMs` more (switch ports come up one by one);
 *   then boards still silent get a fresh probe window and are restarted as any dead board is.
 */
export interface NetworkMemory {
  /** Start of the silence that is being held (the oldest last contact among the silent boards), or null. */
  heldSince: number | null;
  /** When the silence stopped being correlated; the hold ends `networkSettleMs` later. */
  clearedAt: number | null;
}

export const INITIAL_NETWORK: NetworkMemory = { heldSince: null, clearedAt: null };

export interface Uplink {
  state: UplinkState;
  reason: string;
}

export interface NetworkJudgement {
  memory: NetworkMemory;
  /** Box-wide actions (logs and the alert), recorded against board 0. */
  actions: BoardAction[];
  /** Present while restarts are held: the start of the silence. */
  hold?: { since: number };
}

/** Three quarters of the boards listened to, silent at once, is more than independent faults explain. */
const CORRELATED_SHARE = 0.75;

export function silentBoards(
  states: Iterable<BoardState>,
  at: number,
  policy: Policy,
): { listened: number; silent: BoardState[] } {
  let listened = 0;
  const silent: BoardState[] = [];
  for (const s of states) {
    if (!s.lines.power && !s.lines.reset) continue;
    if (s.status !== 'up' && s.status !== 'suspect') continue;
    listened++;
    const quietMs = at - (s.lastContactAt ?? s.since);
    if (s.status === 'suspect' || quietMs > policy.heartbeatTimeoutMs) silent.push(s);
  }
  return { listened, silent };
}

export function isCorrelated(listened: number, silent: number, uplink: UplinkState): boolean {
  if (silent < 2) return false;
  return uplink === 'down' || silent >= Math.ceil(listened * CORRELATED_SHARE);
}

/** The box-level judgement: pure, from the boards' states, the uplink and the clock. */
export function judgeNetwork(
  prev: NetworkMemory,
  states: Iterable<BoardState>,
  uplink: Uplink,
  at: number,
  policy: Policy,
): NetworkJudgement {
  const { listened, silent } = silentBoards(states, at, policy);
  if (isCorrelated(listened, silent.length, uplink.state)) {
    if (prev.heldSince !== null) {
      return {
        memory: { heldSince: prev.heldSince, clearedAt: null },
        actions: [],
        hold: { since: prev.heldSince },
      };
    }
    const since = Math.min(...silent.map((s) => s.lastContactAt ?? s.since));
    const boards = silent.map((s) => s.board);
    const uplinkNote = uplink.state === 'down' ? `uplink down (${uplink.reason})` : `uplink ${uplink.state}`;
    return {
      memory: { heldSince: since, clearedAt: null },
      actions: [
        {
          kind: 'log',
          event: 'network-silence',
          details: { boards, of: listened, uplink: uplink.state, silent_ms: at - since },
        },
        {
          kind: 'alert',
          message: `network: ${boards.length} of ${listened} boards silent together, ${uplinkNote}; restarts held until they are heard again`,
        },
      ],
      hold: { since },
    };
  }
  if (prev.heldSince === null) return { memory: prev, actions: [] };
  const clearedAt = prev.clearedAt ?? at;
  if (at - clearedAt < policy.networkSettleMs) {
    return { memory: { heldSince: prev.heldSince, clearedAt }, actions: [], hold: { since: prev.heldSince } };
  }
  return {
    memory: INITIAL_NETWORK,
    actions: [
      {
        kind: 'log',
        event: 'network-back',
        details: { after_ms: at - prev.heldSince, still_silent: silent.map((s) => s.board) },
      },
    ],
  };
}
