import type { BoardVisorStatus } from '../protocol/figures.js';
import type { BoxView } from '../supervisor/view.js';
import type { UplinkState } from '../telemetry/uplink.js';
import { alertsFrom } from './alerts.js';

/** A figure that may be an estimate (a per-hour share of a daily payout): the panel marks estimates as such. */
export interface Estimate {
  value: number;
  estimate: boolean;
}

/** A disk's health as the disk watcher judges it; `none` for a board without a disk. */
export type DiskVerdict = 'ok' | 'warning' | 'failing' | 'hot' | 'none' | 'unknown';

/** One board's figures, as the telemetry service reports them. Missing figures are shown as `--`. */
export interface BoardFigures {
  role: 'manager' | 'worker';
  cpuPct?: number;
  ramUsedBytes?: number;
  ramTotalBytes?: number;
  tempC?: number;
  netRxBytesPerS?: number;
  netTxBytesPerS?: number;
  disk?: { verdict: DiskVerdict; usedPct?: number; tempC?: number };
  uptimeS?: number;
  /** The board's Skywire visor as its heartbeat said; absent on a board without Skywire. */
  visor?: BoardVisor;
}

/** What the panel shows of a board's visor: its service's state, and whether it cannot keep the visor up. */
export interface BoardVisor {
  status: BoardVisorStatus;
  sick: boolean;
}

export interface BoardRewardFigures {
  board: number;
  /** Today's uptime so far, 0..100. */
  uptimeTodayPct: number;
  /** Whether the board can still end the day above the eligibility threshold. */
  onTrack: boolean;
}

/** The box's reward figures, as the rewards service reports them. */
export interface RewardFigures {
  skyPerHour?: Estimate;
  skyPerDay?: Estimate;
  /** Wallet balance in SKY, where the reward address's balance is known. */
  walletSky?: number;
  /** Eligibility threshold for today's uptime, 0..100 (75 under the current rules). */
  thresholdPct: number;
  boards: BoardRewardFigures[];
  /** How old these figures are, in seconds; the panel says so when they are stale. */
  ageS: number;
}

export type { UplinkState };

export type PanelAlertKind =
  | 'board-failed'
  | 'board-quarantined'
  | 'board-join'
  | 'disk-failing'
  | 'disk-hot'
  | 'visor-sick'
  | 'uplink-down'
  | 'update';

export interface PanelAlert {
  kind: PanelAlertKind;
  board?: number;
  /** At most 10 characters, drawn large: `B3 FAILED`. */
  short: string;
  /** At most 21 characters, drawn small: `board 3 failed`. */
  text: string;
}

/**
 * Everything the front panel shows, as plain data. The supervisor's view gives the boards' states; the
 * telemetry and rewards services (or the simulator's stand-ins) give the figures. Pages are pure functions of
 * this, so a test or the README can draw any page from a literal.
 */
export interface PanelInput {
  box: BoxView;
  /** Figures per board number; a board without figures shows its state only. */
  boards: Record<number, BoardFigures | undefined>;
  rewards?: RewardFigures;
  uplink: UplinkState;
  alerts: PanelAlert[];
}

/**
 * A PanelInput from the supervisor's view alone: boards' states, no figures, no rewards, uplink unknown. For a
 * box whose telemetry and rewards sources are not wired in yet; the pages show `--` where a figure is missing.
 */
export function panelInputFromView(box: BoxView): PanelInput {
  return { box, boards: {}, uplink: 'unknown', alerts: alertsFrom(box, {}, 'unknown') };
}
