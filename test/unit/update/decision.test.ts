import { describe, expect, it } from 'vitest';
import {
  bootChoice,
  commitChanges,
  healthDecision,
  rollbackReason,
  tryChanges,
  updateState,
  type UpdateRecord,
} from '../../../firmware/update/decision.js';
import type { Env } from '../../../firmware/update/uboot-env.js';

function apply(env: Env, changes: Record<string, string | undefined>): Env {
  const out = { ...env };
  for (const [k, v] of Object.entries(changes))
    if (v === undefined) delete out[k];
    else out[k] = v;
  return out;
}

/** One boot as U-Boot's script does it: the slot it boots and the environment it saves. */
function boot(env: Env): { slot: string; env: Env } {
  const c = bootChoice(env);
  return { slot: c.slot, env: apply(env, c.changes) };
}

const record = (stage: UpdateRecord['stage'], reason?: string): UpdateRecord => ({
  version: '0.2.0',
  slot: 'B',
  fromVersion: '0.1.0',
  fromSlot: 'A',
  stage,
  at: 0,
  ...(reason ? { reason } : {}),
});

describe('A/B update decisions', () => {
  it('boots the committed slot and writes nothing on an ordinary boot', () => {
    expect(bootChoice({ skyminer_slot: 'B' })).toEqual({ slot: 'B', changes: {} });
  });

  it('names slot A on the first boot of a card, once', () => {
    expect(bootChoice({})).toEqual({ slot: 'A', changes: { skyminer_slot: 'A' } });
  });

  it('gives a new slot exactly one boot, then falls back and says which slot failed', () => {
    let env: Env = apply({ skyminer_slot: 'A' }, tryChanges('B'));
    const first = boot(env);
    expect(first.slot).toBe('B');
    env = first.env;
    expect(updateState(env, 'B')).toEqual({ kind: 'trying', slot: 'B', fallback: 'A' });
    // The try never committed (it did not boot, hung, or gave up): the next boot is the old slot.
    const second = boot(env);
    expect(second.slot).toBe('A');
    expect(second.env).toEqual({ skyminer_slot: 'A', skyminer_fallback: 'B' });
    expect(updateState(second.env, 'A')).toEqual({ kind: 'rolled-back', slot: 'A', failed: 'B' });
    // And every boot after that stays there.
    expect(boot({ skyminer_slot: 'A' }).slot).toBe('A');
  });

  it('keeps booting a committed slot', () => {
    let env = boot(apply({ skyminer_slot: 'A' }, tryChanges('B'))).env;
    env = apply(env, commitChanges('B'));
    expect(env).toEqual({ skyminer_slot: 'B' });
    expect(boot(env).slot).toBe('B');
    expect(updateState(env, 'B')).toEqual({ kind: 'steady', slot: 'B' });
  });

  it('commits as soon as the board is healthy, waits inside the limit, gives up at it', () => {
    const t = { startedAt: 1000, limitMs: 300_000 };
    expect(healthDecision({ ...t, now: 2000, healthy: true })).toBe('commit');
    expect(healthDecision({ ...t, now: 300_999, healthy: false })).toBe('wait');
    expect(healthDecision({ ...t, now: 301_000, healthy: false })).toBe('give-up');
  });

  it('says why a rollback happened, from what the tried slot recorded', () => {
    expect(rollbackReason('B', record('installed'))).toBe(
      'firmware 0.2.0 (slot B) did not boot: back on the previous firmware',
    );
    expect(rollbackReason('B', record('gave-up', 'agent not running'))).toBe(
      'firmware 0.2.0 (slot B) did not become healthy (agent not running): back on the previous firmware',
    );
    expect(rollbackReason('B', record('booted'))).toBe(
      'firmware 0.2.0 (slot B) stopped (power lost or restarted) before it was healthy: back on the previous firmware',
    );
    expect(rollbackReason('B', undefined)).toBe('slot B did not boot: back on the previous firmware');
  });
});
