import type { SupervisorEvent } from './event-log.js';
import type { BoxView } from './view.js';

/** What an owner can ask of a board from the console, the CLI or the control socket. */
export type BoardOperation = 'on' | 'off' | 'reset' | 'cycle' | 'release';

export interface OperationResult {
  ok: boolean;
  /** One line for the owner: what was done, or why not. */
  message: string;
}

/**
 * The supervisor as the surfaces (console, CLI through the control socket, metrics) see it. The surfaces
 * depend on this interface only, so they are tested against a fake and run against the real supervisor.
 */
export interface SupervisorOperator {
  view(): BoxView;
  /** Performs an operation on board n; `by` names who asked (`console:ttyS0`, `cli:uid=0`), for the event log. */
  operate(board: number, operation: BoardOperation, by: string): Promise<OperationResult>;
  /** Recent events, oldest first. */
  recentEvents(filter?: { board?: number; limit?: number }): SupervisorEvent[];
  /** Calls `listener` for every new event; returns the unsubscribe function. */
  onEvent(listener: (event: SupervisorEvent) => void): () => void;
}
