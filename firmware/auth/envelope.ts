import { createHmac, timingSafeEqual } from 'node:crypto';
import { MAX_DATAGRAM } from '../protocol/messages.js';

/**
 * The authenticated envelope every datagram between the manager and the boards travels in:
 *
 *   byte 0      version (1)
 *   byte 1      board number (1..64): which board's key signs it
 *   bytes 2-33  HMAC-SHA256(board key, bytes 0-1 || body)
 *   bytes 34-   body (a JSON message)
 *
 * The tag is checked before the body is parsed, so a host without the key cannot get a single byte of its
 * making past this point. Freshness (boot id, sequence, clock window, probe nonce) is checked on the body.
 */
export const ENVELOPE_VERSION = 1;
const HEADER = 2;
const TAG = 32;

export type Opened = { ok: true; board: number; body: Buffer } | { ok: false; error: string };

function tag(key: Buffer, header: Buffer, body: Buffer): Buffer {
  return createHmac('sha256', key).update(header).update(body).digest();
}

export function seal(key: Buffer, board: number, body: Buffer): Buffer {
  if (!Number.isInteger(board) || board < 1 || board > 64)
    throw new RangeError(`board ${board} out of range`);
  const header = Buffer.from([ENVELOPE_VERSION, board]);
  return Buffer.concat([header, tag(key, header, body), body]);
}

/** Checks a datagram's tag with the key of the board it names; never throws. */
export function openEnvelope(datagram: Buffer, keyFor: (board: number) => Buffer | undefined): Opened {
  if (datagram.length > MAX_DATAGRAM + HEADER + TAG)
    return { ok: false, error: `datagram of ${datagram.length} bytes is too large` };
  if (datagram.length < HEADER + TAG + 2)
    return { ok: false, error: `datagram of ${datagram.length} bytes is too short` };
  if (datagram[0] !== ENVELOPE_VERSION)
    return { ok: false, error: `envelope version ${datagram[0]} is not ${ENVELOPE_VERSION}` };
  const board = datagram[1]!;
  const key = keyFor(board);
  if (!key) return { ok: false, error: `no key for board ${board}` };
  const header = datagram.subarray(0, HEADER);
  const body = datagram.subarray(HEADER + TAG);
  if (!timingSafeEqual(tag(key, header, body), datagram.subarray(HEADER, HEADER + TAG)))
    return { ok: false, error: `bad tag for board ${board}` };
  return { ok: true, board, body };
}
