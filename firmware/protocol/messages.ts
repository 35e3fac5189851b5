import { z } from 'zod';
import { parseHeartbeatFigures, skycoinAddressText, skywirePk, type HeartbeatFigures } from './figures.js';

/** The largest datagram we accept; a heartbeat is a few hundred bytes. */
export const MAX_DATAGRAM = 4096;

const bootId = z.string().regex(/^[0-9a-f]{8,64}$/);
const board = z.int().min(1).max(64);
const nonce = z.string().regex(/^[0-9a-f]{16,64}$/);

const health = z.strictObject({
  ok: z.boolean(),
  /** Names of the checks that fail now, e.g. `["root-fs"]`. */
  failing: z.array(z.string().max(40)).max(16),
});

/**
 * Why the board's current boot began, from the watchdog's boot status read at start: the kernel tells only
 * whether the watchdog did it (`watchdog`) or not (`other`: power-on, reset line, reboot command).
 */
export const resetReason = z.enum(['watchdog', 'other', 'unknown']);

const order = z.string().regex(/^[0-9a-f]{8,32}$/);
/** The longest reason a board's firmware report carries: a longer one would cost the whole heartbeat. */
export const MAX_UPDATE_REASON = 300;

/** A reason as the heartbeat can carry it: cut to the report's limit rather than have the heartbeat refused. */
export function reportableReason(reason: string): string {
  return reason.length > MAX_UPDATE_REASON ? `${reason.slice(0, MAX_UPDATE_REASON - 3)}...` : reason;
}
const version = z.string().min(1).max(40);

/** A board's latest update order (firmware or visor) and how far it got. */
const updateReport = z.strictObject({
  order,
  version,
  stage: z.enum(['installing', 'installed', 'refused', 'failed', 'committed', 'rolled-back']),
  reason: z.string().max(MAX_UPDATE_REASON).optional(),
});

/** What a board says of its firmware: the running version and slot, a trial boot, its latest update order. */
const firmwareReport = z.strictObject({
  version,
  slot: z.enum(['A', 'B']).optional(),
  trying: z.boolean(),
  update: updateReport.optional(),
});

/**
 * A heartbeat as it travels. Its figures are checked apart (see `decodeAgentMessage`): figures that do not parse
 * must not cost the board its sign of life.
 */
const heartbeatWire = z.strictObject({
  type: z.literal('heartbeat'),
  board,
  /** Random per boot: a new value is a reboot, even when uptime is unknown. */
  boot_id: bootId,
  /** Counts up from 0 in each boot; the supervisor refuses any number not above the last one it took. */
  seq: z.int().min(0),
  /** The sender's wall clock (ms): a heartbeat outside the supervisor's window is stale or replayed. */
  time_ms: z.int().min(0),
  uptime_s: z.number().min(0),
  health,
  reset_reason: resetReason.optional(),
  /** Compact live figures (protocol/figures.ts). */
  telemetry: z.unknown().optional(),
  /** The board's firmware, for box-wide updates (firmware/update/rollout.ts). */
  firmware: firmwareReport.optional(),
  /** The board's latest visor update order and how far it got; sent only once this boot took one. */
  visor_update: updateReport.optional(),
});

/** Manager to agent: "answer if you are alive". The nonce makes every answer fresh without clocks. */
export const probeSchema = z.strictObject({ type: z.literal('probe'), board, nonce });

export const probeAnswerSchema = z.strictObject({
  type: z.literal('probe-answer'),
  board,
  boot_id: bootId,
  nonce,
});

/**
 * Manager to agent. Bound to one boot of the board (`boot_id`), and `seq` must rise within that boot, so a
 * recorded command is worthless once used or once the board has rebooted.
 */
export const commandSchema = z.strictObject({
  type: z.literal('command'),
  board,
  boot_id: bootId,
  seq: z.int().min(0),
  command: z.enum(['soft-reboot', 'update', 'commit']),
  /**
   * `update`: fetch the bundle from the manager's address at `port` and `path` and install it into the spare slot
   * (the board checks the bundle's signature itself), or with `kind: 'visor'` as its visor's new binary, restarting
   * the visor on it and keeping it only if it stays up; `commit`: the trial boot's heartbeats are acknowledged.
   */
  update: z
    .strictObject({
      order,
      version,
      port: z.int().min(1).max(65535),
      path: z.string().regex(/^\/[\w./-]{1,120}$/),
      kind: z.literal('visor').optional(),
    })
    .optional(),
});

