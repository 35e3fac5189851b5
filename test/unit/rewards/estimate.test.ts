import { describe, expect, it } from 'vitest';
import { estimateRewards, type PoolRules } from '../../../firmware/rewards/estimate.js';

const rules: PoolRules = { poolSkyPerYear: 365_000, networkShares: 1000, maxSharesPerIp: 8 };
const now = Date.UTC(2025, 2, 14, 12);
const DAY = 86_400_000;

describe('rewards estimate', () => {
  it('divides the pool among the network shares when nothing else is known', () => {
    const e = estimateRewards({ boardsOnTrack: 4, rules, payouts: [], nowMs: now });
    expect(e).toMatchObject({ estimate: true, source: 'pool', perShareDay: 1, skyPerDay: 4 });
    expect(e.skyPerHour).toBeCloseTo(4 / 24, 10);
  });

  it('caps the box at 8 shares because every board shares one public IP', () => {
    const e = estimateRewards({ boardsOnTrack: 12, rules, payouts: [], nowMs: now });
    expect(e.inputs.shares).toBe(8);
    expect(e.skyPerDay).toBe(8);
  });

  it('uses the configured per-share payout before any payout arrived', () => {
    const e = estimateRewards({
      boardsOnTrack: 2,
      rules: { ...rules, skyPerShareDay: 0.5 },
      payouts: [],
      nowMs: now,
    });
    expect(e).toMatchObject({ source: 'config', perShareDay: 0.5, skyPerDay: 1 });
  });

  it('learns the per-share payout from the recent payouts and ignores old ones', () => {
    const payouts = [
      { atMs: now - 20 * DAY, sky: 100, shares: 1 },
      { atMs: now - 2 * DAY, sky: 6, shares: 4 },
      { atMs: now - DAY, sky: 3, shares: 2 },
    ];
    const e = estimateRewards({
      boardsOnTrack: 8,
      rules: { ...rules, skyPerShareDay: 9 },
      payouts,
      nowMs: now,
    });
    expect(e).toMatchObject({ source: 'payouts', perShareDay: 1.5, skyPerDay: 12 });
    expect(e.inputs.payoutsUsed).toBe(2);
  });

  it('expects nothing when no board is on track', () => {
    expect(estimateRewards({ boardsOnTrack: 0, rules, payouts: [], nowMs: now }).skyPerDay).toBe(0);
  });
});
