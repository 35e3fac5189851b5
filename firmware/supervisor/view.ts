import { BOARD_STATUSES, type BoardStatus, type RestartStep } from './board-state.js';
import type { HeartbeatFigures } from '../protocol/figures.js';

/** What surfaces (panel, terminal view, console) read of the supervisor: plain data, no methods. */
export interface BoardView {
  board: number;
  role: 'manager' | 'worker';
  status: BoardStatus;
  /** Seconds in the current status. */
  forS: number;
  uptimeS?: number;
  healthy?: boolean;
  /** The health checks its latest heartbeat said were failing (what keeps its watchdog unpetted). */
  failing?: string[];
  /** Restarts inside the cap's window. */
  restarts?: number;
  /** The escalation step under way while restarting. */
  step?: RestartStep;
  /** A refused or contested join for this slot, shown on the panel for a while (supervisor/join-window.ts). */
  joinAlert?: string;
  /** The figures of its latest heartbeat. */
  telemetry?: HeartbeatFigures;
}

export interface BoxView {
  /** Wall-clock ms when the view was taken. */
  at: number;
  boards: BoardView[];
}

export function countByStatus(view: BoxView): Record<BoardStatus, number> {
  const counts = Object.fromEntries(BOARD_STATUSES.map((s) => [s, 0])) as Record<BoardStatus, number>;
  for (const b of view.boards) counts[b.status]++;
  return counts;
}
