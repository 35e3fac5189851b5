// The box's reward address: chosen once by the owner, kept on the manager's data partition, and set on every visor
// through the hypervisor. It is checked again at every read of the hypervisor, so a board whose visor is new (a
// regenerated config, a replaced board) gets it as soon as the hypervisor lists it. A visor the hypervisor cannot
// reach (or failed to set) gets it on the board itself: its agent writes the visor's own reward.txt.
import { z } from 'zod';
import { loadJsonFile, writeFileAtomic } from '../lib/files.js';
import { skycoinAddressProblem } from '../skywire/skycoin-address.js';

/**
 * Where one board's visor stands: `set` (it reports the box's address, through the hypervisor or from the board),
 * `setting` (listed, not yet reporting it), `failed` (the hypervisor refused or failed the last try: `error` says
 * why), `unreachable` (the hypervisor does not list its visor now and the board's own file does not hold it yet),
 * `none` (no address chosen yet).
 */
export type AddressStanding = 'set' | 'setting' | 'failed' | 'unreachable' | 'none';

/** Which way a board's `set` was seen: the hypervisor reads it from the visor, or the board's agent reports it. */
export type AddressWay = 'hypervisor' | 'board';

export interface VisorAddressState {
  board: number;
  /** The visor's key as the hypervisor lists it now; null when it is not listed. */
  pk: string | null;
  /** The address the visor reports now. */
  reported: string | null;
  /** Why the last try for this board failed; null when it did not. */
  lastError: string | null;
  /** The address the board's agent says its visor's reward.txt holds (its heartbeat); null when none or unknown. */
  onBoard?: string | null;
}

export interface AddressPlan {
  /** Visors to set the address on now, through the hypervisor. */
  set: { board: number; pk: string }[];
  /** Boards to set it on themselves (their agent writes the visor's reward.txt): the hypervisor cannot do it. */
  onBoard: number[];
  standing: Map<number, AddressStanding>;
  /** For each board where it is set, which way that was seen. */
  way: Map<number, AddressWay>;
}

/** What to do about the reward address given what the hypervisor lists (pure). */
export function planRewardAddress(desired: string | null, boards: readonly VisorAddressState[]): AddressPlan {
  const standing = new Map<number, AddressStanding>();
  const way = new Map<number, AddressWay>();
  const set: { board: number; pk: string }[] = [];
  const onBoard: number[] = [];
  for (const b of boards) {
    const fileHolds = b.onBoard === desired;
    if (desired === null) standing.set(b.board, 'none');
    else if (b.pk !== null && b.reported === desired) {
      standing.set(b.board, 'set');
      way.set(b.board, 'hypervisor');
    } else if (b.pk === null && fileHolds) {
      standing.set(b.board, 'set');
      way.set(b.board, 'board');
    } else if (b.pk === null) {
      standing.set(b.board, 'unreachable');
      onBoard.push(b.board);
    } else {
      standing.set(b.board, b.lastError === null ? 'setting' : 'failed');
      set.push({ board: b.board, pk: b.pk });
      // The hypervisor failed it: the board writes it too (the hypervisor then reads it from the visor).
      if (b.lastError !== null && !fileHolds) onBoard.push(b.board);
    }
  }
  return { set, onBoard, standing, way };
}

/** A reward address as the owner typed it: trimmed, checked; the error is one line naming what is wrong. */
export function checkRewardAddress(
  text: string,
): { ok: true; address: string } | { ok: false; error: string } {
  const address = text.trim();
  const problem = skycoinAddressProblem(address);
  return problem === null ? { ok: true, address } : { ok: false, error: `not a Skycoin address: ${problem}` };
}

const fileSchema = z.strictObject({
  version: z.literal(1),
  address: z.string().refine((a) => skycoinAddressProblem(a) === null, 'not a valid Skycoin address'),
  set_at_ms: z.int().nonnegative(),
});

export interface KeptAddress {
  address: string;
  setAtMs: number;
}

/** The chosen address on disk (`<state_dir>/reward-address.json`), written atomically. */
export class RewardAddressStore {
  constructor(readonly path: string) {}

  /** The kept address; null when none was chosen. A damaged file is set aside and named in `alert`. */
  async load(): Promise<{ kept: KeptAddress | null; alert?: string }> {
    const r = await loadJsonFile(this.path, fileSchema);
    switch (r.status) {
      case 'missing':
        return { kept: null };
      case 'ok':
        return { kept: { address: r.data.address, setAtMs: r.data.set_at_ms } };
      case 'unreadable':
        return { kept: null, alert: `reward address ${this.path}: cannot read (${r.error})` };
      case 'corrupt':
        return {
          kept: null,
          alert: `reward address ${this.path}: ${r.problem}; set aside${r.aside ? ` as ${r.aside}` : ''}, choose it again with rewards address`,
        };
    }
  }

  async save(kept: KeptAddress): Promise<void> {
    const doc = { version: 1, address: kept.address, set_at_ms: kept.setAtMs };
    await writeFileAtomic(this.path, JSON.stringify(doc) + '\n', 0o600);
  }
}
