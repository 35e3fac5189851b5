// When a trial boot of a new slot is healthy enough to commit: a board once the manager has acknowledged a heartbeat
// of this boot's agent (a slot whose network or key is broken never gets that far); the manager once its supervisor
// is up and its panel has drawn, and its own agent is acknowledged too. Pure: the facts come from what the services
// recorded in this boot (boot-proof.ts on a device, the running compositions in the simulator).
import type { Health } from './watch.js';

/** What the manager's own software has shown in this boot. */
export interface ManagerProof {
  /** The supervisor is up: listening for heartbeats, ticking, its control socket opened. */
  supervisor: boolean;
  /** `none`: this manager has no panel to draw on (disabled in the config, or its bus would not open). */
  panel: 'drawn' | 'waiting' | 'none';
}

export interface TrialFacts {
  /** The board's role (the data partition's role file); none: a board in no box, where no agent runs. */
  role: 'manager' | 'board' | undefined;
  /** The manager acknowledged a heartbeat of this boot's agent (it answers a trial boot's heartbeat with `commit`). */
  acknowledged: boolean;
  /**
   * The agent's own checks failing at its latest heartbeat of this boot: the manager acknowledges no heartbeat whose
   * checks fail, so these say why none was (a full root, no memory) rather than leave it to the network.
   */
  failing?: readonly string[];
  /** The manager's own software; read on the manager only. */
  manager?: ManagerProof;
}

/**
 * Healthy, or the first thing missing in the order one depends on the other: on the manager no acknowledgement
 * comes without the supervisor, so a supervisor that is not running is named rather than what follows from it.
 */
export function trialHealth(f: TrialFacts): Health {
  if (f.role === undefined) return { ok: true, detail: 'no role: no service to wait for' };
  if (f.role === 'manager') {
    if (!f.manager?.supervisor) return { ok: false, detail: 'supervisor not running' };
    if (f.manager.panel === 'waiting') return { ok: false, detail: 'panel not drawn' };
  }
  if (!f.acknowledged)
    return {
      ok: false,
      detail: `no heartbeat acknowledged by the manager${f.failing?.length ? `; its checks fail: ${f.failing.join(', ')}` : ''}`,
    };
  if (f.role === 'board') return { ok: true, detail: 'heartbeat acknowledged by the manager' };
  return {
    ok: true,
    detail: `supervisor up, ${f.manager!.panel === 'drawn' ? 'panel drawn' : 'no panel'}, heartbeat acknowledged`,
  };
}
