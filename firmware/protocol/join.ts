import { z } from 'zod';
import { MAX_DATAGRAM } from './messages.js';

/**
 * Join datagrams: how a freshly flashed board, holding no key yet, asks the manager for one (see
 * firmware/supervisor/join-window.md). They cannot be authenticated (the board has nothing to sign with), so
 * they travel outside the envelope, marked by their first byte: `J` (0x4a), never an envelope version.
 *
 *   byte 0   0x4a
 *   bytes 1- body (a JSON message)
 */
export const JOIN_MARK = 0x4a;

const board = z.int().min(1).max(64);
const bootId = z.string().regex(/^[0-9a-f]{8,64}$/);
/** A raw X25519 public key, 32 bytes as 64 hex digits. */
const publicKey = z.string().regex(/^[0-9a-f]{64}$/, 'expected an X25519 public key (64 hex digits)');

/** Board to manager: "I am a fresh boot of slot `board`; this is my key pair's public half". */
export const joinClaimSchema = z.strictObject({
  type: z.literal('join'),
  board,
  boot_id: bootId,
  public_key: publicKey,
});

/** Manager to board: the window is open and the claim noted; the answer comes when it closes. */
export const joinPendingSchema = z.strictObject({
  type: z.literal('join-pending'),
  board,
  public_key: publicKey,
  closes_in_ms: z.int().min(0),
});

/** Manager to board: no key for this claim, and why (one line, for the board's log). */
export const joinRefusedSchema = z.strictObject({
  type: z.literal('join-refused'),
  board,
  public_key: publicKey,
  reason: z.string().min(1).max(200),
});

/**
 * Manager to board: the board's key (and the manager's attach key line), sealed to the claim's public key with a
 * fresh X25519 key pair of the manager's (`ephemeral`), AES-256-GCM (firmware/auth/join-seal.ts).
 */
export const joinGrantSchema = z.strictObject({
  type: z.literal('join-grant'),
  board,
  public_key: publicKey,
  ephemeral: publicKey,
  sealed: z.string().regex(/^[A-Za-z0-9+/=]{40,2000}$/, 'expected base64'),
});

export type JoinClaim = z.infer<typeof joinClaimSchema>;
export type JoinPending = z.infer<typeof joinPendingSchema>;
export type JoinRefused = z.infer<typeof joinRefusedSchema>;
export type JoinGrant = z.infer<typeof joinGrantSchema>;
export type JoinAnswer = JoinPending | JoinRefused | JoinGrant;

const answerSchema = z.discriminatedUnion('type', [joinPendingSchema, joinRefusedSchema, joinGrantSchema]);

export type DecodedJoin<T> = { ok: true; message: T } | { ok: false; error: string };

/** True when a datagram is a join datagram (and not an authenticated envelope). */
export function isJoinDatagram(datagram: Buffer): boolean {
  return datagram.length > 0 && datagram[0] === JOIN_MARK;
}

function decode<T>(schema: z.ZodType<T, unknown>, datagram: Buffer): DecodedJoin<T> {
  if (datagram.length > MAX_DATAGRAM)
    return { ok: false, error: `join datagram of ${datagram.length} bytes is too large` };
  if (!isJoinDatagram(datagram)) return { ok: false, error: 'not a join datagram' };
  let doc: unknown;
  try {
    doc = JSON.parse(datagram.subarray(1).toString('utf8'));
  } catch {
    return { ok: false, error: 'join message is not JSON' };
  }
  const result = schema.safeParse(doc);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    return { ok: false, error: `join message ${issue.path.join('.') || '(top level)'}: ${issue.message}` };
  }
  return { ok: true, message: result.data };
}

/** A claim as the manager reads it; never throws, whatever arrives. */
export function decodeJoinClaim(datagram: Buffer): DecodedJoin<JoinClaim> {
  return decode(joinClaimSchema, datagram);
}

/** An answer as the board reads it; never throws. */
export function decodeJoinAnswer(datagram: Buffer): DecodedJoin<JoinAnswer> {
  return decode(answerSchema, datagram);
}

export function encodeJoin(message: JoinClaim | JoinAnswer): Buffer {
  return Buffer.concat([Buffer.from([JOIN_MARK]), Buffer.from(JSON.stringify(message))]);
}
