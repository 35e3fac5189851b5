import type { Health, Heartbeat, ResetReason } from '../protocol/messages.js';
import type { HeartbeatFigures } from '../protocol/figures.js';

/**
 * What the supervisor believes of a board, from evidence (line levels, heartbeats, probe answers):
 * - `off`: no power (switched off, or never on); `booting`: powered, no heartbeat yet;
 * - `up`: heartbeats arrive; `suspect`: heartbeats missing past the timeout, direct probes under way;
 * - `failed`: no heartbeat and no probe answer, nothing (left) to restart it with;
 * - `restarting`: an escalation step (soft reboot, reset pulse, power cycle) is waiting for a new boot;
 * - `quarantined`: restarted too often; left off or alone (by policy) until an operator releases it or it
 *   stays up long enough on its own.
 */
export type BoardStatus = 'off' | 'booting' | 'up' | 'suspect' | 'failed' | 'restarting' | 'quarantined';

export const BOARD_STATUSES: readonly BoardStatus[] = [
  'off',
  'booting',
  'up',
  'suspect',
  'failed',
  'restarting',
  'quarantined',
];

export type RestartStep = 'soft' | 'reset' | 'power-cycle';

export interface BoardState {
  board: number;
  status: BoardStatus;
  /** When the board entered its status (ms, the supervisor's clock). */
  since: number;
  powered: boolean;
  /** Which lines the supervisor holds for this board: what it can restart the board with. */
  lines: { power: boolean; reset: boolean };
  bootId?: string;
  lastSeq?: number;
  /** Last heartbeat or probe answer. */
  lastContactAt?: number;
  /** Start of the current unbroken stretch of contact, for the stable-uptime rule. */
  upSince?: number;
  uptimeS?: number;
  health?: Health;
  resetReason?: ResetReason;
  telemetry?: HeartbeatFigures;
  /** Earlier boots of this board: a heartbeat carrying one of these is a replay. Newest last. */
  pastBootIds: string[];
  /** When the supervisor restarted the board (ms), inside the cap's window. */
  restarts: number[];
  /** The end of the current wait: boot, probe window, escalation step. */
  deadline?: number;
  lastProbeAt?: number;
  step?: RestartStep;
  /** The soft reboot command was acknowledged: the board is rebooting itself. */
  stepAcked?: boolean;
  /** During a power cycle: when to switch the power back on. */
  powerOnAt?: number;
  /** When the current failure was declared, for the `recovered` event. */
  failedAt?: number;
  /** The restart under way is a box-wide update taking the board into its new slot, not a failure. */
  updating?: boolean;
  /** A box-wide update has the board installing or committing: its heartbeats may lag (installSilenceMs). */
  installing?: boolean;
}

export type Operation = 'on' | 'off' | 'reset' | 'cycle' | 'release';

export type BoardEvent =
  | { kind: 'heartbeat'; at: number; heartbeat: Heartbeat }
  | { kind: 'probe-answer'; at: number; bootId: string }
  | { kind: 'command-ack'; at: number; bootId: string }
  /** The loop switched the power line outside a restart (staggered start-up). */
  | { kind: 'power'; at: number; on: boolean }
  | { kind: 'operator'; at: number; operation: Operation; by: string }
  /** `hold`: the box judged the silence correlated (see network-silence.ts); restarts wait for the network. */
  | { kind: 'tick'; at: number; hold?: { since: number } }
  /** A box-wide update takes the board down into its new slot: a reboot expected, not counted as a restart. */
  | { kind: 'update-reboot'; at: number }
  /** A box-wide update has the board installing (or no longer): a longer silence is allowed meanwhile. */
  | { kind: 'installing'; at: number; on: boolean };

/** Actions are data; the supervisor loop performs them. */
export type BoardAction =
  | { kind: 'log'; event: string; details?: Record<string, unknown> }
  | { kind: 'alert'; message: string }
  /** Send one authenticated probe to the board's agent. */
  | { kind: 'probe' }
  /** Ask the agent of boot `bootId` to reboot itself. */
  | { kind: 'soft-reboot'; bootId: string }
  | { kind: 'reset-pulse' }
  | { kind: 'power'; on: boolean };

