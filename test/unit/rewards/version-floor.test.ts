import { describe, expect, it } from 'vitest';
import { parseUtcDate } from '../../../firmware/config/utc-date.js';
import { eligibility } from '../../../firmware/rewards/eligibility.js';
import { judgeVersion } from '../../../firmware/rewards/version-floor.js';

const DAY = 86_400_000;
const from = parseUtcDate('2026-05-22')!;
const floor = { version: 'v1.3.50', fromMs: from };

describe('the version floor and its date', () => {
  it('lets a visor below a coming floor earn until that day, saying how long is left', () => {
    expect(judgeVersion('v1.3.28', floor, from - 3 * DAY + 1)).toEqual({
      standing: 'below-soon',
      earning: true,
      note: 'version v1.3.28 below v1.3.50, required from 2026-05-22 (in 3 days)',
    });
    expect(judgeVersion('v1.3.28', floor, from - 1).note).toContain('(in 1 day)');
  });

  it('marks a visor below the floor as not earning from the first millisecond of its day', () => {
    expect(judgeVersion('v1.3.28', floor, from)).toEqual({
      standing: 'below',
      earning: false,
      note: 'version v1.3.28 below v1.3.50, required since 2026-05-22',
    });
    expect(judgeVersion('v1.3.49', floor, from + 40 * DAY).earning).toBe(false);
  });

  it('keeps a visor at or above the floor earning, before and after its date', () => {
    for (const now of [from - DAY, from, from + DAY]) {
      expect(judgeVersion('v1.3.50', floor, now)).toEqual({ standing: 'meets', earning: true, note: null });
      expect(judgeVersion('1.3.53', floor, now).standing).toBe('meets');
    }
  });

  it('applies a floor without a date at once', () => {
    expect(judgeVersion('v1.3.25', { version: 'v1.3.26', fromMs: null }, 0)).toEqual({
      standing: 'below',
      earning: false,
      note: 'version v1.3.25 below v1.3.26',
    });
  });

  it('counts an unknown or unreadable version as not earning', () => {
    expect(judgeVersion(null, floor, from).standing).toBe('unknown');
    expect(judgeVersion('latest', floor, from - DAY)).toMatchObject({
      standing: 'unreadable',
      earning: false,
    });
  });

  it('takes a board off track on the floor day and not before, the warning turning into a reason', () => {
    const input = {
      onlineMs: DAY, // online all day so far (clamped to the time elapsed)
      online: true,
      rewardAddress: '2jBbGxZRGoQG1mqhPBnXnLTxK6oxsTf8os6',
      dmsgConnected: true,
      version: 'v1.3.28',
      minVersion: 'v1.3.50',
      minVersionFromMs: from,
      thresholdPct: 75,
    };
    const before = eligibility({ ...input, nowMs: from - 1 });
    expect(before).toMatchObject({ onTrack: true, reasons: [], versionStanding: 'below-soon' });
    expect(before.warning).toContain('required from 2026-05-22');
    const on = eligibility({ ...input, nowMs: from });
    expect(on).toMatchObject({ onTrack: false, versionStanding: 'below', warning: null });
    expect(on.reasons).toEqual(['version v1.3.28 below v1.3.50, required since 2026-05-22']);
  });
});
