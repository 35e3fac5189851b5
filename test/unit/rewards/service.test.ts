import { describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../../drivers/logger.js';
import { rewardsJson } from '../../../firmware/rewards/output.js';
import {
  RewardsService,
  type BalanceSource,
  type HypervisorSource,
} from '../../../firmware/rewards/service.js';
import { EmulatedVisor, emulatedPk } from '../../../firmware/skywire/emulated-visor.js';
import type { Balance } from '../../../firmware/skywire/skycoin-client.js';
import { SourceError } from '../../../firmware/skywire/source-error.js';
import { parseVisorsSummary } from '../../../firmware/skywire/visor-summary.js';

const H = 3_600_000;
const ADDR = '2jBbGxZRGoQG1mqhPBnXnLTxK6oxsTf8os6';
const midnight = Date.UTC(2025, 2, 14);

function rig() {
  const clock = { now: midnight + 6 * H };
  const visors = [1, 2, 3, 4].map(
    (n) => new EmulatedVisor({ pk: emulatedPk(`b${n}`), localIp: `192.168.0.${n + 1}`, rewardAddress: ADDR }),
  );
  // Every visor has been up since the day before.
  for (const v of visors) v.start(midnight - H);
  let hvDown: SourceError | null = null;
  const hypervisor: HypervisorSource = {
    visorsSummary: () =>
      hvDown
        ? Promise.reject(hvDown)
        : // As the hypervisor does: a visor that is not connected is not listed.
          Promise.resolve(
            parseVisorsSummary(visors.filter((v) => v.online).map((v) => v.summary(clock.now))),
          ),
  };
  let balance: Balance = { droplets: 10_000_000, sky: 10, coinHours: 5 };
  const skycoin: BalanceSource = { balance: () => Promise.resolve(balance) };
  const logger = new MemoryLogger();
  const service = new RewardsService({
    boards: 4,
    boardAddress: (n) => `192.168.0.${n + 1}`,
    hypervisor,
    skycoin,
    minVersion: 'v1.3.26',
    thresholdPct: 75,
    pool: { poolSkyPerYear: 365_000, networkShares: 1000, maxSharesPerIp: 8 },
    summaryPollMs: 60_000,
    balancePollMs: 900_000,
    staleAfterMs: 300_000,
    now: () => clock.now,
    logger,
  });
  return {
    clock,
    visors,
    service,
    logger,
    setHypervisorDown: (e: SourceError | null) => (hvDown = e),
    setBalance: (b: Balance) => (balance = b),
  };
}

describe('rewards service', () => {
  it('shows every board on track with its uptime so far and the estimate for the box', async () => {
    const { service, clock, visors } = rig();
    await service.pollSummary();
    clock.now += 10_000;
    for (const v of visors) v.carry(12_500, 2_500);
    await service.pollSummary();
    await service.pollBalance();
    const json = rewardsJson(service.view());
    expect(json.boards[0]).toEqual({
      board: 1,
      pk: visors[0]!.pk,
      online: true,
      uptime_today_pct: 100,
      on_track: true,
      reasons: [],
      rx_bps: 10_000,
      tx_bps: 2_000,
      version: 'v1.3.28',
      version_standing: 'meets',
      warnings: [],
      reward_address: ADDR,
      reward_address_status: 'none',
      reward_address_via: null,
      reward_address_error: null,
    });
    expect(json.box).toEqual({
      sky_per_hour_est: round6(4 / 24),
      sky_per_day_est: 4,
      balance_sky: 10,
      coin_hours: 5,
      last_payout_sky: null,
      stale: false,
      min_version: 'v1.3.26',
      min_version_from: null,
      reward_address: null,
    });
  });

  it('takes a board off track once its visor has been offline too long to reach 75% by midnight', async () => {
    const { service, clock, visors } = rig();
    await service.pollSummary(); // 06:00, 6 h banked
    visors[2]!.stop(clock.now);
    clock.now = midnight + 12 * H;
    await service.pollSummary();
    let b3 = service.view().boards[2]!;
    expect(b3).toMatchObject({ online: false, onTrack: true, reasons: [] });
    expect(b3.uptimeTodayPct).toBe(50);
    // 6 h banked + 18 h left = 75%: on track until the last second of 06:00 to 24:00 is gone.
    clock.now = midnight + 12 * H + 1000;
    b3 = service.view().boards[2]!;
    expect(b3.onTrack).toBe(false);
    expect(b3.reasons).toEqual(['uptime cannot reach 75% today (at most 75.0%)']);
    expect(service.view().estimate.inputs.boardsOnTrack).toBe(3);
  });

  it('keeps the last figures, marks them stale with their age and logs once per outage', async () => {
    const { service, clock, logger, setHypervisorDown } = rig();
    await service.pollSummary();
    setHypervisorDown(
      new SourceError('unreachable', 'cannot reach http://192.168.0.2:8000/api/csrf: ECONNREFUSED'),
    );
    for (let i = 0; i < 5; i++) {
      clock.now += 60_000;
      await service.pollSummary();
    }
    const v = service.view();
    expect(v.boards.every((b) => b.online && b.onTrack)).toBe(true);
    expect(v.hypervisor).toEqual({
      ok: false,
      stale: true,
      ageS: 300,
      error: 'cannot reach http://192.168.0.2:8000/api/csrf: ECONNREFUSED',
    });
    expect(rewardsJson(v).box.stale).toBe(true);
    setHypervisorDown(null);
    clock.now += 60_000;
    await service.pollSummary();
    expect(service.view().stale).toBe(false);
    expect(logger.lines).toEqual([
      'warn: rewards: hypervisor: cannot reach http://192.168.0.2:8000/api/csrf: ECONNREFUSED; showing the last good figures as stale',
      'info: rewards: hypervisor answering again after 300 s',
    ]);
  });

  it('credits the outage afterwards from the visors own uptime', async () => {
    const { service, clock, setHypervisorDown } = rig();
    await service.pollSummary();
    setHypervisorDown(new SourceError('timeout', 'no answer'));
    clock.now += 2 * H;
    await service.pollSummary();
    setHypervisorDown(null);
    await service.pollSummary();
    expect(service.view().boards[0]!.uptimeTodayPct).toBe(100);
  });

  it('records a balance increase as a payout and learns the per-share payout from it', async () => {
    const { service, clock, setBalance, logger } = rig();
    await service.pollSummary();
    await service.pollBalance();
    clock.now += H;
    setBalance({ droplets: 16_000_000, sky: 16, coinHours: 9 });
    await service.pollBalance();
    const v = service.view();
    expect(v.lastPayout).toMatchObject({ sky: 6, shares: 4 });
    expect(v.estimate).toMatchObject({ source: 'payouts', perShareDay: 1.5, skyPerDay: 6 });
    expect(rewardsJson(v).box).toMatchObject({ balance_sky: 16, coin_hours: 9, last_payout_sky: 6 });
    expect(logger.lines).toEqual(['info: rewards: payout received: 6 SKY']);
  });

  it('names a board whose visor the hypervisor never reported', async () => {
    const { service, visors } = rig();
    visors.pop(); // the hypervisor reports the same array: board 4's visor is gone from it
    await service.pollSummary();
    expect(rewardsJson(service.view()).boards[3]).toEqual({
      board: 4,
      pk: null,
      online: false,
      uptime_today_pct: 0,
      on_track: false,
      reasons: ['no visor seen at 192.168.0.5'],
      rx_bps: null,
      tx_bps: null,
      version: null,
      version_standing: 'unknown',
      warnings: [],
      reward_address: null,
      reward_address_status: 'none',
      reward_address_via: null,
      reward_address_error: null,
    });
  });
});

function round6(x: number): number {
  return Number(x.toFixed(6));
}
