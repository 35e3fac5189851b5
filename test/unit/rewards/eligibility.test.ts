import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../../firmware/rewards/day.js';
import {
  dayMetThreshold,
  eligibility,
  type EligibilityInput,
} from '../../../firmware/rewards/eligibility.js';

const H = 3_600_000;
const midnight = Date.UTC(2025, 2, 14);

function board(over: Partial<EligibilityInput>): EligibilityInput {
  return {
    nowMs: midnight + 12 * H,
    onlineMs: 12 * H,
    online: true,
    rewardAddress: '2jBbGxZRGoQG1mqhPBnXnLTxK6oxsTf8os6',
    dmsgConnected: true,
    version: 'v1.3.29',
    minVersion: 'v1.3.26',
    thresholdPct: 75,
    ...over,
  };
}

describe('daily eligibility', () => {
  it('keeps a board on track that has been online all day', () => {
    const e = eligibility(board({}));
    expect(e).toEqual({
      uptimeTodayPct: 100,
      reachablePct: 100,
      onTrack: true,
      reasons: [],
      versionStanding: 'meets',
      warning: null,
    });
  });

  it('keeps a board on track that can still reach 75% by midnight exactly', () => {
    // 18:00 with 12 h online: 12 + 6 remaining = 18 h = 75.0% of the day.
    const e = eligibility(board({ nowMs: midnight + 18 * H, onlineMs: 12 * H }));
    expect(e.reachablePct).toBe(75);
    expect(e.onTrack).toBe(true);
    expect(e.uptimeTodayPct).toBeCloseTo(66.667, 3);
  });

  it('takes a board off track one second after 75% went out of reach', () => {
    const e = eligibility(board({ nowMs: midnight + 18 * H + 1000, onlineMs: 12 * H }));
    expect(e.onTrack).toBe(false);
    expect(e.reasons).toEqual(['uptime cannot reach 75% today (at most 75.0%)']);
    expect(e.reachablePct).toBeLessThan(75);
  });

  it('keeps a board on track late in the day once it has banked 75%, even while offline', () => {
    const e = eligibility(board({ nowMs: midnight + 23.9 * H, onlineMs: 18 * H, online: false }));
    expect(e.onTrack).toBe(true);
    expect(e.reasons).toEqual([]);
  });

  it('takes a board off track late in the day when it is just under 75% with no time left', () => {
    const e = eligibility(board({ nowMs: midnight + DAY_MS - 60_000, onlineMs: 18 * H - 120_000 }));
    expect(e.onTrack).toBe(false);
    expect(e.reasons[0]).toMatch(/^uptime cannot reach 75% today \(at most 74\.9%\)$/);
  });

  it('gives a board that came up just after midnight the whole day to reach 75%', () => {
    const e = eligibility(board({ nowMs: midnight + 60_000, onlineMs: 0, online: false }));
    expect(e.onTrack).toBe(true);
    expect(e.uptimeTodayPct).toBe(0);
    expect(e.reachablePct).toBeCloseTo(99.93, 2);
  });

  it('names every reason a board is not on track', () => {
    const e = eligibility(board({ rewardAddress: '', dmsgConnected: false, version: 'v1.3.20' }));
    expect(e.onTrack).toBe(false);
    expect(e.reasons).toEqual([
      'no reward address',
      'not connected to dmsg',
      'version v1.3.20 below v1.3.26',
    ]);
  });

  it('does not judge an offline visor on dmsg, only on what it can still reach', () => {
    const e = eligibility(board({ online: false, dmsgConnected: false }));
    expect(e.onTrack).toBe(true);
  });

  it('refuses an unknown or unreadable version', () => {
    expect(eligibility(board({ version: null })).reasons).toEqual(['version unknown']);
    expect(eligibility(board({ version: 'latest' })).reasons).toEqual(['version latest unreadable']);
  });

  it('judges a finished day against the threshold', () => {
    expect(dayMetThreshold(18 * H, 75)).toBe(true);
    expect(dayMetThreshold(18 * H - 1, 75)).toBe(false);
  });
});
