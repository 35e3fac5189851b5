/**
 * The manager's uplink, as the panel shows it: is there a way out of the box? Judged from the kernel's own
 * tables, with no traffic of ours: a default route, its interface's link, and whether the gateway answered ARP.
 * That proves the path to the router, not the router's own line; a dead WAN shows as visors going offline.
 */
import type { FileRoot } from '../../drivers/fileroot/file-root.js';
import type { Logger } from '../../drivers/logger.js';
import {
  readArp,
  readDefaultRoutes,
  readLinkState,
  type DefaultRoute,
  type LinkState,
} from '../../drivers/proc/route.js';

/** What the panel shows: unknown until the first look, and whenever the tables cannot be read. */
export type UplinkState = 'up' | 'down' | 'unknown';

export interface UplinkObservation {
  routes: DefaultRoute[];
  /** The link of the first route's interface; null when that interface is gone. */
  link: LinkState | null;
  /** ARP answers by address. */
  neighbours: Map<string, boolean>;
}

export interface UplinkJudgement {
  up: boolean;
  reason: string;
}

/** What one look at the tables says, before any smoothing. */
export function judgeUplink(o: UplinkObservation): UplinkJudgement {
  const route = o.routes[0];
  if (!route) return { up: false, reason: 'no default route' };
  if (!o.link) return { up: false, reason: `${route.iface} is gone` };
  if (o.link.operstate === 'down' || o.link.operstate === 'lowerlayerdown' || o.link.carrier === false)
    return { up: false, reason: `${route.iface} link down` };
  // No entry yet means nothing was sent to the gateway lately: no evidence against it.
  if (route.gateway && o.neighbours.get(route.gateway) === false)
    return { up: false, reason: `gateway ${route.gateway} not answering` };
  return { up: true, reason: route.gateway ? `via ${route.gateway} on ${route.iface}` : `on ${route.iface}` };
}

export interface UplinkMemory {
  state: UplinkState;
  reason: string;
  /** When the judgements started saying down; null while they say up. */
  downSince: number | null;
}

export const INITIAL_UPLINK: UplinkMemory = { state: 'unknown', reason: 'not checked yet', downSince: null };

/**
 * Up at once; down only after `holdMs` of judgements saying so, so that a cable reseated or an ARP entry being
 * refreshed never flashes NET DOWN. `null` (the tables could not be read) makes the state unknown.
 */
export function nextUplink(
  prev: UplinkMemory,
  judgement: UplinkJudgement | null,
  now: number,
  holdMs: number,
): UplinkMemory {
  if (!judgement) return { state: 'unknown', reason: 'kernel tables unreadable', downSince: null };
  if (judgement.up) return { state: 'up', reason: judgement.reason, downSince: null };
  const downSince = prev.downSince ?? now;
  const state = now - downSince >= holdMs ? 'down' : prev.state;
  return { state, reason: judgement.reason, downSince };
}

export interface UplinkMonitorOptions {
  periodMs?: number;
  holdMs?: number;
  now?: () => number;
  logger?: Logger;
}

/** Looks at the tables every `periodMs` and keeps the smoothed state for whoever draws it. */
export class UplinkMonitor {
  private memory: UplinkMemory = INITIAL_UPLINK;
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;

  constructor(
    private readonly root: FileRoot,
    private readonly options: UplinkMonitorOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  get state(): UplinkState {
    return this.memory.state;
  }

  get reason(): string {
    return this.memory.reason;
  }

  async check(): Promise<UplinkState> {
    let judgement: UplinkJudgement | null;
    try {
      judgement = judgeUplink(await this.observe());
    } catch (err) {
      if (this.memory.state !== 'unknown') this.options.logger?.warn(`uplink: ${(err as Error).message}`);
      judgement = null;
    }
    const before = this.memory.state;
    this.memory = nextUplink(this.memory, judgement, this.now(), this.options.holdMs ?? 10_000);
    if (this.memory.state !== before && this.memory.state !== 'unknown')
      this.options.logger?.info(`uplink: ${this.memory.state} (${this.memory.reason})`);
    return this.memory.state;
  }

  start(): void {
    if (this.timer) return;
    void this.check();
    this.timer = setInterval(() => void this.check(), this.options.periodMs ?? 2000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async observe(): Promise<UplinkObservation> {
    const routes = await readDefaultRoutes(this.root);
    const iface = routes[0]?.iface;
    const link =
      iface === undefined
        ? null
        : await readLinkState(this.root, iface).catch((err: NodeJS.ErrnoException) => {
            if (err.code === 'ENOENT') return null;
            throw err;
          });
    // A kernel without ARP (no IPv4 neighbours yet) has the file with just its header; absent means no evidence.
    const neighbours = await readArp(this.root).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return new Map<string, boolean>();
      throw err;
    });
    return { routes, link, neighbours };
  }
}
