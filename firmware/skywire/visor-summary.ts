import { z } from 'zod';
import { SourceError } from './source-error.js';

/** The figures of one visor that the rewards need, read from a hypervisor visor summary. */
export interface VisorFigures {
  pk: string;
  online: boolean;
  /** "healthy" once the visor reaches the deployment services, "connecting" before. */
  servicesHealth: string | null;
  version: string | null;
  /** dmsg round trip in milliseconds; null when the hypervisor has no measurement. */
  dmsgRoundTripMs: number | null;
  dmsgConnected: boolean;
  /** Seconds since the visor started. */
  uptimeS: number | null;
  rewardAddress: string | null;
  localIp: string | null;
  transports: TransportCounters[];
}

/** A transport's cumulative byte counts since the visor started. */
export interface TransportCounters {
  id: string;
  recv: number;
  sent: number;
}

const count = z.number().int().nonnegative();
const transportShape = z.object({
  id: z.string().min(1),
  log: z.object({ recv: count, sent: count }).nullish(),
});
// Loose objects: real summaries carry many more fields (apps, routes, geo data) that the rewards ignore.
const summaryShape = z.object({
  overview: z.object({
    local_pk: z.string().regex(/^[0-9a-f]{66}$/, 'expected a 66-digit hex public key'),
    build_info: z.object({ version: z.string() }).nullish(),
    transports: z.array(transportShape).nullish(),
    local_ip: z.string().nullish(),
  }),
  health: z.object({ services_health: z.string().nullish() }).nullish(),
  uptime: z.number().nonnegative().nullish(),
  dmsg_stats: z
    .object({ round_trip: z.number().nullish(), server_public_key: z.string().nullish() })
    .nullish(),
  online: z.boolean(),
  reward_address: z.string().nullish(),
});

const ZERO_PK = '0'.repeat(66);

function describe(error: z.ZodError, what: string): SourceError {
  const issue = error.issues[0]!;
  const path = issue.path.map(String).join('.') || '(top level)';
  return new SourceError('malformed', `${what}: ${path}: ${issue.message}`);
}

function toFigures(s: z.infer<typeof summaryShape>): VisorFigures {
  const rtt = s.dmsg_stats?.round_trip;
  const server = s.dmsg_stats?.server_public_key;
  const health = s.health?.services_health || null;
  const reward = s.reward_address?.trim() || null;
  return {
    pk: s.overview.local_pk,
    online: s.online,
    servicesHealth: health,
    version: s.overview.build_info?.version || null,
    dmsgRoundTripMs: typeof rtt === 'number' && rtt > 0 ? rtt / 1e6 : null,
    // The hypervisor tracks dmsg per visor; a measured round trip or a known dmsg server means connected.
    dmsgConnected: s.online && ((typeof rtt === 'number' && rtt > 0) || (!!server && server !== ZERO_PK)),
    uptimeS: s.uptime ?? null,
    rewardAddress: reward,
    localIp: s.overview.local_ip || null,
    transports: (s.overview.transports ?? [])
      .filter((t) => t.log)
      .map((t) => ({ id: t.id, recv: t.log!.recv, sent: t.log!.sent })),
  };
}

/** Reads one `/api/visors/{pk}/summary` answer. */
export function parseVisorSummary(doc: unknown, what = 'visor summary'): VisorFigures {
  const r = summaryShape.safeParse(doc);
  if (!r.success) throw describe(r.error, what);
  return toFigures(r.data);
}

/**
 * Reads a `/api/visors-summary` answer: the visors connected now, each online whatever its own `online` says (the
 * hypervisor drops a visor from this list when it disconnects). `null` is an empty list.
 */
export function parseVisorsSummary(doc: unknown): VisorFigures[] {
  const r = z.array(summaryShape).nullable().safeParse(doc);
  if (!r.success) throw describe(r.error, 'visors summary');
  return (r.data ?? []).map((s) => toFigures({ ...s, online: true }));
}
