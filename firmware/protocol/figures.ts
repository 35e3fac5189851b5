import { z } from 'zod';

/**
 * The figures a heartbeat carries: one schema, parsed once where the supervisor accepts the datagram, read as a
 * type everywhere after (the supervisor's view, the panel, the disk events, the console and `--json`).
 *
 * A new figure goes here first (nullable: an older agent never sends it), then into
 * `telemetry/heartbeat-figures.ts`, which fills it on the board, and then into the readers that show it. Objects
 * are not strict: a newer agent's extra fields are dropped, not a reason to refuse the figures it also sent.
 */

/** A figure the board could not read is null, never a guess. */
const figure = z.number().nullable();
const text = (max: number) => z.string().max(max).nullable();

export const verdicts = ['ok', 'warning', 'failing', 'unknown'] as const;

/** One SATA disk: discovery, its SMART verdict with its first reasons, and the content cache's use of it. */
export const diskFiguresSchema = z.object({
  disk: z.string().min(1).max(32),
  model: text(40),
  serial: text(40),
  size_bytes: z.number().min(0),
  verdict: z.enum(verdicts),
  reasons: z.array(z.string().max(120)).max(3),
  temperature_c: figure,
  mounted: z.boolean(),
  used_pct: figure,
});

/** What the board is, read once when the agent starts (systeminformation on a device). */
export const inventoryFiguresSchema = z.object({
  /** The board's model, e.g. `Xunlong Orange Pi Prime`. */
  model: text(64),
  /** The system on chip from the device tree, e.g. `allwinner,sun50i-h5`; null where there is none. */
  soc: text(64),
  cpu: text(64),
  cores: figure,
  serial: text(64),
  /** The MAC address of the board's first wired interface. */
  mac: text(17),
  /** Distribution and release, e.g. `Alpine Linux 3.20.3`. */
  os: text(64),
  kernel: text(64),
  mem_total_bytes: figure,
});

/** A Skywire public key: 33 bytes, compressed, as 66 hex digits. */
export const skywirePk = z
  .string()
  .regex(/^0[23][0-9a-f]{64}$/, 'expected a Skywire public key (66 hex digits)');

/** A Skycoin address's form (base58, 26 to 35 characters); its checksum is checked where it is chosen. */
export const skycoinAddressText = z
  .string()
  .regex(/^[1-9A-HJ-NP-Za-km-z]{26,35}$/, 'expected a Skycoin address (26 to 35 base58 characters)');

/** Where the board's visor service is: `no-key` is a worker still waiting for the hypervisor's key. */
export const visorStatuses = ['no-key', 'starting', 'running', 'stopping', 'waiting', 'stopped'] as const;

/**
 * The board's Skywire visor, as its agent sees it: the service's state and what the visor's own RPC said last
 * (version, dmsg, services health, uptime), and the traffic of its transports read on the board itself (its
 * `transport_logs`, counted per UTC day), since the hypervisor reports every remote visor's counters as zero.
 */
export const visorFiguresSchema = z.object({
  status: z.enum(visorStatuses),
  /** The visor's public key; null before its keys are made. */
  pk: skywirePk.nullable(),
  /** The hypervisor key the visor's config trusts (the manager's visor: its own). */
  hypervisor_pk: skywirePk.nullable(),
  version: text(32),
  dmsg_connected: z.boolean().nullable(),
  /** A worker's visor is connected to the box's hypervisor now (null on the manager, or while not running). */
  hypervisor_connected: z.boolean().nullable().default(null),
  /** The dmsg server round trip. */
  round_trip_ms: figure,
  /** `connecting` for the first five minutes of every visor start, then `healthy`. */
  services_health: text(16),
  /** Seconds since the running visor process started. */
  uptime_s: figure,
  restarts: z.number().min(0),
  /** Restarting too often lately: the board cannot keep its visor up (the service keeps retrying). */
  sick: z.boolean(),
  last_exit: text(80),
  /** Today's (UTC) transport bytes, and the rate over the last read. */
  rx_bytes: figure,
  tx_bytes: figure,
  rx_bps: figure,
  tx_bps: figure,
  /** The reward address in the visor's own `reward.txt`, which it reads at every request; null when none. */
  reward_address: skycoinAddressText.nullable().catch(null).default(null),
});

/** At most this many disks ride in a heartbeat; a board has one or two SATA ports. */
export const MAX_HEARTBEAT_DISKS = 4;

export const heartbeatFiguresSchema = z.object({
  uptime_s: figure,
  cpu_pct: figure,
  load1: figure,
  mem_used_bytes: figure,
  mem_total_bytes: figure,
  temp_c: figure,
  /** Sums over the board's real interfaces (not `lo`). */
  net_rx_bps: figure,
  net_tx_bps: figure,
  disks: z.array(diskFiguresSchema).max(MAX_HEARTBEAT_DISKS),
  /** Null until the inventory has been read (it may take seconds at start). */
  inventory: inventoryFiguresSchema.nullable().default(null),
  /** Null on a board without Skywire (or from an agent older than the visor service). */
  visor: visorFiguresSchema.nullable().default(null),
});

export type DiskFigures = z.infer<typeof diskFiguresSchema>;
export type InventoryFigures = z.infer<typeof inventoryFiguresSchema>;
export type BoardVisorFigures = z.infer<typeof visorFiguresSchema>;
export type BoardVisorStatus = (typeof visorStatuses)[number];
export type HeartbeatFigures = z.infer<typeof heartbeatFiguresSchema>;

export type ParsedFigures = { ok: true; figures: HeartbeatFigures } | { ok: false; error: string };

/** Parses a heartbeat's figures; the error names the first field that was wrong. Never throws. */
export function parseHeartbeatFigures(doc: unknown): ParsedFigures {
  const result = heartbeatFiguresSchema.safeParse(doc);
  if (result.success) return { ok: true, figures: result.data };
  const issue = result.error.issues[0]!;
  return { ok: false, error: `telemetry.${issue.path.join('.')}: ${issue.message}`.replace(/\.:/, ':') };
}
