import { alertsFrom } from '../../firmware/panel/alerts.js';
import type {
  BoardFigures,
  PanelInput,
  RewardFigures,
  UplinkState,
} from '../../firmware/panel/panel-input.js';
import type { BoxView } from '../../firmware/supervisor/view.js';
import type { EmulatedBoardState } from '../../firmware/sim/emulated-board.js';

const GB = 1e9;
/** Boards 1 to 4 carry a SATA disk, as on the shipped box. */
const DISK_BOARDS = 4;
/** Under the current rules: at least 75 % uptime in a day to share in that day's rewards. */
const THRESHOLD_PCT = 75;
/** A plausible expected daily share per eligible visor, in SKY; the per-hour figure is a 24th of it. */
const SKY_PER_BOARD_DAY = 1.3;

/**
 * Panel states for the benchmark: plausible figures, computed from what the
 * emulated boards are doing (a board that is off has none), handed to the panel through the same PanelInput
 * that the real services will fill. Smooth functions of time, so digits change the way real ones do.
 */
export class SimPanelFigures {
  private readonly runningMs = new Map<number, number>();
  private lastAt: number;
  uplink: UplinkState = 'up';

  constructor(private readonly startedAt: number) {
    this.lastAt = startedAt;
  }

  input(box: BoxView, emulated: (board: number) => EmulatedBoardState, now: number): PanelInput {
    const dt = Math.max(0, now - this.lastAt);
    this.lastAt = now;
    const boards: Record<number, BoardFigures> = {};
    for (const b of box.boards) {
      const running = emulated(b.board) === 'running';
      if (running) this.runningMs.set(b.board, (this.runningMs.get(b.board) ?? 0) + dt);
      if (running && b.status === 'up') boards[b.board] = simBoardFigures(b.board, b.role, b.uptimeS, now);
    }
    const rewards = this.rewards(box, now);
    return { box, boards, rewards, uplink: this.uplink, alerts: alertsFrom(box, boards, this.uplink) };
  }

  private rewards(box: BoxView, now: number): RewardFigures {
    const elapsed = Math.max(1, now - this.startedAt);
    const perBoard = box.boards.map((b) => {
      const pct = Math.min(100, (100 * (this.runningMs.get(b.board) ?? 0)) / elapsed);
      return { board: b.board, uptimeTodayPct: pct, onTrack: pct >= THRESHOLD_PCT };
    });
    const eligible = perBoard.filter((b) => b.onTrack).length;
    const perDay = eligible * SKY_PER_BOARD_DAY;
    return {
      skyPerHour: { value: perDay / 24, estimate: true },
      skyPerDay: { value: perDay, estimate: true },
      walletSky: 812.4 + (perDay * (now - this.startedAt)) / 86_400_000,
      thresholdPct: THRESHOLD_PCT,
      boards: perBoard,
      ageS: 0,
    };
  }
}

/** One board's figures at time `now`: each a slow wave around a level that depends on the board. */
export function simBoardFigures(
  board: number,
  role: 'manager' | 'worker',
  uptimeS: number | undefined,
  now: number,
): BoardFigures {
  const t = now / 1000;
  const wave = (period: number, phase: number) => Math.sin((2 * Math.PI * t) / period + phase + board);
  const cpu = Math.max(1, Math.min(99, (role === 'manager' ? 30 : 14) + 9 * wave(47, 0) + 4 * wave(13, 1)));
  const rx = 90_000 + 60_000 * wave(29, 2) + 30_000 * wave(7, 3) + (role === 'manager' ? 250_000 : 0);
  return {
    role,
    cpuPct: cpu,
    ramUsedBytes: (0.55 + 0.05 * board + 0.04 * wave(120, 4)) * GB,
    ramTotalBytes: 2 * GB,
    tempC: 41 + cpu / 4 + 1.5 * wave(90, 5),
    netRxBytesPerS: Math.max(0, rx),
    netTxBytesPerS: Math.max(0, rx * 0.55 + 10_000 * wave(11, 6)),
    disk:
      board <= DISK_BOARDS
        ? { verdict: 'ok', usedPct: 18 + 7 * board, tempC: 36 + board }
        : { verdict: 'none' },
    uptimeS,
  };
}
