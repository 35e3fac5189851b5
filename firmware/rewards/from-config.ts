import { join } from 'node:path';
import { silentLogger, type Logger } from '../../drivers/logger.js';
import type { Config } from '../config/schema.js';
import { LedgerStore } from './ledger-store.js';
import { parseUtcDate } from '../config/utc-date.js';
import { RewardAddressStore } from './reward-address.js';
import { RewardsService, type RewardsServiceOptions } from './service.js';

/** Where the payout and uptime history lives: the configured path, or the supervisor's state directory. */
export function ledgerPath(config: Config): string {
  return config.rewards.ledger_path ?? join(config.supervisor.state_dir, 'rewards-ledger.json');
}

/** Where the box's reward address is kept: the supervisor's state directory, on the manager's data partition. */
export function rewardAddressPath(config: Config): string {
  return join(config.supervisor.state_dir, 'reward-address.json');
}

/** Board n's visor address: configured per board, or the first board's address plus n - 1. */
export function visorAddress(config: Config, board: number): string {
  const configured = config.skywire.board_addresses[board - 1];
  if (configured) return configured;
  const parts = config.network.first_board_address.split('.').map(Number);
  parts[3] = parts[3]! + board - 1;
  return parts.join('.');
}

/** The rewards service with the pool rules, thresholds and periods of the config. */
export function rewardsServiceFromConfig(
  config: Config,
  parts: Pick<RewardsServiceOptions, 'hypervisor' | 'skycoin'> &
    Partial<Pick<RewardsServiceOptions, 'now' | 'summaryPollMs' | 'balancePollMs' | 'onBoardAddress'>> & {
      ledger?: string | null;
      logger?: Logger;
    },
): RewardsService {
  const r = config.rewards;
  const ledger = parts.ledger === undefined ? ledgerPath(config) : parts.ledger;
  return new RewardsService({
    boards: config.box.boards,
    boardAddress: (b) => visorAddress(config, b),
    hypervisor: parts.hypervisor,
    skycoin: parts.skycoin,
    ...(ledger
      ? {
          store: new LedgerStore(ledger, parts.now),
          addressStore: new RewardAddressStore(rewardAddressPath(config)),
        }
      : {}),
    minVersion: r.min_version,
    minVersionFromMs: r.min_version_from ? parseUtcDate(r.min_version_from) : null,
    thresholdPct: r.uptime_threshold_pct,
    pool: {
      poolSkyPerYear: r.pool_sky_per_year,
      networkShares: r.network_shares,
      maxSharesPerIp: r.max_shares_per_ip,
      ...(r.sky_per_share_day !== undefined ? { skyPerShareDay: r.sky_per_share_day } : {}),
    },
    summaryPollMs: parts.summaryPollMs ?? r.summary_poll_s * 1000,
    balancePollMs: parts.balancePollMs ?? r.balance_poll_s * 1000,
    staleAfterMs: r.stale_after_s * 1000,
    ...(parts.now ? { now: parts.now } : {}),
    ...(parts.onBoardAddress ? { onBoardAddress: parts.onBoardAddress } : {}),
    logger: parts.logger ?? silentLogger,
  });
}
