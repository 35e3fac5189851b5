import { describe, expect, it } from 'vitest';
import type { Heartbeat } from '../../../firmware/protocol/messages.js';
import {
  decide,
  DEFAULT_POLICY,
  initialState,
  powerOnPlan,
  type BoardAction,
  type BoardEvent,
  type BoardState,
  type Policy,
} from '../../../firmware/supervisor/board-state.js';

// Short, round figures so the arithmetic in each case is easy to follow.
const policy: Policy = {
  ...DEFAULT_POLICY,
  heartbeatTimeoutMs: 1500,
  bootTimeoutMs: 60_000,
  probeTimeoutMs: 1200,
  probeIntervalMs: 200,
  softRebootAckMs: 1000,
  powerOffMs: 5000,
  restartCap: 3,
  restartWindowMs: 3_600_000,
  stableUptimeMs: 600_000,
  quarantine: 'off',
};

const hb = (seq: number, boot_id = 'aaaaaaaa'): Heartbeat => ({
  type: 'heartbeat',
  board: 3,
  boot_id,
  seq,
  time_ms: 0,
  uptime_s: seq,
  health: { ok: true, failing: [] },
});

const beat = (at: number, seq: number, boot = 'aaaaaaaa'): BoardEvent => ({
  kind: 'heartbeat',
  at,
  heartbeat: hb(seq, boot),
});
const tick = (at: number): BoardEvent => ({ kind: 'tick', at });

/** Feeds events in order; returns the final state and every action, described as short strings. */
function run(state: BoardState, events: BoardEvent[], p: Policy = policy) {
  const actions: string[] = [];
  const all: BoardAction[] = [];
  for (const e of events) {
    const d = decide(state, e, p);
    state = d.state;
    all.push(...d.actions);
    actions.push(...d.actions.map(describeAction));
  }
  return { state, actions, all };
}

function describeAction(a: BoardAction): string {
  switch (a.kind) {
    case 'log':
      return a.event === 'restart' ? `restart:${String(a.details?.action)}` : a.event;
    case 'power':
      return a.on ? 'power-on!' : 'power-off!';
    case 'soft-reboot':
      return `soft-reboot!${a.bootId}`;
    default:
      return `${a.kind}!`;
  }
}

/** Ticks every 50 ms from `from` to `to` inclusive, as the supervisor loop does. */
function ticks(from: number, to: number): BoardEvent[] {
  const out: BoardEvent[] = [];
  for (let t = from; t <= to; t += 50) out.push(tick(t));
  return out;
}

const upAt = (at: number): BoardState => run(initialState(3, true, 0), [beat(at, 0)]).state;