export interface Policy {
  heartbeatTimeoutMs: number;
  /** The silence allowed a board while it installs or commits an update, when longer than heartbeatTimeoutMs. */
  installSilenceMs: number;
  bootTimeoutMs: number;
  /** How long probes may go unanswered before the board is declared failed, and how often they are sent. */
  probeTimeoutMs: number;
  probeIntervalMs: number;
  /** How long a soft reboot command may go unacknowledged before the reset line is used. */
  softRebootAckMs: number;
  powerOffMs: number;
  restartCap: number;
  restartWindowMs: number;
  /** Up this long without a break clears the restart count (and lifts a quarantine left alone). */
  stableUptimeMs: number;
  /** What a quarantine does to the board: switch it off, or leave it as it is. */
  quarantine: 'off' | 'leave';
  /** How long restarts stay held after a correlated silence ended, for the last boards to be heard again. */
  networkSettleMs: number;
}

/** Short defaults for tests; the shipped ones come from the config schema. */
export const DEFAULT_POLICY: Policy = {
  heartbeatTimeoutMs: 1500,
  installSilenceMs: 60_000,
  bootTimeoutMs: 120_000,
  probeTimeoutMs: 1200,
  probeIntervalMs: 200,
  softRebootAckMs: 1000,
  powerOffMs: 5000,
  restartCap: 3,
  restartWindowMs: 3_600_000,
  stableUptimeMs: 600_000,
  quarantine: 'off',
  networkSettleMs: 3000,
};

export interface Decision {
  state: BoardState;
  actions: BoardAction[];
  /** Set when an event was refused as evidence (replayed or stale); the state is then unchanged. */
  rejected?: string;
}

export function initialState(
  board: number,
  powered: boolean,
  at: number,
  lines: { power: boolean; reset: boolean } = { power: true, reset: true },
): BoardState {
  // A powered board is "booting" until it proves itself with a heartbeat: we sense, we do not assume it is up.
  return {
    board,
    status: powered ? 'booting' : 'off',
    since: at,
    powered,
    lines,
    pastBootIds: [],
    restarts: [],
  };
}

/** The pure transition function: (state, event, policy) -> (state, actions). No I/O, no clock of its own. */
export function decide(state: BoardState, event: BoardEvent, policy: Policy): Decision {
  switch (event.kind) {
    case 'heartbeat':
      return onHeartbeat(state, event.heartbeat, event.at);
    case 'probe-answer':
      return onProbeAnswer(state, event.bootId, event.at);
    case 'command-ack':
      return onCommandAck(state, event.bootId, event.at, policy);
    case 'power':
      return onPower(state, event.on, event.at, policy);
    case 'operator':
      return onOperator(state, event.operation, event.at, policy);
    case 'tick':
      return event.hold
        ? onHeldTick(state, event.at, event.hold.since, policy)
        : onTick(state, event.at, policy);
    case 'update-reboot':
      return onUpdateReboot(state, event.at, policy);
    case 'installing':
      return {
        state: event.on ? { ...state, installing: true } : { ...state, installing: undefined },
        actions: [],
      };
  }
}

/**
 * The board is asked to reboot itself into its new slot, as a soft restart step that counts nothing: its silence
 * is expected for a boot time, and only a board that does not come back meets the usual escalation.
 */
function onUpdateReboot(state: BoardState, at: number, policy: Policy): Decision {
  if (state.bootId === undefined || state.status !== 'up') return { state, actions: [] };
  return {
    state: {
      ...settled(enter(state, 'restarting', at)),
      since: at,
      step: 'soft',
      deadline: at + policy.softRebootAckMs,
      updating: true,
    },
    actions: [log('update-reboot', { boot_id: state.bootId }), { kind: 'soft-reboot', bootId: state.bootId }],
  };
}

function enter(state: BoardState, status: BoardStatus, at: number): BoardState {
  return state.status === status ? state : { ...state, status, since: at };
}

