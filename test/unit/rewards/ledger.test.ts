import { describe, expect, it } from 'vitest';
import { closeDay, emptyLedger, recordBalance } from '../../../firmware/rewards/ledger.js';

const H = 3_600_000;
const t0 = Date.UTC(2025, 2, 14, 1);

describe('rewards ledger', () => {
  it('takes the first balance as the baseline, not as a payout', () => {
    const r = recordBalance(emptyLedger(), { droplets: 5_000_000, coinHours: 10 }, t0, 3);
    expect(r.payout).toBeUndefined();
    expect(r.ledger.balance).toEqual({ droplets: 5_000_000, coinHours: 10, atMs: t0 });
  });

  it('records a balance increase as a payout for the boards eligible on the last finished day', () => {
    let l = recordBalance(emptyLedger(), { droplets: 5_000_000, coinHours: 10 }, t0, 0).ledger;
    l = closeDay(l, 1, '2025-03-13', 20 * H, 75);
    l = closeDay(l, 2, '2025-03-13', 17 * H, 75);
    l = closeDay(l, 3, '2025-03-13', 24 * H, 75);
    const r = recordBalance(l, { droplets: 7_250_000, coinHours: 12 }, t0 + H, 8);
    expect(r.payout).toEqual({ atMs: t0 + H, sky: 2.25, droplets: 2_250_000, shares: 2 });
    expect(r.ledger.payouts).toHaveLength(1);
  });

  it('moves the baseline without a payout when the owner spends', () => {
    const l = recordBalance(emptyLedger(), { droplets: 5_000_000, coinHours: 10 }, t0, 0).ledger;
    const r = recordBalance(l, { droplets: 1_000_000, coinHours: 1 }, t0 + H, 4);
    expect(r.payout).toBeUndefined();
    expect(r.ledger.balance?.droplets).toBe(1_000_000);
  });
});
