import { describe, expect, it } from 'vitest';
import type { Heartbeat } from '../../../firmware/protocol/messages.js';
import {
  decide,
  initialState,
  powerOnPlan,
  type BoardState,
  type Policy,
} from '../../../firmware/supervisor/board-state.js';

const policy: Policy = { heartbeatTimeoutMs: 2500, bootTimeoutMs: 60_000 };
const hb = (seq: number, boot_id = 'aaaaaaaa'): Heartbeat => ({
  type: 'heartbeat',
  board: 3,
  boot_id,
  seq,
  uptime_s: seq,
  health: { ok: true, failing: [] },
});

function run(state: BoardState, ...events: Parameters<typeof decide>[1][]) {
  const log: string[] = [];
  for (const e of events) {
    const d = decide(state, e, policy);
    state = d.state;
    log.push(...d.actions.map((a) => a.event));
  }
  return { state, log };
}

describe('board state', () => {
  it('treats a powered board as booting until it sends a heartbeat', () => {
    expect(initialState(3, true, 0).status).toBe('booting');
    expect(initialState(3, false, 0).status).toBe('off');
  });

  it('marks a booting board up on its first heartbeat', () => {
    const { state, log } = run(initialState(3, true, 0), { kind: 'heartbeat', at: 900, heartbeat: hb(0) });
    expect(state.status).toBe('up');
    expect(state.since).toBe(900);
    expect(log).toEqual(['up']);
  });

  it('keeps a board up while heartbeats arrive within the timeout', () => {
    const { state } = run(
      initialState(3, true, 0),
      { kind: 'heartbeat', at: 1000, heartbeat: hb(0) },
      { kind: 'tick', at: 3400 },
      { kind: 'heartbeat', at: 3450, heartbeat: hb(1) },
      { kind: 'tick', at: 5900 },
    );
    expect(state.status).toBe('up');
  });

  it('marks a board out of contact when heartbeats stop for longer than the timeout', () => {
    const { state, log } = run(
      initialState(3, true, 0),
      { kind: 'heartbeat', at: 1000, heartbeat: hb(0) },
      { kind: 'tick', at: 3500 },
      { kind: 'tick', at: 3501 },
    );
    expect(state.status).toBe('no-contact');
    expect(state.since).toBe(3501);
    expect(log).toEqual(['up', 'no-contact']);
  });

  it('ignores a replayed heartbeat of the same boot', () => {
    const { state } = run(
      initialState(3, true, 0),
      { kind: 'heartbeat', at: 1000, heartbeat: hb(5) },
      { kind: 'tick', at: 3600 },
      { kind: 'heartbeat', at: 3700, heartbeat: hb(5) },
      { kind: 'heartbeat', at: 3800, heartbeat: hb(4) },
    );
    expect(state.status).toBe('no-contact');
  });

  it('notices a reboot from a new boot id even when the sequence starts over', () => {
    const { state, log } = run(
      initialState(3, true, 0),
      { kind: 'heartbeat', at: 1000, heartbeat: hb(50) },
      { kind: 'heartbeat', at: 2000, heartbeat: hb(0, 'bbbbbbbb') },
    );
    expect(state.status).toBe('up');
    expect(state.bootId).toBe('bbbbbbbb');
    expect(log).toEqual(['up', 'rebooted']);
  });

  it('goes off when its power is switched off and booting when switched on', () => {
    const up = run(initialState(3, true, 0), { kind: 'heartbeat', at: 10, heartbeat: hb(0) }).state;
    const off = run(up, { kind: 'power', at: 20, on: false });
    expect(off.state.status).toBe('off');
    expect(off.state.bootId).toBeUndefined();
    const on = run(off.state, { kind: 'power', at: 30, on: true });
    expect(on.state.status).toBe('booting');
    expect(on.log).toEqual(['power-on']);
  });

  it('gives up waiting for a board that never finishes booting', () => {
    const { state, log } = run(initialState(3, true, 0), { kind: 'tick', at: 60_001 });
    expect(state.status).toBe('no-contact');
    expect(log).toEqual(['boot-timeout']);
  });

  it('staggers power-on one board at a time in board order', () => {
    expect(powerOnPlan([5, 2, 3], 1000)).toEqual([
      { board: 2, afterMs: 0 },
      { board: 3, afterMs: 1000 },
      { board: 5, afterMs: 2000 },
    ]);
  });
});