describe('board state: contact', () => {
  it('treats a powered board as booting until it sends a heartbeat', () => {
    expect(initialState(3, true, 0).status).toBe('booting');
    expect(initialState(3, false, 0).status).toBe('off');
  });

  it('marks a booting board up on its first heartbeat', () => {
    const { state, actions } = run(initialState(3, true, 0), [beat(900, 0)]);
    expect(state.status).toBe('up');
    expect(state.since).toBe(900);
    expect(actions).toEqual(['up']);
  });

  it('keeps a board up while heartbeats arrive within the timeout', () => {
    const { state, actions } = run(upAt(1000), [
      beat(2000, 1),
      ...ticks(2000, 3450),
      beat(3450, 2),
      ...ticks(3450, 4900),
    ]);
    expect(state.status).toBe('up');
    expect(actions).toEqual([]);
  });

  it('makes a board suspect and probes it once heartbeats stop for longer than the timeout', () => {
    const { state, actions } = run(upAt(1000), ticks(1000, 2550));
    expect(state.status).toBe('suspect');
    expect(state.since).toBe(2550);
    expect(actions).toEqual(['suspect', 'probe!']);
  });

  it('does not restart a board whose heartbeats arrive late under load', () => {
    // Heartbeats 1.4 s apart (a 400 ms lag on a 1 s period): never past the 1.5 s timeout.
    const events: BoardEvent[] = [];
    for (let i = 1; i <= 20; i++)
      events.push(...ticks(1000 + (i - 1) * 1400 + 50, 1000 + i * 1400 - 50), beat(1000 + i * 1400, i));
    const { state, actions } = run(upAt(1000), events);
    expect(state.status).toBe('up');
    expect(actions).toEqual([]);
  });

  it('clears a suspicion without a restart when the probe is answered', () => {
    const suspect = run(upAt(1000), ticks(1000, 2550)).state;
    const { state, actions } = run(suspect, [
      { kind: 'probe-answer', at: 2700, bootId: 'aaaaaaaa' },
      ...ticks(2750, 4000),
    ]);
    expect(state.status).toBe('up');
    expect(actions).toEqual(['up']);
  });

  it('clears a suspicion when a late heartbeat arrives inside the probe window', () => {
    const suspect = run(upAt(1000), ticks(1000, 2550)).state;
    const { state, actions } = run(suspect, [...ticks(2600, 3600), beat(3650, 1), ...ticks(3700, 4000)]);
    expect(state.status).toBe('up');
    expect(actions.filter((a) => a !== 'probe!')).toEqual(['up']);
  });

  it('resends probes every probe interval while a board is suspect', () => {
    const { actions } = run(upAt(1000), ticks(1000, 3700));
    // Suspect at 2550; probes at 2550, 2750, 2950, 3150, 3350, 3550; failed at 3750 (not yet).
    expect(actions.filter((a) => a === 'probe!')).toHaveLength(6);
  });

  it('ignores a replayed heartbeat of the same boot', () => {
    const d = decide(run(upAt(1000), [beat(2000, 5)]).state, beat(2100, 5), policy);
    expect(d.rejected).toMatch(/sequence 5 not after 5/);
    const older = decide(d.state, beat(2200, 4), policy);
    expect(older.rejected).toBeDefined();
    expect(older.state).toBe(d.state);
  });

  it('refuses a heartbeat of an earlier boot, whatever its sequence number', () => {
    const rebooted = run(upAt(1000), [beat(2000, 0, 'bbbbbbbb')]).state;
    const d = decide(rebooted, beat(2100, 999, 'aaaaaaaa'), policy);
    expect(d.rejected).toMatch(/earlier boot/);
    expect(d.state).toBe(rebooted);
  });

  it('notices a reboot from a new boot id even when the sequence starts over', () => {
    const { state, actions } = run(initialState(3, true, 0), [beat(1000, 50), beat(2000, 0, 'bbbbbbbb')]);
    expect(state.status).toBe('up');
    expect(state.bootId).toBe('bbbbbbbb');
    expect(state.pastBootIds).toEqual(['aaaaaaaa']);
    expect(actions).toEqual(['up', 'rebooted']);
  });

  it('goes off when its power is switched off and booting when switched on', () => {
    const off = run(upAt(10), [{ kind: 'power', at: 20, on: false }]);
    expect(off.state.status).toBe('off');
    const on = run(off.state, [{ kind: 'power', at: 30, on: true }]);
    expect(on.state.status).toBe('booting');
    expect(on.actions).toEqual(['power-on']);
  });

  it('probes a board that never finishes booting, then restarts it', () => {
    const { state, actions } = run(initialState(3, true, 0), ticks(59_950, 61_300));
    expect(actions).toEqual([
      'suspect',
      'probe!',
      'probe!',
      'probe!',
      'probe!',
      'probe!',
      'probe!',
      'failed',
      'restart:reset',
      'reset-pulse!',
    ]);
    // Never heard from: no boot to send a soft reboot to, so the reset line comes first.
    expect(state.status).toBe('restarting');
    expect(state.step).toBe('reset');
  });
});

describe('board state: a board installing an update', () => {
  const installing = (at: number, on: boolean): BoardEvent => ({ kind: 'installing', at, on });
  const grace = { ...policy, installSilenceMs: 20_000 };

  it('allows an installing board a silence up to the install limit without suspecting it', () => {
    const { state, actions } = run(upAt(1000), [installing(1000, true), ...ticks(1000, 21_000)], grace);
    expect(state.status).toBe('up');
    expect(actions).toEqual([]);
  });

  it('suspects an installing board that stays silent past the install limit, and says it was installing', () => {
    const { state, all } = run(upAt(1000), [installing(1000, true), ...ticks(1000, 21_050)], grace);
    expect(state.status).toBe('suspect');
    expect(all[0]).toEqual({
      kind: 'log',
      event: 'suspect',
      details: { silent_ms: 20_050, installing: true },
    });
  });

  it('holds a board to the heartbeat timeout again once its install is over', () => {
    const { state, actions } = run(
      upAt(1000),
      [installing(1000, true), installing(1200, false), ...ticks(1000, 2550)],
      grace,
    );
    expect(state.status).toBe('suspect');
    expect(actions).toEqual(['suspect', 'probe!']);
  });

  it('keeps the heartbeat timeout when the install limit is shorter', () => {
    const { state } = run(upAt(1000), [installing(1000, true), ...ticks(1000, 2450)], {
      ...policy,
      installSilenceMs: 0,
    });
    expect(state.status).toBe('up');
  });
});

