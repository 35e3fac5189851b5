import { z } from 'zod';

/** The largest datagram we accept; a heartbeat is a few hundred bytes. */
export const MAX_DATAGRAM = 4096;

const health = z.strictObject({
  ok: z.boolean(),
  /** Names of the checks that fail now, e.g. `["root-fs"]`. */
  failing: z.array(z.string().max(40)).max(16),
});

export const heartbeatSchema = z.strictObject({
  type: z.literal('heartbeat'),
  board: z.int().min(1).max(64),
  /** Random per boot: a new value is a reboot, even when uptime is unknown. */
  boot_id: z.string().regex(/^[0-9a-f]{8,64}$/),
  seq: z.int().min(0),
  uptime_s: z.number().min(0),
  health,
  /** Compact live figures; their shape is owned by the telemetry service. */
  telemetry: z.record(z.string(), z.unknown()).optional(),
});

export type Heartbeat = z.infer<typeof heartbeatSchema>;
export type Health = z.infer<typeof health>;

export type Decoded<T> = { ok: true; message: T } | { ok: false; error: string };

/** Parses one datagram; never throws, whatever arrives from the network. */
export function decodeHeartbeat(datagram: Buffer): Decoded<Heartbeat> {
  if (datagram.length > MAX_DATAGRAM)
    return { ok: false, error: `datagram of ${datagram.length} bytes is too large` };
  let doc: unknown;
  try {
    doc = JSON.parse(datagram.toString('utf8'));
  } catch {
    return { ok: false, error: 'datagram is not JSON' };
  }
  const result = heartbeatSchema.safeParse(doc);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    return { ok: false, error: `heartbeat ${issue.path.join('.') || 'message'}: ${issue.message}` };
  }
  return { ok: true, message: result.data };
}

export function encodeHeartbeat(hb: Heartbeat): Buffer {
  return Buffer.from(JSON.stringify(hb));
}