const log = (event: string, details?: Record<string, unknown>): BoardAction =>
  details ? { kind: 'log', event, details } : { kind: 'log', event };

/** Fields of an escalation or a wait, cleared whenever the board settles. */
function settled(state: BoardState): BoardState {
  return {
    ...state,
    deadline: undefined,
    lastProbeAt: undefined,
    step: undefined,
    stepAcked: undefined,
    powerOnAt: undefined,
    failedAt: undefined,
    updating: undefined,
  };
}

function onHeartbeat(state: BoardState, hb: Heartbeat, at: number): Decision {
  if (state.pastBootIds.includes(hb.boot_id))
    return { state, actions: [], rejected: 'heartbeat of an earlier boot' };
  const sameBoot = hb.boot_id === state.bootId;
  // A repeated or older sequence number of the same boot is a replay or a reordered packet: it proves nothing.
  if (sameBoot && state.lastSeq !== undefined && hb.seq <= state.lastSeq)
    return { state, actions: [], rejected: `sequence ${hb.seq} not after ${state.lastSeq}` };
  const newBoot = state.bootId !== undefined && !sameBoot;
  const contact: BoardState = {
    ...state,
    // A board that talks has power, whatever the line said (the manager has no power line at all).
    powered: true,
    bootId: hb.boot_id,
    lastSeq: hb.seq,
    lastContactAt: at,
    upSince: newBoot || state.upSince === undefined ? at : state.upSince,
    uptimeS: hb.uptime_s,
    health: hb.health,
    resetReason: hb.reset_reason,
    telemetry: hb.telemetry,
    pastBootIds: newBoot ? [...state.pastBootIds, state.bootId!].slice(-16) : state.pastBootIds,
  };
  const reason = hb.reset_reason ? { reset_reason: hb.reset_reason } : {};
  switch (state.status) {
    case 'restarting':
    case 'failed': {
      // During a restart only a new boot proves the board back; the old boot's last words do not.
      const cannotRestart = !state.lines.power && !state.lines.reset;
      if (!newBoot && state.bootId !== undefined && !cannotRestart) return { state: contact, actions: [] };
      const details = {
        boot_id: hb.boot_id,
        after_ms: at - (state.failedAt ?? state.since),
        ...(state.step ? { action: state.updating ? 'update' : state.step } : {}),
        ...reason,
      };
      return {
        state: { ...settled(enter(contact, 'up', at)), upSince: at },
        actions: [log('recovered', details)],
      };
    }
    case 'quarantined':
      // Watched, not trusted: it leaves quarantine by release or by staying up (see onTick).
      return { state: contact, actions: [] };
    case 'up': {
      const actions = newBoot ? [log('rebooted', { boot_id: hb.boot_id, ...reason })] : [];
      return { state: contact, actions };
    }
    case 'off':
    case 'booting':
    case 'suspect': {
      const details: Record<string, unknown> = { boot_id: hb.boot_id, ...reason };
      if (state.status === 'suspect') details.silent_ms = at - (state.lastContactAt ?? state.since);
      return { state: settled(enter(contact, 'up', at)), actions: [log('up', details)] };
    }
  }
}

function onProbeAnswer(state: BoardState, bootId: string, at: number): Decision {
  if (state.pastBootIds.includes(bootId))
    return { state, actions: [], rejected: 'answer of an earlier boot' };
  // An answer to our nonce proves its boot: that boot's heartbeats are then judged by their sequence alone
  // (a board whose clock is wrong is heard through them).
  if (bootId !== state.bootId && (state.status === 'suspect' || state.status === 'booting'))
    state = {
      ...state,
      pastBootIds: state.bootId ? [...state.pastBootIds, state.bootId].slice(-16) : state.pastBootIds,
      bootId,
      lastSeq: undefined,
    };
  if (state.status === 'suspect') {
    const silent = at - (state.lastContactAt ?? state.since);
    // The board answers: its heartbeats are late or lost, not its life. No restart.
    return {
      state: { ...settled(enter(state, 'up', at)), lastContactAt: at },
      actions: [log('up', { via: 'probe', silent_ms: silent })],
    };
  }
  if (state.status === 'up') return { state: { ...state, lastContactAt: at }, actions: [] };
  if (state.status === 'booting')
    return {
      state: { ...settled(enter(state, 'up', at)), powered: true, lastContactAt: at, upSince: at },
      actions: [log('up', { via: 'probe', boot_id: bootId })],
    };
  return { state, actions: [] };
}

