// What an update does at each step, decided from the boot environment, the booted slot and the clock alone:
// the loops that read U-Boot's environment, watch the board's health and reboot only carry these out.
import type { Env } from './uboot-env.js';

export type Slot = 'A' | 'B';

/** The variables the boot script and the firmware share. */
export const ENV = {
  /** The committed slot: what boots when nothing is being tried. */
  slot: 'skyminer_slot',
  /** A newly written slot to boot once. */
  try: 'skyminer_try',
  /** Boots of the try slot left; U-Boot takes one off before each. */
  tryLeft: 'skyminer_try_left',
  /** Set by the boot script when it gave up on a try: the slot that did not commit. */
  fallback: 'skyminer_fallback',
} as const;

export function otherSlot(s: Slot): Slot {
  return s === 'A' ? 'B' : 'A';
}

function slotOf(v: string | undefined): Slot | undefined {
  return v === 'A' || v === 'B' ? v : undefined;
}

/** The committed slot (A when the environment has never named one). */
export function committedSlot(env: Env): Slot {
  return slotOf(env[ENV.slot]) ?? 'A';
}

/**
 * What U-Boot's boot script does (images/stages/boot-script.ts is the same logic in its language): try a new
 * slot while it has boots left, taking one off first; once none are left, fall back to the committed slot and
 * say which slot failed. Nothing is written on an ordinary boot.
 */
export function bootChoice(env: Env): { slot: Slot; changes: Record<string, string | undefined> } {
  const committed = committedSlot(env);
  const trying = slotOf(env[ENV.try]);
  const changes: Record<string, string | undefined> = {};
  if (env[ENV.slot] === undefined) changes[ENV.slot] = committed;
  if (!trying) return { slot: committed, changes };
  const left = Number.parseInt(env[ENV.tryLeft] ?? '0', 10);
  if (left > 0) return { slot: trying, changes: { ...changes, [ENV.tryLeft]: String(left - 1) } };
  return {
    slot: committed,
    changes: { ...changes, [ENV.fallback]: trying, [ENV.try]: undefined, [ENV.tryLeft]: undefined },
  };
}

/** The switch an installed slot gets: one try, written in one environment write. */
export function tryChanges(target: Slot): Record<string, string | undefined> {
  return { [ENV.try]: target, [ENV.tryLeft]: '1', [ENV.fallback]: undefined };
}

/** Making the running try slot the committed one, in one write. */
export function commitChanges(slot: Slot): Record<string, string | undefined> {
  return { [ENV.slot]: slot, [ENV.try]: undefined, [ENV.tryLeft]: undefined };
}

export type UpdateState =
  | { kind: 'steady'; slot: Slot }
  /** This boot is the one try of a new slot: commit when healthy, else give up. */
  | { kind: 'trying'; slot: Slot; fallback: Slot }
  /** The board came back on `slot` after `failed` did not commit. */
  | { kind: 'rolled-back'; slot: Slot; failed: Slot };

export function updateState(env: Env, booted: Slot): UpdateState {
  const trying = slotOf(env[ENV.try]);
  const failed = slotOf(env[ENV.fallback]);
  if (trying === booted) return { kind: 'trying', slot: booted, fallback: committedSlot(env) };
  if (failed && failed !== booted) return { kind: 'rolled-back', slot: booted, failed };
  return { kind: 'steady', slot: booted };
}

/** The health watch of a try boot: commit once healthy; past the limit without that, give up (and reboot). */
export function healthDecision(o: {
  startedAt: number;
  now: number;
  limitMs: number;
  healthy: boolean;
}): 'commit' | 'wait' | 'give-up' {
  if (o.healthy) return 'commit';
  return o.now - o.startedAt >= o.limitMs ? 'give-up' : 'wait';
}

/** What the data partition remembers of the last update, written at each step by the slot that took it. */
export interface UpdateRecord {
  version: string;
  slot: Slot;
  fromVersion: string;
  fromSlot: Slot;
  stage: 'installed' | 'booted' | 'gave-up' | 'committed' | 'rolled-back';
  /** Why the try gave up (the health check's last answer), when it did. */
  reason?: string;
  at: number;
}

/** The one line a rolled-back board reports: which version, and why, as far as the record tells. */
export function rollbackReason(failed: Slot, record: UpdateRecord | undefined): string {
  const what =
    record && record.slot === failed ? `firmware ${record.version} (slot ${failed})` : `slot ${failed}`;
  if (!record || record.slot !== failed || record.stage === 'installed')
    return `${what} did not boot: back on the previous firmware`;
  if (record.stage === 'gave-up')
    return `${what} did not become healthy${record.reason ? ` (${record.reason})` : ''}: back on the previous firmware`;
  return `${what} stopped (power lost or restarted) before it was healthy: back on the previous firmware`;
}
