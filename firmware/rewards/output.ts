import { utcDateText } from '../config/utc-date.js';
import type { AddressStanding, AddressWay } from './reward-address.js';
import type { RewardsView } from './service.js';
import type { FloorStanding } from './version-floor.js';

/** One board as `skyminer rewards --json` prints it. */
export interface BoardRewardsJson {
  board: number;
  pk: string | null;
  online: boolean;
  uptime_today_pct: number;
  on_track: boolean;
  reasons: string[];
  /** Bits per second over the transports; null when no sound rate is known yet. */
  rx_bps: number | null;
  tx_bps: number | null;
  /** The version the visor last reported, and how it stands against the network's floor. */
  version: string | null;
  version_standing: FloorStanding;
  /** What will stop the board earning on a coming date (a floor its version is below). */
  warnings: string[];
  /** The address the visor reports, and whether the box's address took there (reward-address.ts). */
  reward_address: string | null;
  reward_address_status: AddressStanding;
  /** Where it is set, which way: through the hypervisor, or on the board itself (its visor's reward.txt). */
  reward_address_via: AddressWay | null;
  reward_address_error: string | null;
}

/** The box as `skyminer rewards --json` prints it; the *_est figures are estimates. */
export interface BoxRewardsJson {
  sky_per_hour_est: number;
  sky_per_day_est: number;
  balance_sky: number | null;
  coin_hours: number | null;
  last_payout_sky: number | null;
  stale: boolean;
  /** The network's minimum version for rewards, and the UTC day it applies from (null: in force). */
  min_version: string;
  min_version_from: string | null;
  /** The box's reward address as the owner chose it (`rewards address`); null before one is chosen. */
  reward_address: string | null;
}

export interface RewardsJson {
  boards: BoardRewardsJson[];
  box: BoxRewardsJson;
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/** The rewards view as the JSON of `skyminer rewards --json`, exactly these keys. */
export function rewardsJson(view: RewardsView): RewardsJson {
  return {
    boards: view.boards.map((b) => ({
      board: b.board,
      pk: b.pk,
      online: b.online,
      uptime_today_pct: round(b.uptimeTodayPct, 1),
      on_track: b.onTrack,
      reasons: [...b.reasons],
      rx_bps: b.rxBps === null ? null : Math.round(b.rxBps),
      tx_bps: b.txBps === null ? null : Math.round(b.txBps),
      version: b.version,
      version_standing: b.versionStanding,
      warnings: [...b.warnings],
      reward_address: b.rewardAddress,
      reward_address_status: b.addressStanding,
      reward_address_via: b.addressWay,
      reward_address_error: b.addressError,
    })),
    box: {
      sky_per_hour_est: round(view.estimate.skyPerHour, 6),
      sky_per_day_est: round(view.estimate.skyPerDay, 6),
      balance_sky: view.balance ? view.balance.sky : null,
      coin_hours: view.balance ? view.balance.coinHours : null,
      last_payout_sky: view.lastPayout ? view.lastPayout.sky : null,
      stale: view.stale,
      min_version: view.floor.version,
      min_version_from: view.floor.fromMs === null ? null : utcDateText(view.floor.fromMs),
      reward_address: view.rewardAddress,
    },
  };
}