describe('board state: failure and escalation', () => {
  // Heard at 1000, silent after: suspect at 2550, failed at 3750.
  const failedRun = (p: Policy = policy) => run(upAt(1000), ticks(1000, 3750), p);

  it('declares a board failed only after the timeout and unanswered probes, then sends a soft reboot', () => {
    const { state, actions } = failedRun();
    expect(actions.filter((a) => a !== 'probe!')).toEqual([
      'suspect',
      'failed',
      'restart:soft',
      'soft-reboot!aaaaaaaa',
    ]);
    expect(state.status).toBe('restarting');
    expect(state.step).toBe('soft');
    expect(state.restarts).toEqual([3750]);
  });

  it('pulses the reset line when the soft reboot is not acknowledged in time', () => {
    const { state, actions } = run(failedRun().state, ticks(3800, 4750));
    expect(actions).toEqual(['restart:reset', 'reset-pulse!']);
    expect(state.step).toBe('reset');
  });

  it('waits for the new boot when the agent acknowledges the soft reboot', () => {
    const acked = run(failedRun().state, [
      { kind: 'command-ack', at: 3800, bootId: 'aaaaaaaa' },
      ...ticks(3850, 30_000),
    ]);
    expect(acked.actions).toEqual([]);
    const { state, actions, all } = run(acked.state, [beat(31_000, 0, 'cccccccc')]);
    expect(state.status).toBe('up');
    expect(actions).toEqual(['recovered']);
    expect(all[0]).toMatchObject({ details: { after_ms: 31_000 - 3750, action: 'soft' } });
  });

  it('power-cycles a board that does not come back from the reset, keeping power off for the off time', () => {
    const reset = run(failedRun().state, ticks(3800, 4750)).state;
    const { state, actions } = run(reset, ticks(4800, 64_750));
    expect(actions).toEqual(['restart:power-cycle', 'power-off!']);
    expect(state.powered).toBe(false);
    const back = run(state, ticks(64_800, 69_750));
    expect(back.actions).toEqual(['power-on!']);
    expect(back.state.powered).toBe(true);
    expect(back.state.status).toBe('restarting');
  });

  it('recovers on a heartbeat of a new boot, not on the old boot', () => {
    const reset = run(failedRun().state, ticks(3800, 4750)).state;
    const old = run(reset, [beat(5000, 3)]);
    expect(old.state.status).toBe('restarting');
    expect(old.actions).toEqual([]);
    const fresh = run(old.state, [beat(6000, 0, 'dddddddd')]);
    expect(fresh.state.status).toBe('up');
    expect(fresh.actions).toEqual(['recovered']);
    expect(fresh.state.step).toBeUndefined();
  });

  it('starts over (counted) when even the power cycle brings no new boot', () => {
    const reset = run(failedRun().state, ticks(3800, 4750)).state;
    const { state, actions } = run(reset, ticks(4800, 130_000));
    expect(actions.filter((a) => !a.includes('!'))).toEqual([
      'restart:power-cycle',
      'failed',
      'restart:soft',
    ]);
    expect(state.restarts).toHaveLength(2);
  });

  it('skips the steps a board has no line for', () => {
    const noReset = run(initialState(3, true, 0, { power: true, reset: false }), [
      beat(1000, 0),
      ...ticks(1000, 4750),
    ]);
    expect(noReset.actions.filter((a) => a.startsWith('restart'))).toEqual([
      'restart:soft',
      'restart:power-cycle',
    ]);
  });

  it('leaves a board it cannot restart failed, with an alert', () => {
    const manager = run(initialState(1, true, 0, { power: false, reset: false }), [
      beat(1000, 0),
      ...ticks(1000, 10_000),
    ]);
    expect(manager.state.status).toBe('failed');
    expect(manager.actions.filter((a) => a !== 'probe!')).toEqual(['up', 'suspect', 'failed', 'alert!']);
    const back = run(manager.state, [beat(11_000, 1)]);
    expect(back.state.status).toBe('up');
    expect(back.actions).toEqual(['recovered']);
  });
});