/**
 * Manager to agent, in answer to a heartbeat whose visor trusts another hypervisor key (or none): the key of the
 * manager's own visor, the box's hypervisor. Bound to the board's boot and rising like a command, so an old key
 * recorded before a change cannot be replayed to the board.
 */
export const hypervisorKeySchema = z.strictObject({
  type: z.literal('hypervisor-key'),
  board,
  boot_id: bootId,
  seq: z.int().min(0),
  pk: skywirePk,
});

/**
 * Manager to agent: the box's reward address, for a board whose visor the hypervisor cannot reach (or failed to set
 * it through). The agent writes it to the visor's own `reward.txt`, which the visor reads at every request; its
 * next heartbeats report what the file holds. Bound to the boot and rising like a command, as the hypervisor key.
 */
export const rewardAddressSchema = z.strictObject({
  type: z.literal('reward-address'),
  board,
  boot_id: bootId,
  seq: z.int().min(0),
  address: skycoinAddressText,
});

export const commandAckSchema = z.strictObject({
  type: z.literal('command-ack'),
  board,
  boot_id: bootId,
  seq: z.int().min(0),
});

export type Heartbeat = Omit<z.infer<typeof heartbeatWire>, 'telemetry'> & { telemetry?: HeartbeatFigures };
export type Health = z.infer<typeof health>;
export type ResetReason = z.infer<typeof resetReason>;
export type Probe = z.infer<typeof probeSchema>;
export type ProbeAnswer = z.infer<typeof probeAnswerSchema>;
export type Command = z.infer<typeof commandSchema>;
export type CommandAck = z.infer<typeof commandAckSchema>;
export type HypervisorKey = z.infer<typeof hypervisorKeySchema>;
export type RewardAddressOrder = z.infer<typeof rewardAddressSchema>;
export type FirmwareReportWire = z.infer<typeof firmwareReport>;
export type UpdateReportWire = z.infer<typeof updateReport>;
export type UpdateOrderWire = NonNullable<Command['update']>;

/** What agents send to the supervisor, and what the supervisor sends to agents. */
export type AgentMessage = Heartbeat | ProbeAnswer | CommandAck;
export type ManagerMessage = Probe | Command | HypervisorKey | RewardAddressOrder;

const agentMessage = z.discriminatedUnion('type', [heartbeatWire, probeAnswerSchema, commandAckSchema]);
const managerMessage = z.discriminatedUnion('type', [
  probeSchema,
  commandSchema,
  hypervisorKeySchema,
  rewardAddressSchema,
]);

export type Decoded<T> = { ok: true; message: T } | { ok: false; error: string };

function decodeWith<T>(schema: z.ZodType<T, unknown>, body: Buffer): Decoded<T> {
  if (body.length > MAX_DATAGRAM) return { ok: false, error: `message of ${body.length} bytes is too large` };
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, error: 'message is not JSON' };
  }
  const result = schema.safeParse(doc);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    return { ok: false, error: `message ${issue.path.join('.') || '(top level)'}: ${issue.message}` };
  }
  return { ok: true, message: result.data };
}

/** An agent's message; a heartbeat whose figures did not parse comes without them, and says why. */
export type DecodedAgentMessage =
  { ok: true; message: AgentMessage; figuresError?: string } | { ok: false; error: string };

/** Parses a message body from an agent; never throws, whatever arrives from the network. */
export function decodeAgentMessage(body: Buffer): DecodedAgentMessage {
  const decoded = decodeWith(agentMessage, body);
  if (!decoded.ok || decoded.message.type !== 'heartbeat') return decoded as DecodedAgentMessage;
  const { telemetry, ...heartbeat } = decoded.message;
  if (telemetry === undefined) return { ok: true, message: heartbeat };
  const figures = parseHeartbeatFigures(telemetry);
  return figures.ok
    ? { ok: true, message: { ...heartbeat, telemetry: figures.figures } }
    : { ok: true, message: heartbeat, figuresError: figures.error };
}

export function decodeManagerMessage(body: Buffer): Decoded<ManagerMessage> {
  return decodeWith(managerMessage, body);
}

export function encodeMessage(message: AgentMessage | ManagerMessage): Buffer {
  return Buffer.from(JSON.stringify(message));
}