function onCommandAck(state: BoardState, bootId: string, at: number, policy: Policy): Decision {
  if (state.status !== 'restarting' || state.step !== 'soft' || bootId !== state.bootId || state.stepAcked)
    return { state, actions: [] };
  // The agent is rebooting its board: give the new boot its time before reaching for the lines.
  return { state: { ...state, stepAcked: true, deadline: at + policy.bootTimeoutMs }, actions: [] };
}

function onPower(state: BoardState, on: boolean, at: number, policy: Policy): Decision {
  if (!on) {
    if (!state.powered && state.status === 'off') return { state, actions: [] };
    return { state: { ...settled(enter(state, 'off', at)), powered: false }, actions: [log('off')] };
  }
  if (state.powered && state.status !== 'off') return { state, actions: [] };
  return {
    state: { ...settled(enter(state, 'booting', at)), powered: true, deadline: at + policy.bootTimeoutMs },
    actions: [log('power-on')],
  };
}

function onOperator(state: BoardState, operation: Operation, at: number, policy: Policy): Decision {
  const booting = (s: BoardState): BoardState => ({
    ...settled(enter(s, 'booting', at)),
    since: at,
    powered: true,
    deadline: at + policy.bootTimeoutMs,
  });
  switch (operation) {
    case 'off':
      return {
        state: { ...settled(enter(state, 'off', at)), powered: false },
        actions: [{ kind: 'power', on: false }],
      };
    case 'on':
      if (state.powered && state.status !== 'off') return { state, actions: [] };
      return { state: booting(state), actions: [{ kind: 'power', on: true }] };
    case 'reset':
      return { state: booting(state), actions: [{ kind: 'reset-pulse' }] };
    case 'cycle':
      return {
        state: {
          ...settled(enter(state, 'booting', at)),
          since: at,
          powered: false,
          powerOnAt: at + policy.powerOffMs,
          deadline: at + policy.powerOffMs + policy.bootTimeoutMs,
        },
        actions: [{ kind: 'power', on: false }],
      };
    case 'release': {
      const cleared = { ...state, restarts: [] };
      if (state.status !== 'quarantined')
        return { state: cleared, actions: [log('released', { restarts: state.restarts.length })] };
      const fresh = booting(cleared);
      const actions: BoardAction[] = [log('released', { restarts: state.restarts.length })];
      if (!state.powered) actions.push({ kind: 'power', on: true });
      return { state: fresh, actions };
    }
  }
}