describe('board state: restart cap and quarantine', () => {
  /** Fails and recovers a board `n` times, 10 minutes apart; returns the state after the last recovery. */
  function failTimes(n: number, p: Policy = policy): BoardState {
    let state = upAt(1000);
    let t = 1000;
    for (let i = 0; i < n; i++) {
      state = run(state, ticks(t + 50, t + 2800), p).state; // failed at t + 2750
      expect(state.status).toBe('restarting');
      t += 600_000;
      state = run(state, [beat(t, 0, `b00${i}aaaa`)], p).state;
      expect(state.status).toBe('up');
    }
    return state;
  }

  it('quarantines a board on the failure after the third restart within the hour, switched off, with an alert', () => {
    const three = failTimes(3, { ...policy, stableUptimeMs: 3_600_000 });
    expect(three.restarts).toHaveLength(3);
    const { state, actions, all } = run(three, ticks(three.since + 50, three.since + 2800), {
      ...policy,
      stableUptimeMs: 3_600_000,
    });
    expect(actions.filter((a) => a !== 'probe!')).toEqual([
      'suspect',
      'failed',
      'quarantined',
      'alert!',
      'power-off!',
    ]);
    expect(state.status).toBe('quarantined');
    expect(state.powered).toBe(false);
    expect(all.find((a) => a.kind === 'alert')).toMatchObject({
      message: expect.stringMatching(/board 3 quarantined after 3 restarts in 60 min/),
    });
    // Quarantined and off: nothing more happens, however long we wait.
    expect(run(state, ticks(state.since + 50, state.since + 200_000)).actions).toEqual([]);
  });

  it('leaves a quarantined board powered when the policy says leave', () => {
    const p: Policy = { ...policy, quarantine: 'leave', stableUptimeMs: 3_600_000 };
    const three = failTimes(3, p);
    const { state, actions } = run(three, ticks(three.since + 50, three.since + 2800), p);
    expect(state.status).toBe('quarantined');
    expect(state.powered).toBe(true);
    expect(actions).not.toContain('power-off!');
  });

  it('lets restarts older than the window fall out of the count', () => {
    const p: Policy = { ...policy, restartWindowMs: 1_000_000, stableUptimeMs: 10_000_000 };
    const three = failTimes(3, p);
    // Restarts at 3750, 603750, 1203750; at 1.81e6 the first two are out of the window.
    const { state } = run(three, [tick(1_810_000)], p);
    expect(state.restarts).toEqual([1_203_750]);
  });

  it('clears the restart count after a stable uptime', () => {
    const two = failTimes(2, { ...policy, stableUptimeMs: 3_600_000 });
    let state = two;
    const events: BoardEvent[] = [];
    for (let t = two.since + 1000, seq = 1; t <= two.since + 600_000; t += 1000, seq++)
      events.push(beat(t, seq, two.bootId), tick(t));
    const r = run(state, events);
    state = r.state;
    expect(r.actions).toEqual(['stable']);
    expect(state.restarts).toEqual([]);
  });

  it('lifts a quarantine left alone once the board stays up for the stable uptime', () => {
    const p: Policy = { ...policy, quarantine: 'leave', stableUptimeMs: 60_000 };
    const three = failTimes(3, { ...p, stableUptimeMs: 3_600_000 });
    const q = run(three, ticks(three.since + 50, three.since + 2800), p).state;
    expect(q.status).toBe('quarantined');
    const events: BoardEvent[] = [];
    const start = q.since + 1000;
    for (let t = start, seq = 0; t <= start + 61_000; t += 1000, seq++)
      events.push(beat(t, seq, 'eeeeeeee'), tick(t));
    const r = run(q, events, p);
    expect(r.state.status).toBe('up');
    expect(r.state.restarts).toEqual([]);
    expect(r.actions).toEqual(['released']);
  });

  it('releases a quarantine on an operator command: count cleared, power back on', () => {
    const three = failTimes(3, { ...policy, stableUptimeMs: 3_600_000 });
    const q = run(three, ticks(three.since + 50, three.since + 2800)).state;
    const { state, actions } = run(q, [
      { kind: 'operator', at: q.since + 5000, operation: 'release', by: 'console' },
    ]);
    expect(state.status).toBe('booting');
    expect(state.restarts).toEqual([]);
    expect(actions).toEqual(['released', 'power-on!']);
  });
});

describe('board state: operator', () => {
  it('switches a board off and keeps it off, unsupervised', () => {
    const { state, actions } = run(upAt(1000), [
      { kind: 'operator', at: 2000, operation: 'off', by: 'cli' },
      ...ticks(2050, 100_000),
    ]);
    expect(state.status).toBe('off');
    expect(actions).toEqual(['power-off!']);
  });

  it('power-cycles on request: off now, on after the off time, then waits for the boot', () => {
    const { state, actions } = run(upAt(1000), [
      { kind: 'operator', at: 2000, operation: 'cycle', by: 'cli' },
      ...ticks(2050, 7000),
    ]);
    expect(actions).toEqual(['power-off!', 'power-on!']);
    expect(state.status).toBe('booting');
  });
});

describe('power-on plan', () => {
  it('staggers power-on one board at a time in board order', () => {
    expect(powerOnPlan([5, 2, 3], 1000)).toEqual([
      { board: 2, afterMs: 0 },
      { board: 3, afterMs: 1000 },
      { board: 5, afterMs: 2000 },
    ]);
  });
});
