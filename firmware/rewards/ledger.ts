import { z } from 'zod';
import { dayMetThreshold } from './eligibility.js';
import type { PayoutRecord } from './estimate.js';
import type { BoardUptime } from './uptime.js';

export const LEDGER_VERSION = 1;
const KEEP_DAYS = 400;
const KEEP_PAYOUTS = 500;

const count = z.number().nonnegative();
const dayKey = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const boardKey = z.string().regex(/^\d+$/);

export const ledgerSchema = z.strictObject({
  version: z.literal(LEDGER_VERSION),
  /** The last balance seen: the baseline a payout is measured from. */
  balance: z.strictObject({ droplets: count, coinHours: count, atMs: count }).nullable(),
  payouts: z.array(z.strictObject({ atMs: count, sky: count, droplets: count, shares: count })),
  /** Finished days: online milliseconds per board. */
  days: z.record(dayKey, z.record(boardKey, count)),
  /** Boards that met the uptime threshold on each finished day: the shares that day's payout pays for. */
  eligibleByDay: z.record(dayKey, count),
  /** Today's running uptime per board, so a manager restart loses nothing. */
  today: z.record(
    boardKey,
    z.strictObject({
      day: dayKey,
      onlineMs: count,
      lastMs: count.optional(),
      lastUptimeS: count.optional(),
    }),
  ),
});

/** The rewards history kept on the manager: payouts, daily uptime per board, the balance baseline. */
export type LedgerData = z.infer<typeof ledgerSchema>;

export function emptyLedger(): LedgerData {
  return { version: LEDGER_VERSION, balance: null, payouts: [], days: {}, eligibleByDay: {}, today: {} };
}

export interface Payout {
  atMs: number;
  sky: number;
  droplets: number;
  shares: number;
}

/**
 * Records a balance read. An increase over the baseline is a payout, paid for the shares of the last finished
 * day (or `fallbackShares` when no day has been finished yet); a decrease is the owner spending, which only
 * moves the baseline.
 */
export function recordBalance(
  ledger: LedgerData,
  balance: { droplets: number; coinHours: number },
  nowMs: number,
  fallbackShares: number,
): { ledger: LedgerData; payout?: Payout } {
  const next: LedgerData = {
    ...ledger,
    balance: { droplets: balance.droplets, coinHours: balance.coinHours, atMs: nowMs },
  };
  const before = ledger.balance;
  if (!before || balance.droplets <= before.droplets) return { ledger: next };
  const droplets = balance.droplets - before.droplets;
  const lastDay = Object.keys(ledger.eligibleByDay).sort().at(-1);
  const shares = lastDay !== undefined ? ledger.eligibleByDay[lastDay]! : fallbackShares;
  const payout: Payout = { atMs: nowMs, sky: droplets / 1e6, droplets, shares };
  next.payouts = [...ledger.payouts, payout].slice(-KEEP_PAYOUTS);
  return { ledger: next, payout };
}

/** Stores a finished day's online time for a board and recounts that day's eligible boards. */
export function closeDay(
  ledger: LedgerData,
  board: number,
  day: string,
  onlineMs: number,
  thresholdPct: number,
): LedgerData {
  const boards = { ...(ledger.days[day] ?? {}), [String(board)]: onlineMs };
  const days = { ...ledger.days, [day]: boards };
  const eligible = Object.values(boards).filter((ms) => dayMetThreshold(ms, thresholdPct)).length;
  const eligibleByDay = { ...ledger.eligibleByDay, [day]: eligible };
  const keep = Object.keys(days).sort().slice(-KEEP_DAYS);
  return {
    ...ledger,
    days: Object.fromEntries(keep.map((d) => [d, days[d]!])),
    eligibleByDay: Object.fromEntries(
      keep.filter((d) => d in eligibleByDay).map((d) => [d, eligibleByDay[d]!]),
    ),
  };
}

export function setToday(ledger: LedgerData, board: number, uptime: BoardUptime): LedgerData {
  return { ...ledger, today: { ...ledger.today, [String(board)]: uptime } };
}

export function payoutRecords(ledger: LedgerData): PayoutRecord[] {
  return ledger.payouts.map((p) => ({ atMs: p.atMs, sky: p.sky, shares: p.shares }));
}
