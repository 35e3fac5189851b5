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
});

export type DiskFigures = z.infer<typeof diskFiguresSchema>;
export type InventoryFigures = z.infer<typeof inventoryFiguresSchema>;
export type HeartbeatFigures = z.infer<typeof heartbeatFiguresSchema>;

export type ParsedFigures = { ok: true; figures: HeartbeatFigures } | { ok: false; error: string };

/** Parses a heartbeat's figures; the error names the first field that was wrong. Never throws. */
export function parseHeartbeatFigures(doc: unknown): ParsedFigures {
  const result = heartbeatFiguresSchema.safeParse(doc);
  if (result.success) return { ok: true, figures: result.data };
  const issue = result.error.issues[0]!;
  return { ok: false, error: `telemetry.${issue.path.join('.')}: ${issue.message}`.replace(/\.:/, ':') };
}
