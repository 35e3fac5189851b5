export interface PoolRules {
  poolSkyPerYear: number;
  /** Eligible shares across the whole network. */
  networkShares: number;
  maxSharesPerIp: number;
  /** A known per-share daily payout; used before any payout has been seen. */
  skyPerShareDay?: number;
}

export interface PayoutRecord {
  atMs: number;
  sky: number;
  /** The box's eligible shares for the day that payout paid for. */
  shares: number;
}

export type EstimateSource = 'payouts' | 'config' | 'pool';

/** An estimate, never a promise: the figure and every input it came from, for the console to show. */
export interface RewardsEstimate {
  estimate: true;
  skyPerDay: number;
  skyPerHour: number;
  perShareDay: number;
  source: EstimateSource;
  inputs: {
    boardsOnTrack: number;
    shares: number;
    maxSharesPerIp: number;
    poolSkyPerYear: number;
    networkShares: number;
    skyPerShareDay: number | null;
    payoutsUsed: number;
    lookbackDays: number;
  };
}

const DAY_MS = 86_400_000;

/**
 * Expected SKY per day and per hour for the box. Every board sits behind one router, so one public IP: at most
 * `maxSharesPerIp` shares. The per-share payout comes from the recent payouts when any paid for eligible
 * shares, else from the configured per-share figure, else from the pool divided by the network's shares.
 */
export function estimateRewards(input: {
  boardsOnTrack: number;
  rules: PoolRules;
  payouts: readonly PayoutRecord[];
  nowMs: number;
  lookbackDays?: number;
}): RewardsEstimate {
  const { rules, nowMs } = input;
  const lookbackDays = input.lookbackDays ?? 7;
  const shares = Math.min(Math.max(0, input.boardsOnTrack), rules.maxSharesPerIp);
  const recent = input.payouts.filter(
    (p) => p.shares > 0 && p.sky > 0 && p.atMs <= nowMs && nowMs - p.atMs <= lookbackDays * DAY_MS,
  );
  let perShareDay: number;
  let source: EstimateSource;
  if (recent.length > 0) {
    perShareDay = recent.reduce((s, p) => s + p.sky, 0) / recent.reduce((s, p) => s + p.shares, 0);
    source = 'payouts';
  } else if (rules.skyPerShareDay !== undefined) {
    perShareDay = rules.skyPerShareDay;
    source = 'config';
  } else {
    perShareDay = rules.poolSkyPerYear / 365 / rules.networkShares;
    source = 'pool';
  }
  const skyPerDay = perShareDay * shares;
  return {
    estimate: true,
    skyPerDay,
    skyPerHour: skyPerDay / 24,
    perShareDay,
    source,
    inputs: {
      boardsOnTrack: input.boardsOnTrack,
      shares,
      maxSharesPerIp: rules.maxSharesPerIp,
      poolSkyPerYear: rules.poolSkyPerYear,
      networkShares: rules.networkShares,
      skyPerShareDay: rules.skyPerShareDay ?? null,
      payoutsUsed: recent.length,
      lookbackDays,
    },
  };
}
