import type { DiskFigures } from '../protocol/figures.js';
import type { RewardsView } from '../rewards/service.js';
import type { BoardView, BoxView } from '../supervisor/view.js';
import { alertsFrom } from './alerts.js';
import type { BoardFigures, DiskVerdict, PanelInput, RewardFigures, UplinkState } from './panel-input.js';

/** The panel calls a disk "hot" from this temperature on, before SMART's own limits call it failing. */
const HOT_DISK_C = 55;

/** The figures a board's latest heartbeat carried (protocol/figures.ts); none while the board is not up. */
export function boardFigures(b: BoardView): BoardFigures | undefined {
  const t = b.telemetry;
  if (!t || b.status !== 'up') return undefined;
  const num = (v: number | null): number | undefined => v ?? undefined;
  return {
    role: b.role,
    cpuPct: num(t.cpu_pct),
    ramUsedBytes: num(t.mem_used_bytes),
    ramTotalBytes: num(t.mem_total_bytes),
    tempC: num(t.temp_c),
    netRxBytesPerS: num(t.net_rx_bps),
    netTxBytesPerS: num(t.net_tx_bps),
    uptimeS: num(t.uptime_s) ?? b.uptimeS,
    disk: worstDisk(t.disks),
    ...(t.visor ? { visor: { status: t.visor.status, sick: t.visor.sick } } : {}),
  };
}

const ORDER: DiskVerdict[] = ['failing', 'hot', 'warning', 'unknown', 'ok'];

function worstDisk(disks: readonly DiskFigures[]): BoardFigures['disk'] {
  if (disks.length === 0) return { verdict: 'none' };
  const looks = disks.map((d) => {
    const temp = d.temperature_c ?? undefined;
    let verdict: DiskVerdict = d.verdict;
    if (verdict !== 'failing' && temp !== undefined && temp >= HOT_DISK_C) verdict = 'hot';
    return { verdict, usedPct: d.used_pct ?? undefined, tempC: temp };
  });
  return looks.sort((a, b) => ORDER.indexOf(a.verdict) - ORDER.indexOf(b.verdict))[0];
}

/** The rewards service's view as the panel's reward figures; per-hour and per-day are always estimates. */
export function rewardFigures(view: RewardsView, thresholdPct: number): RewardFigures {
  return {
    skyPerHour: { value: view.estimate.skyPerHour, estimate: true },
    skyPerDay: { value: view.estimate.skyPerDay, estimate: true },
    walletSky: view.balance?.sky,
    thresholdPct,
    boards: view.boards.map((b) => ({
      board: b.board,
      uptimeTodayPct: b.uptimeTodayPct,
      onTrack: b.onTrack,
    })),
    ageS: view.stale ? Math.max(view.hypervisor.ageS ?? 0, view.skycoin.ageS ?? 0) : 0,
  };
}

/** Everything the panel shows, from the supervisor's view and, where running, the rewards service. */
export function panelInput(
  box: BoxView,
  rewards: RewardFigures | undefined,
  uplink: UplinkState,
  /** A box-wide update under way or stopped (update/rollout.ts rolloutPanelAlert): shown with the alerts. */
  update?: { short: string; text: string },
): PanelInput {
  const boards: Record<number, BoardFigures | undefined> = {};
  for (const b of box.boards) boards[b.board] = boardFigures(b);
  const alerts = alertsFrom(box, boards, uplink);
  if (update) alerts.push({ kind: 'update', ...update });
  return { box, boards, rewards, uplink, alerts };
}
