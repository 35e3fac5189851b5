import { describe, expect, it } from 'vitest';
import { trialHealth } from '../../../firmware/update/trial-health.js';

const up = { supervisor: true, panel: 'drawn' } as const;

describe('when a trial boot is healthy enough to commit', () => {
  it('waits on a worker until the manager has acknowledged a heartbeat of this boot', () => {
    expect(trialHealth({ role: 'board', acknowledged: false })).toEqual({
      ok: false,
      detail: 'no heartbeat acknowledged by the manager',
    });
    expect(trialHealth({ role: 'board', acknowledged: true })).toEqual({
      ok: true,
      detail: 'heartbeat acknowledged by the manager',
    });
  });

  it("says which of the agent's own checks fail while the manager does not acknowledge it", () => {
    expect(trialHealth({ role: 'board', acknowledged: false, failing: ['root-fs', 'memory'] })).toEqual({
      ok: false,
      detail: 'no heartbeat acknowledged by the manager; its checks fail: root-fs, memory',
    });
    expect(trialHealth({ role: 'board', acknowledged: true, failing: ['root-fs'] }).ok).toBe(true);
  });

  it('names the supervisor on a manager whose supervisor is not running, not what follows from it', () => {
    expect(trialHealth({ role: 'manager', acknowledged: false })).toEqual({
      ok: false,
      detail: 'supervisor not running',
    });
    expect(
      trialHealth({ role: 'manager', acknowledged: true, manager: { supervisor: false, panel: 'drawn' } }),
    ).toEqual({ ok: false, detail: 'supervisor not running' });
  });

  it('waits on the manager for the panel to draw, then for its own agent to be acknowledged', () => {
    expect(
      trialHealth({ role: 'manager', acknowledged: true, manager: { supervisor: true, panel: 'waiting' } }),
    ).toEqual({ ok: false, detail: 'panel not drawn' });
    expect(trialHealth({ role: 'manager', acknowledged: false, manager: up })).toEqual({
      ok: false,
      detail: 'no heartbeat acknowledged by the manager',
    });
    expect(trialHealth({ role: 'manager', acknowledged: true, manager: up })).toEqual({
      ok: true,
      detail: 'supervisor up, panel drawn, heartbeat acknowledged',
    });
  });

  it('commits a manager that has no panel to draw on once its supervisor is up and its agent acknowledged', () => {
    expect(
      trialHealth({ role: 'manager', acknowledged: true, manager: { supervisor: true, panel: 'none' } }),
    ).toEqual({ ok: true, detail: 'supervisor up, no panel, heartbeat acknowledged' });
  });

  it('has nothing to wait for on a board in no box (no role, so no agent runs)', () => {
    expect(trialHealth({ role: undefined, acknowledged: false }).ok).toBe(true);
  });
});
