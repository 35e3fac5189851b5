import { describe, expect, it } from 'vitest';
import {
  decideVisor,
  DEFAULT_VISOR_POLICY as P,
  initialVisorState,
  visorSick,
  type VisorEvent,
  type VisorState,
} from '../../../firmware/skywire/visor-policy.js';

function run(events: [number, VisorEvent][], from: VisorState = initialVisorState()) {
  let s = from;
  const actions: string[] = [];
  for (const [t, e] of events) {
    const r = decideVisor(s, e, t);
    s = r.state;
    actions.push(...r.actions.filter((a) => a.kind !== 'log').map((a) => `${t}:${a.kind}`));
  }
  return { s, actions };
}

describe('visor restart policy', () => {
  it('restarts a visor that exits only after the backoff, and doubles the backoff while it keeps failing', () => {
    const { s, actions } = run([
      [0, { kind: 'start' }],
      [5_000, { kind: 'exited', how: 'exit code 1' }],
      [6_000, { kind: 'tick' }],
      [7_000, { kind: 'tick' }],
      [8_000, { kind: 'exited', how: 'exit code 1' }],
      [11_000, { kind: 'tick' }],
      [12_000, { kind: 'tick' }],
    ]);
    expect(actions).toEqual(['0:spawn', '7000:spawn', '12000:spawn']);
    expect(s).toMatchObject({ status: 'starting', restarts: 2, lastExit: 'exit code 1', backoffMs: 8_000 });
  });

  it('starts from the short backoff again after a visor that stayed up for ten minutes', () => {
    const { s } = run([
      [0, { kind: 'start' }],
      [1_000, { kind: 'exited', how: 'x' }],
      [3_000, { kind: 'tick' }],
      [3_000 + P.stableMs, { kind: 'exited', how: 'x' }],
    ]);
    expect(s.nextStartMs).toBe(3_000 + P.stableMs + P.backoffMs);
  });

  it('kills a running visor that stops answering three times in a row, and restarts it once it has exited', () => {
    const { s, actions } = run([
      [0, { kind: 'start' }],
      [1_000, { kind: 'probe', ok: false }],
      [2_000, { kind: 'probe', ok: true }],
      [3_000, { kind: 'probe', ok: false }],
      [4_000, { kind: 'probe', ok: false }],
      [5_000, { kind: 'probe', ok: true }],
      [6_000, { kind: 'probe', ok: false }],
      [7_000, { kind: 'probe', ok: false }],
      [8_000, { kind: 'probe', ok: false }],
      [9_000, { kind: 'tick' }],
      [20_000, { kind: 'exited', how: 'signal SIGTERM' }],
      [22_000, { kind: 'tick' }],
    ]);
    expect(actions).toEqual(['0:spawn', '8000:kill', '22000:spawn']);
    expect(s.restarts).toBe(1);
  });

  it('does not take a visor still starting for hung', () => {
    const { actions } = run([
      [0, { kind: 'start' }],
      ...[1, 2, 3, 4, 5].map((i): [number, VisorEvent] => [i * 1000, { kind: 'probe', ok: false }]),
    ]);
    expect(actions).toEqual(['0:spawn']);
  });

  it('ends supervision when the service stops it, without a restart', () => {
    const { s, actions } = run([
      [0, { kind: 'start' }],
      [1_000, { kind: 'stop' }],
      [2_000, { kind: 'exited', how: 'signal SIGTERM' }],
      [60_000, { kind: 'tick' }],
    ]);
    expect(actions).toEqual(['0:spawn', '1000:kill']);
    expect(s.status).toBe('stopped');
  });

  it('calls the visor failing after five restarts in half an hour, and well again once they age out', () => {
    const events: [number, VisorEvent][] = [[0, { kind: 'start' }]];
    let t = 0;
    for (let i = 0; i < 5; i++) {
      t += 1_000;
      events.push([t, { kind: 'exited', how: 'x' }]);
      t += 200_000;
      events.push([t, { kind: 'tick' }]);
    }
    const { s } = run(events);
    expect(s.restarts).toBe(5);
    expect(visorSick(s, t)).toBe(true);
    expect(visorSick(s, t + P.sickWindowMs)).toBe(false);
  });
});
