import { DAY_MS, dayStart } from './day.js';
import { judgeVersion, type FloorStanding } from './version-floor.js';

export interface EligibilityInput {
  nowMs: number;
  /** Online time so far today (UTC). */
  onlineMs: number;
  online: boolean;
  /** The last reward address, version and dmsg state the visor reported (kept while it is offline). */
  rewardAddress: string | null;
  dmsgConnected: boolean;
  version: string | null;
  minVersion: string;
  /** When minVersion applies from (UTC midnight, ms); absent or null: in force already. */
  minVersionFromMs?: number | null;
  thresholdPct: number;
}

export interface Eligibility {
  /** Online share of the day so far. */
  uptimeTodayPct: number;
  /** The best the day can still end at: online time so far plus every remaining minute. */
  reachablePct: number;
  onTrack: boolean;
  /** Why the board is not on track, one short phrase each; empty when it is. */
  reasons: string[];
  /** The version against the network's floor (version-floor.ts). */
  versionStanding: FloorStanding;
  /** A floor not yet in force that the version is below: on track today, not from that day. */
  warning: string | null;
}

/**
 * Whether a board is on track for today's reward: the uptime threshold still reachable by midnight UTC, a
 * reward address, dmsg connected and a recent enough version. A visor that is offline right now is not
 * judged on dmsg (it cannot be connected while offline); it falls off track once the threshold is out of reach.
 */
export function eligibility(input: EligibilityInput): Eligibility {
  const elapsed = input.nowMs - dayStart(input.nowMs);
  const onlineMs = Math.min(Math.max(0, input.onlineMs), elapsed);
  const uptimeTodayPct = elapsed > 0 ? (onlineMs / elapsed) * 100 : input.online ? 100 : 0;
  const reachablePct = ((onlineMs + (DAY_MS - elapsed)) / DAY_MS) * 100;

  const reasons: string[] = [];
  if (reachablePct < input.thresholdPct) {
    reasons.push(`uptime cannot reach ${input.thresholdPct}% today (at most ${reachablePct.toFixed(1)}%)`);
  }
  if (!input.rewardAddress) reasons.push('no reward address');
  if (input.online && !input.dmsgConnected) reasons.push('not connected to dmsg');
  const floor = { version: input.minVersion, fromMs: input.minVersionFromMs ?? null };
  const v = judgeVersion(input.version, floor, input.nowMs);
  if (!v.earning && v.note) reasons.push(v.note);
  return {
    uptimeTodayPct,
    reachablePct,
    onTrack: reasons.length === 0,
    reasons,
    versionStanding: v.standing,
    warning: v.earning ? v.note : null,
  };
}

/** Whether a finished day met the uptime threshold. */
export function dayMetThreshold(onlineMs: number, thresholdPct: number): boolean {
  return (onlineMs / DAY_MS) * 100 >= thresholdPct;
}
