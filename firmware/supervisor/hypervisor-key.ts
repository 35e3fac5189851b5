import type { HeartbeatFigures } from '../protocol/figures.js';

/** How often a board that still trusts another hypervisor key is sent the box's key again. */
export const HYPERVISOR_KEY_RESEND_MS = 5000;

/**
 * The box's hypervisor key: the public key of the manager's own visor (board 1), as its authenticated heartbeat
 * reports it. Null until board 1 has reported a visor with keys.
 */
export function boxHypervisorKey(managerFigures: HeartbeatFigures | undefined): string | null {
  const v = managerFigures?.visor;
  return v?.pk ?? null;
}

/**
 * Whether to answer a worker's heartbeat with the box's hypervisor key: the board runs a visor service whose config
 * trusts another key (or none yet), and the key was not sent in the last `resendMs`. The manager's own board never
 * needs it; a board without Skywire (no visor figures) is left alone.
 */
export function hypervisorKeyDue(input: {
  board: number;
  figures: HeartbeatFigures | undefined;
  hypervisorPk: string | null;
  lastSentAt: number | undefined;
  now: number;
  resendMs?: number;
}): boolean {
  const { board, figures, hypervisorPk, lastSentAt, now } = input;
  if (board === 1 || hypervisorPk === null || !figures?.visor) return false;
  if (figures.visor.hypervisor_pk === hypervisorPk) return false;
  return lastSentAt === undefined || now - lastSentAt >= (input.resendMs ?? HYPERVISOR_KEY_RESEND_MS);
}
