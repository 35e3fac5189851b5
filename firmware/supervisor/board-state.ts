import type { Health, Heartbeat } from '../protocol/messages.js';

/** What the supervisor believes of a board, from evidence: power line levels and heartbeats. */
export type BoardStatus = 'off' | 'booting' | 'up' | 'no-contact';

export interface BoardState {
  board: number;
  status: BoardStatus;
  /** When the board entered its status (ms, the supervisor's clock). */
  since: number;
  powered: boolean;
  bootId?: string;
  lastSeq?: number;
  lastHeartbeatAt?: number;
  uptimeS?: number;
  health?: Health;
  telemetry?: Record<string, unknown>;
}

export type BoardEvent =
  | { kind: 'heartbeat'; at: number; heartbeat: Heartbeat }
  | { kind: 'power'; at: number; on: boolean }
  | { kind: 'tick'; at: number };

/** An event-log entry the decision asks the loop to record. */
export interface LogAction {
  kind: 'log';
  event: string;
  details?: Record<string, unknown>;
}
export type BoardAction = LogAction;

export interface Policy {
  heartbeatTimeoutMs: number;
  bootTimeoutMs: number;
}

export interface Decision {
  state: BoardState;
  actions: BoardAction[];
}

export function initialState(board: number, powered: boolean, at: number): BoardState {
  // A powered board is "booting" until it proves itself with a heartbeat: we sense, we do not assume it is up.
  return { board, status: powered ? 'booting' : 'off', since: at, powered };
}

/** The pure transition function: (state, event, policy) -> (state, actions). No I/O, no clock of its own. */
export function decide(state: BoardState, event: BoardEvent, policy: Policy): Decision {
  switch (event.kind) {
    case 'power':
      return onPower(state, event.on, event.at);
    case 'heartbeat':
      return onHeartbeat(state, event.heartbeat, event.at);
    case 'tick':
      return onTick(state, event.at, policy);
  }
}

function enter(state: BoardState, status: BoardStatus, at: number): BoardState {
  return state.status === status ? state : { ...state, status, since: at };
}

function onPower(state: BoardState, on: boolean, at: number): Decision {
  if (on === state.powered) return { state, actions: [] };
  if (!on) {
    const next = { ...enter(state, 'off', at), powered: false, bootId: undefined, lastSeq: undefined };
    return { state: next, actions: [{ kind: 'log', event: 'off' }] };
  }
  return {
    state: { ...enter(state, 'booting', at), powered: true },
    actions: [{ kind: 'log', event: 'power-on' }],
  };
}

function onHeartbeat(state: BoardState, hb: Heartbeat, at: number): Decision {
  const sameBoot = hb.boot_id === state.bootId;
  // A repeated or older sequence number of the same boot is a replay or a reordered packet: it proves nothing.
  if (sameBoot && state.lastSeq !== undefined && hb.seq <= state.lastSeq) return { state, actions: [] };
  const actions: BoardAction[] = [];
  const rebooted = state.bootId !== undefined && !sameBoot;
  if (rebooted) actions.push({ kind: 'log', event: 'rebooted', details: { boot_id: hb.boot_id } });
  if (state.status !== 'up') actions.push({ kind: 'log', event: 'up', details: { boot_id: hb.boot_id } });
  const next: BoardState = {
    ...enter(state, 'up', at),
    // A board that talks has power, whatever the line said (the manager has no power line at all).
    powered: true,
    bootId: hb.boot_id,
    lastSeq: hb.seq,
    lastHeartbeatAt: at,
    uptimeS: hb.uptime_s,
    health: hb.health,
    telemetry: hb.telemetry,
  };
  return { state: next, actions };
}

function onTick(state: BoardState, at: number, policy: Policy): Decision {
  if (state.status === 'up' && at - (state.lastHeartbeatAt ?? state.since) > policy.heartbeatTimeoutMs) {
    return {
      state: enter(state, 'no-contact', at),
      actions: [
        { kind: 'log', event: 'no-contact', details: { silent_ms: at - (state.lastHeartbeatAt ?? at) } },
      ],
    };
  }
  if (state.status === 'booting' && at - state.since > policy.bootTimeoutMs) {
    return { state: enter(state, 'no-contact', at), actions: [{ kind: 'log', event: 'boot-timeout' }] };
  }
  return { state, actions: [] };
}

/** When to switch each unpowered board on: one at a time, `gapMs` apart, so the supply does not dip. */
export function powerOnPlan(
  unpowered: readonly number[],
  gapMs: number,
): { board: number; afterMs: number }[] {
  return [...unpowered].sort((a, b) => a - b).map((board, i) => ({ board, afterMs: i * gapMs }));
}
