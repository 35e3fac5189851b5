import type { BoardVisor } from './panel-input.js';
import type { CellStyle } from './pages/cells.js';

/** How a board's status looks in an overview cell, and how it is named on its own page. */
export interface StatusLook {
  /** At most 4 characters, inside a cell. */
  label: string;
  style: CellStyle;
  /** The status in words, on the board's page. */
  word: string;
}

/**
 * Every status the supervisor reports, mapped to a look. Lit fill is kept for what needs the owner's eye
 * (failed); a healthy board is an outline, a board on its way somewhere a dashed outline, a quarantined
 * one hatched, an unpowered one bare. The supervisor may report statuses this table does not know yet:
 * those are drawn dashed with their first letters, never dropped.
 */
export const STATUS_LOOKS: Readonly<Record<string, StatusLook>> = {
  up: { label: 'UP', style: 'outline', word: 'UP' },
  booting: { label: 'BOOT', style: 'dashed', word: 'BOOTING' },
  restarting: { label: 'RST', style: 'dashed', word: 'RESTARTING' },
  suspect: { label: 'SUS?', style: 'dashed', word: 'SUSPECT' },
  failed: { label: 'FAIL', style: 'filled', word: 'FAILED' },
  quarantined: { label: 'QUAR', style: 'hatched', word: 'QUARANTINED' },
  off: { label: 'OFF', style: 'bare', word: 'OFF' },
};

export function statusLook(status: string): StatusLook {
  const known = Object.hasOwn(STATUS_LOOKS, status) ? STATUS_LOOKS[status] : undefined;
  if (known) return known;
  const word =
    status
      .toUpperCase()
      .replace(/[^A-Z0-9]+/g, ' ')
      .trim() || '?';
  return { label: word.slice(0, 3) + '?', style: 'dashed', word: word.slice(0, 12) };
}

/** How a board's visor is shown: a word of at most 6 letters on its page, and whether the overview marks it. */
export interface VisorLook {
  word: string;
  /**
   * Exited and waiting to be restarted, or failing: earning nothing. A visor not started yet (stopped, or a worker
   * waiting for the hypervisor's key) is not marked: every board passes through those states as it boots.
   */
  down: boolean;
}

const VISOR_LOOKS: Readonly<Record<BoardVisor['status'], VisorLook>> = {
  running: { word: 'RUN', down: false },
  starting: { word: 'START', down: false },
  stopping: { word: 'STOP', down: false },
  waiting: { word: 'DOWN', down: true },
  stopped: { word: 'OFF', down: false },
  'no-key': { word: 'NO KEY', down: false },
};

/**
 * A board's visor as the panel shows it. A visor the board cannot keep up is `SICK` whatever its state of the
 * moment, since it keeps being restarted; a board without Skywire (or not heard from) shows `--`.
 */
export function visorLook(visor: BoardVisor | undefined): VisorLook {
  if (!visor) return { word: '--', down: false };
  if (visor.sick) return { word: 'SICK', down: true };
  return VISOR_LOOKS[visor.status] ?? { word: '?', down: false };
}
