import type { BoardStatus } from '../supervisor/board-state.js';
import type { BoardView } from '../supervisor/view.js';
import { alertsFrom } from './alerts.js';
import type { BoardFigures, PanelInput, UplinkState } from './panel-input.js';

const GB = 1e9;

/**
 * A fixed, plausible box for golden pictures and the README: eight boards, one booting, one failed, one
 * quarantined, one switched off; one disk failing; one up board's visor down, waiting to be restarted; rewards
 * estimated. `healthy` gives the same box with every board up, every visor running and no alerts.
 */
export function sampleInput(kind: 'mixed' | 'healthy' = 'mixed', uplink: UplinkState = 'up'): PanelInput {
  const statuses: string[] =
    kind === 'healthy'
      ? ['up', 'up', 'up', 'up', 'up', 'up', 'up', 'up']
      : ['up', 'up', 'booting', 'up', 'failed', 'up', 'quarantined', 'off'];
  const boards: BoardView[] = statuses.map((status, i) => ({
    board: i + 1,
    role: i === 0 ? 'manager' : 'worker',
    // Statuses the supervisor is adding ('failed', 'quarantined') are plain strings to the panel.
    status: status as BoardStatus,
    forS: 120 + i * 7,
    uptimeS: status === 'up' ? 3 * 86_400 + 4 * 3600 + i * 611 : undefined,
  }));
  const figures: Record<number, BoardFigures> = {};
  for (const b of boards) {
    if (b.status !== 'up') continue;
    const i = b.board;
    figures[i] = {
      role: b.role,
      cpuPct: [34, 12, 0, 27, 0, 18, 0, 0][i - 1],
      ramUsedBytes: [1.1, 0.62, 0, 0.8, 0, 0.71, 0, 0][i - 1]! * GB,
      ramTotalBytes: 2 * GB,
      tempC: [52, 47, 0, 49, 0, 45, 0, 0][i - 1],
      netRxBytesPerS: [412_000, 96_000, 0, 128_000, 0, 64_000, 0, 0][i - 1],
      netTxBytesPerS: [238_000, 55_000, 0, 71_000, 0, 40_000, 0, 0][i - 1],
      disk:
        i <= 4
          ? { verdict: kind === 'mixed' && i === 4 ? 'failing' : 'ok', usedPct: 20 + i * 9 }
          : { verdict: 'none' },
      uptimeS: b.uptimeS,
      visor: { status: kind === 'mixed' && i === 6 ? 'waiting' : 'running', sick: false },
    };
  }
  const input: PanelInput = {
    box: { at: 1_700_000_000_000, boards },
    boards: figures,
    rewards: {
      skyPerHour: { value: 0.42, estimate: true },
      skyPerDay: { value: 10.1, estimate: true },
      walletSky: 1234.5,
      thresholdPct: 75,
      ageS: 40,
      boards: boards.map((b) => ({
        board: b.board,
        uptimeTodayPct: b.status === 'up' ? 100 : [100, 100, 62, 100, 40, 100, 20, 0][b.board - 1]!,
        onTrack: b.status === 'up' || b.board === 3,
      })),
    },
    uplink,
    alerts: [],
  };
  input.alerts = alertsFrom(input.box, input.boards, uplink);
  return input;
}
