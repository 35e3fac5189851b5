// What a visor says of itself over its local RPC, read with `skywire cli visor info --json` (the RPC is Go's gob
// encoding: the visor's own CLI speaks it). The same answer is the service's health probe: a hung visor keeps its
// port accepting connections (the kernel does that) but never answers the call.

/** The visor's own summary: the figures the heartbeat carries. */
export interface VisorInfo {
  pk: string;
  version: string;
  /**
   * Connected to dmsg: its tracker names a dmsg server, or it is connected to a hypervisor (which it reaches only
   * over dmsg). A worker's own tracker reads zeros while connected (v1.3.28 tracks only what its hypervisor asks),
   * so the connected hypervisors are what tells there.
   */
  dmsgConnected: boolean;
  /** The hypervisors it is connected to now (`skywire cli visor hv pk`); null when not asked. */
  connectedHypervisors: string[] | null;
  roundTripMs: number | null;
  servicesHealth: string;
  uptimeS: number;
}

export class VisorInfoError extends Error {
  override readonly name = 'VisorInfoError';
}

const ZERO_PK = /^0+$/;

/** A Go `time.Duration` string (`1.5ms`, `2m3.1s`, `0s`) in milliseconds; null when it is not one. */
export function goDurationMs(text: string): number | null {
  if (text === '0' || text === '0s') return 0;
  const unit: Record<string, number> = {
    h: 3_600_000,
    m: 60_000,
    s: 1000,
    ms: 1,
    us: 1e-3,
    µs: 1e-3,
    ns: 1e-6,
  };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return null;
  return parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2]!]!, 0);
}

/** Parses the CLI's `{"output": {...}}` (or its `{"error": ...}`); throws a VisorInfoError naming what was wrong. */
export function parseVisorInfo(text: string): VisorInfo {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new VisorInfoError('skywire cli visor info: the answer is not JSON');
  }
  const top = doc as { output?: Record<string, unknown>; error?: unknown } | null;
  if (typeof top?.error === 'string') throw new VisorInfoError(`skywire cli visor info: ${top.error}`);
  const o = top?.output;
  if (!o || typeof o !== 'object') throw new VisorInfoError('skywire cli visor info: no output');
  const str = (k: string): string => {
    const v = o[k];
    if (typeof v !== 'string') throw new VisorInfoError(`skywire cli visor info: ${k} missing`);
    return v;
  };
  const online = o.time_online;
  if (typeof online !== 'number' || !Number.isFinite(online))
    throw new VisorInfoError('skywire cli visor info: time_online missing');
  const server = str('dmsg_server');
  const rtt = goDurationMs(str('ping'));
  return {
    connectedHypervisors: null,
    pk: str('public_key'),
    version: str('visor_version'),
    dmsgConnected: server !== '' && !ZERO_PK.test(server),
    roundTripMs: rtt === null ? null : Math.round(rtt * 100) / 100,
    servicesHealth: str('uptime_tracker'),
    uptimeS: Math.max(0, online),
  };
}

/** Parses `skywire cli visor hv pk --json`: the connected hypervisors' keys (`{}` when there are none). */
export function parseConnectedHypervisors(text: string): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new VisorInfoError('skywire cli visor hv pk: the answer is not JSON');
  }
  const top = doc as { output?: unknown; error?: unknown } | null;
  if (typeof top?.error === 'string') throw new VisorInfoError(`skywire cli visor hv pk: ${top.error}`);
  if (top?.output === undefined || top.output === null) return [];
  if (!Array.isArray(top.output) || !top.output.every((k) => typeof k === 'string'))
    throw new VisorInfoError('skywire cli visor hv pk: expected a list of keys');
  return top.output as string[];
}
