// The network's minimum visor version for rewards, and the UTC day it applies from. The floor now rises about two
// weeks after each Skywire release, so the owner configures the one announced together with its date: until that
// day a visor below it still earns (and is shown as having to move), from that day it earns nothing.
import { utcDateText } from '../config/utc-date.js';
import { compareVersions } from './version.js';

export interface VersionFloor {
  /** e.g. `v1.3.50`. */
  version: string;
  /** The first instant (ms, UTC midnight) the floor applies; null: in force already. */
  fromMs: number | null;
}

/**
 * One visor's version against the floor: `meets` it; `below-soon` (below, the floor not yet in force: still
 * earning); `below` (not earning); `unknown` (no version reported yet) or `unreadable` (not a version), which
 * count as not earning, since the network would not count them either.
 */
export type FloorStanding = 'meets' | 'below-soon' | 'below' | 'unknown' | 'unreadable';

export interface FloorVerdict {
  standing: FloorStanding;
  /** Whether the version alone lets the visor earn now. */
  earning: boolean;
  /** One short phrase for the owner; null when the version meets the floor. */
  note: string | null;
}

const DAY_MS = 86_400_000;

/** Judges one visor's version against the floor at `nowMs` (pure; tests pass the clock). */
export function judgeVersion(version: string | null, floor: VersionFloor, nowMs: number): FloorVerdict {
  if (version === null) return { standing: 'unknown', earning: false, note: 'version unknown' };
  const c = compareVersions(version, floor.version);
  if (c === null) return { standing: 'unreadable', earning: false, note: `version ${version} unreadable` };
  if (c >= 0) return { standing: 'meets', earning: true, note: null };
  if (floor.fromMs !== null && nowMs < floor.fromMs) {
    const days = Math.ceil((floor.fromMs - nowMs) / DAY_MS);
    return {
      standing: 'below-soon',
      earning: true,
      note: `version ${version} below ${floor.version}, required from ${utcDateText(floor.fromMs)} (in ${days} day${days === 1 ? '' : 's'})`,
    };
  }
  return {
    standing: 'below',
    earning: false,
    note:
      floor.fromMs === null
        ? `version ${version} below ${floor.version}`
        : `version ${version} below ${floor.version}, required since ${utcDateText(floor.fromMs)}`,
  };
}
