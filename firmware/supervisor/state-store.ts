import { z } from 'zod';
import { loadJsonFile, writeFileAtomic } from '../lib/files.js';
import type { BoardState } from './board-state.js';

/**
 * What the supervisor keeps across its own restarts: only what the hardware cannot tell it again. Line levels
 * and liveness are sensed afresh at start; the restart history, the quarantine, and the boot ids (so that old
 * heartbeats stay refused) are remembered.
 */
export const STATE_VERSION = 1;

const savedBoard = z.strictObject({
  board: z.int().min(1).max(64),
  boot_id: z.string().max(64).optional(),
  last_seq: z.int().min(0).optional(),
  past_boot_ids: z.array(z.string().max(64)).max(64),
  restarts: z.array(z.number()).max(1000),
  quarantined: z.boolean(),
  /** Whether the board was heard from when saved: a board that was up needs no boot time to be heard again. */
  was_up: z.boolean(),
});

const savedState = z.strictObject({
  version: z.literal(STATE_VERSION),
  saved_at: z.number(),
  boards: z.array(savedBoard).max(64),
});

export type SavedBoard = z.infer<typeof savedBoard>;
export type SavedState = z.infer<typeof savedState>;

export function toSaved(states: Iterable<BoardState>, at: number): SavedState {
  return {
    version: STATE_VERSION,
    saved_at: at,
    boards: [...states].map((s) => ({
      board: s.board,
      ...(s.bootId !== undefined ? { boot_id: s.bootId } : {}),
      ...(s.lastSeq !== undefined ? { last_seq: s.lastSeq } : {}),
      past_boot_ids: s.pastBootIds,
      restarts: s.restarts,
      quarantined: s.status === 'quarantined',
      was_up: s.status === 'up' || s.status === 'suspect',
    })),
  };
}

/** The fields of a board state that are saved; a change in any of them asks for a save. */
export function persistentKey(s: BoardState): string {
  return `${s.bootId}|${s.pastBootIds.length}|${s.restarts.join(',')}|${s.status === 'quarantined'}|${s.status === 'up'}`;
}

export interface LoadResult {
  state?: SavedState;
  /** One line for the log when the file was absent, unreadable or set aside. */
  note?: string;
}

/**
 * Reads the state file. A missing file is a first start. A truncated, corrupt or unknown-version file is
 * renamed to `<path>.corrupt-<time>` for inspection and the caller starts fresh from the hardware.
 */
export async function loadState(path: string, now = Date.now()): Promise<LoadResult> {
  const loaded = await loadJsonFile(path, savedState, now);
  switch (loaded.status) {
    case 'ok':
      return { state: loaded.data };
    // A first start is not worth a line in the log.
    case 'missing':
      return {};
    case 'unreadable':
      return { note: `${path}: cannot read (${loaded.error}); starting from what the hardware shows` };
    case 'corrupt':
      return loaded.aside
        ? {
            note: `${path}: ${loaded.problem}; kept as ${loaded.aside}; starting from what the hardware shows`,
          }
        : { note: `${path}: ${loaded.problem}; could not set it aside (${loaded.error}); starting fresh` };
  }
}

export async function saveState(path: string, state: SavedState): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(state, null, 1) + '\n');
}
