import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LedgerStore } from '../../../firmware/rewards/ledger-store.js';
import { RewardsService } from '../../../firmware/rewards/service.js';
import { EmulatedVisor, emulatedPk } from '../../../firmware/skywire/emulated-visor.js';
import { parseVisorsSummary } from '../../../firmware/skywire/visor-summary.js';

const H = 3_600_000;
const midnight = Date.UTC(2025, 2, 14);

describe('rewards service across a manager restart', () => {
  it('keeps the balance, the last payout and the uptime banked today', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'rewards-')), 'rewards-ledger.json');
    const clock = { now: midnight + 4 * H };
    const visor = new EmulatedVisor({
      pk: emulatedPk('b1'),
      localIp: '192.168.0.2',
      rewardAddress: '2jBbGxZRGoQG1mqhPBnXnLTxK6oxsTf8os6',
    });
    visor.start(midnight);
    let droplets = 1_000_000;
    const make = () =>
      new RewardsService({
        boards: 4,
        boardAddress: (n) => `192.168.0.${n + 1}`,
        hypervisor: {
          visorsSummary: async () => parseVisorsSummary(visor.online ? [visor.summary(clock.now)] : []),
        },
        skycoin: { balance: async () => ({ droplets, sky: droplets / 1e6, coinHours: 3 }) },
        store: new LedgerStore(path, () => clock.now),
        minVersion: 'v1.3.26',
        thresholdPct: 75,
        pool: { poolSkyPerYear: 365_000, networkShares: 1000, maxSharesPerIp: 8 },
        summaryPollMs: 60_000,
        balancePollMs: 900_000,
        staleAfterMs: 300_000,
        now: () => clock.now,
      });
    const first = make();
    await first.load();
    await first.pollSummary();
    await first.pollBalance();
    droplets = 3_500_000;
    await first.pollBalance();
    await first.stop();

    // The manager restarts at 05:00; the hypervisor is not answering yet.
    clock.now = midnight + 5 * H;
    const second = make();
    await second.load();
    const v = second.view();
    expect(v.alerts).toEqual([]);
    expect(v.balance).toMatchObject({ sky: 3.5, coinHours: 3 });
    expect(v.lastPayout).toMatchObject({ sky: 2.5 });
    expect(v.boards[0]!.uptimeTodayPct).toBe(80); // 4 h banked of 5 h so far
    // Once the hypervisor answers, the hour the manager was away is credited from the visor's own uptime.
    await second.pollSummary();
    expect(second.view().boards[0]!.uptimeTodayPct).toBe(100);
  });
});