function onTick(state: BoardState, at: number, policy: Policy): Decision {
  const window = state.restarts.filter((t) => at - t < policy.restartWindowMs);
  if (window.length !== state.restarts.length) state = { ...state, restarts: window };
  const silentMs = at - (state.lastContactAt ?? state.since);
  switch (state.status) {
    case 'up': {
      const allowedMs = state.installing
        ? Math.max(policy.heartbeatTimeoutMs, policy.installSilenceMs)
        : policy.heartbeatTimeoutMs;
      if (silentMs > allowedMs)
        return suspect(state, at, policy, {
          silent_ms: silentMs,
          ...(state.installing ? { installing: true } : {}),
        });
      if (
        state.restarts.length > 0 &&
        state.upSince !== undefined &&
        at - state.upSince >= policy.stableUptimeMs
      )
        return {
          state: { ...state, restarts: [] },
          actions: [log('stable', { restarts_cleared: state.restarts.length })],
        };
      return { state, actions: [] };
    }
    case 'booting':
      if (state.powerOnAt !== undefined && at >= state.powerOnAt)
        return {
          state: { ...state, powered: true, powerOnAt: undefined },
          actions: [{ kind: 'power', on: true }],
        };
      if (at >= (state.deadline ?? state.since + policy.bootTimeoutMs))
        return suspect(state, at, policy, { reason: 'boot-timeout' });
      return { state, actions: [] };
    case 'suspect':
      if (at >= (state.deadline ?? at)) return fail(state, at, policy, silentMs);
      if (at - (state.lastProbeAt ?? 0) >= policy.probeIntervalMs)
        return { state: { ...state, lastProbeAt: at }, actions: [{ kind: 'probe' }] };
      return { state, actions: [] };
    case 'restarting':
      if (state.powerOnAt !== undefined && at >= state.powerOnAt)
        return {
          state: { ...state, powered: true, powerOnAt: undefined },
          actions: [{ kind: 'power', on: true }],
        };
      if (state.deadline !== undefined && at >= state.deadline) return nextStep(state, at, policy);
      return { state, actions: [] };
    case 'failed':
      // A board whose whole escalation went unanswered starts over, counted: the cap ends the attempts.
      if (state.deadline !== undefined && at >= state.deadline) return fail(state, at, policy, silentMs);
      return { state, actions: [] };
    case 'quarantined': {
      const inContact = state.lastContactAt !== undefined && silentMs <= policy.heartbeatTimeoutMs;
      if (inContact && state.upSince !== undefined && at - state.upSince >= policy.stableUptimeMs) {
        return {
          state: { ...settled(enter(state, 'up', at)), restarts: [] },
          actions: [log('released', { by: 'stable-uptime' })],
        };
      }
      if (!inContact && state.upSince !== undefined)
        return { state: { ...state, upSince: undefined }, actions: [] };
      return { state, actions: [] };
    }
    case 'off':
      return { state, actions: [] };
  }
}

/**
 * A tick while the network is judged at fault: nothing is restarted and nothing counts. Restarts the box made
 * since the silence began are forgiven; a restart that has not touched a line yet is abandoned (its board goes
 * back to being probed); one whose line moved runs to its end, since the board is rebooting anyway.
 */
function onHeldTick(state: BoardState, at: number, since: number, policy: Policy): Decision {
  if (!state.lines.power && !state.lines.reset) return onTick(state, at, policy);
  const actions: BoardAction[] = [];
  const kept = state.restarts.filter((t) => t < since);
  if (kept.length !== state.restarts.length) {
    actions.push(
      log('restart-forgiven', { restarts: state.restarts.length - kept.length, reason: 'network' }),
    );
    state = { ...state, restarts: kept };
  }
  const abandon = (): Decision => ({
    state: {
      ...settled(enter(state, 'suspect', at)),
      deadline: at + policy.probeTimeoutMs,
      lastProbeAt: at,
    },
    actions: [...actions, { kind: 'probe' }],
  });
  switch (state.status) {
    case 'suspect': {
      // Probes go on; the board fails only once the hold ends and a whole probe window passed unanswered.
      const held = { ...state, deadline: Math.max(state.deadline ?? at, at + policy.probeTimeoutMs) };
      if (at - (state.lastProbeAt ?? 0) >= policy.probeIntervalMs)
        return { state: { ...held, lastProbeAt: at }, actions: [...actions, { kind: 'probe' }] };
      return { state: held, actions };
    }
    case 'restarting':
      if (state.powerOnAt !== undefined && at >= state.powerOnAt)
        return {
          state: { ...state, powered: true, powerOnAt: undefined },
          actions: [...actions, { kind: 'power', on: true }],
        };
      if (state.step === 'soft' && !state.stepAcked && (state.failedAt ?? at) >= since) return abandon();
      if (state.deadline !== undefined && at >= state.deadline)
        return { state: { ...state, deadline: at + policy.probeIntervalMs }, actions };
      return { state, actions };
    case 'failed':
      if ((state.failedAt ?? at) >= since && state.step === undefined) return abandon();
      if (state.deadline !== undefined && at >= state.deadline)
        return { state: { ...state, deadline: at + policy.probeIntervalMs }, actions };
      return { state, actions };
    default: {
      const d = onTick(state, at, policy);
      return { state: d.state, actions: [...actions, ...d.actions] };
    }
  }
}

