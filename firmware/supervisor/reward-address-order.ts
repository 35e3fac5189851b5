import type { HeartbeatFigures } from '../protocol/figures.js';

/** How often a board whose visor's reward.txt still holds another address is sent the box's again. */
export const REWARD_ADDRESS_RESEND_MS = 5000;

/**
 * Whether to answer a board's heartbeat with the reward address for its visor's own file: the rewards service
 * wants it set on the board (`wanted`: its hypervisor cannot reach the visor, or failed to set it), the board runs a
 * visor whose reward.txt holds another address, and it was not sent in the last `resendMs`.
 */
export function rewardAddressDue(input: {
  figures: HeartbeatFigures | undefined;
  wanted: string | null;
  lastSentAt: number | undefined;
  now: number;
  resendMs?: number;
}): boolean {
  const { figures, wanted, lastSentAt, now } = input;
  if (wanted === null || !figures?.visor || figures.visor.reward_address === wanted) return false;
  return lastSentAt === undefined || now - lastSentAt >= (input.resendMs ?? REWARD_ADDRESS_RESEND_MS);
}
