import type { BoardStatus } from './board-state.js';

/** What surfaces (panel, terminal view, console) read of the supervisor: plain data, no methods. */
export interface BoardView {
  board: number;
  role: 'manager' | 'worker';
  status: BoardStatus;
  /** Seconds in the current status. */
  forS: number;
  uptimeS?: number;
  healthy?: boolean;
  telemetry?: Record<string, unknown>;
}

export interface BoxView {
  /** Wall-clock ms when the view was taken. */
  at: number;
  boards: BoardView[];
}

export function countByStatus(view: BoxView): Record<BoardStatus, number> {
  const counts: Record<BoardStatus, number> = { off: 0, booting: 0, up: 0, 'no-contact': 0 };
  for (const b of view.boards) counts[b.status]++;
  return counts;
}
