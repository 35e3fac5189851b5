import type { FirmwareReport } from '../update/rollout.js';

/** How often a trial boot whose heartbeats keep saying so is acknowledged again (the datagram may be lost). */
export const TRIAL_ACK_RESEND_MS = 2000;

/**
 * Whether to answer a heartbeat with the acknowledgement a trial boot of a new slot waits for (the `commit` order,
 * update/trial-health.ts): the heartbeat was taken, its board says it is on its trial boot, and its own checks pass.
 * Any trial boot, whether a box-wide rollout or `skyminer update` on the board itself put it there: the
 * acknowledgement proves the new slot reaches the manager with its key. Once per `resendMs` per boot.
 */
export function trialAckDue(input: {
  firmware: FirmwareReport | undefined;
  healthy: boolean;
  bootId: string;
  last: { bootId: string; at: number } | undefined;
  now: number;
  resendMs?: number;
}): boolean {
  const { firmware, healthy, bootId, last, now } = input;
  if (!firmware?.trying || !healthy) return false;
  return !last || last.bootId !== bootId || now - last.at >= (input.resendMs ?? TRIAL_ACK_RESEND_MS);
}