function suspect(state: BoardState, at: number, policy: Policy, details: Record<string, unknown>): Decision {
  return {
    state: {
      ...settled(enter(state, 'suspect', at)),
      since: at,
      upSince: undefined,
      deadline: at + policy.probeTimeoutMs,
      lastProbeAt: at,
    },
    actions: [log('suspect', details), { kind: 'probe' }],
  };
}

/** No heartbeat and no probe answer: the evidence is in. Restart within the cap, else quarantine. */
function fail(state: BoardState, at: number, policy: Policy, silentMs: number): Decision {
  const actions: BoardAction[] = [log('failed', { silent_ms: silentMs })];
  const base: BoardState = {
    ...settled(enter(state, 'failed', at)),
    since: at,
    failedAt: at,
    upSince: undefined,
  };
  if (!state.lines.power && !state.lines.reset) {
    actions.push({
      kind: 'alert',
      message: `board ${state.board} failed and the manager holds no line to restart it`,
    });
    return { state: base, actions };
  }
  if (state.restarts.length >= policy.restartCap) {
    const windowMin = Math.round(policy.restartWindowMs / 60_000);
    actions.push(log('quarantined', { restarts: state.restarts.length, mode: policy.quarantine }));
    actions.push({
      kind: 'alert',
      message: `board ${state.board} quarantined after ${state.restarts.length} restarts in ${windowMin} min; release it from the console`,
    });
    let next: BoardState = { ...enter(base, 'quarantined', at), since: at };
    if (policy.quarantine === 'off' && state.lines.power) {
      actions.push({ kind: 'power', on: false });
      next = { ...next, powered: false };
    }
    return { state: next, actions };
  }
  const started = startStep({ ...base, restarts: [...state.restarts, at] }, 'soft', at, policy);
  return { state: started.state, actions: [...actions, ...started.actions] };
}

const STEPS: readonly RestartStep[] = ['soft', 'reset', 'power-cycle'];

function nextStep(state: BoardState, at: number, policy: Policy): Decision {
  const following = STEPS[STEPS.indexOf(state.step ?? 'soft') + 1];
  if (following) return startStep(state, following, at, policy);
  // Every step tried and no new boot: wait as failed, then start over (fail counts it against the cap).
  return {
    state: { ...enter(state, 'failed', at), step: undefined, deadline: at },
    actions: [],
  };
}

/** Starts the first step at or after `step` that this board's lines allow. */
function startStep(state: BoardState, step: RestartStep, at: number, policy: Policy): Decision {
  const restarting = (s: RestartStep, extra: Partial<BoardState>): BoardState => ({
    ...enter(state, 'restarting', at),
    step: s,
    stepAcked: undefined,
    powerOnAt: undefined,
    ...extra,
  });
  if (step === 'soft' && state.bootId !== undefined) {
    return {
      state: restarting('soft', { deadline: at + policy.softRebootAckMs }),
      actions: [log('restart', { action: 'soft' }), { kind: 'soft-reboot', bootId: state.bootId }],
    };
  }
  if ((step === 'soft' || step === 'reset') && state.lines.reset) {
    return {
      state: restarting('reset', { deadline: at + policy.bootTimeoutMs }),
      actions: [log('restart', { action: 'reset' }), { kind: 'reset-pulse' }],
    };
  }
  if (state.lines.power) {
    return {
      state: restarting('power-cycle', {
        powered: false,
        powerOnAt: at + policy.powerOffMs,
        deadline: at + policy.powerOffMs + policy.bootTimeoutMs,
      }),
      actions: [log('restart', { action: 'power-cycle' }), { kind: 'power', on: false }],
    };
  }
  return nextStep({ ...state, step: 'power-cycle' }, at, policy);
}

/** When to switch each unpowered board on: one at a time, `gapMs` apart, so the supply does not dip. */
export function powerOnPlan(
  unpowered: readonly number[],
  gapMs: number,
): { board: number; afterMs: number }[] {
  return [...unpowered].sort((a, b) => a - b).map((board, i) => ({ board, afterMs: i * gapMs }));
}
