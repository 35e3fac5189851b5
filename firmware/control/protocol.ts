import { z } from 'zod';

/**
 * The control socket speaks line-delimited JSON: one request object per line, one response object per line,
 * matched by `id`. A `follow` request keeps its connection and streams `{id, event}` lines until it closes.
 */
export const PROTOCOL_VERSION = 1;

/** Longest request line the server reads; anything longer is refused without being buffered. */
export const MAX_REQUEST_BYTES = 64 * 1024;
/** Longest response line the client reads (a panel snapshot is the largest, a few kilobytes). */
export const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

const board = z.int().min(1).max(64);
/** Who asked, for the event log: printable ASCII, such as `console:ttyS0` or `cli:uid=0`. */
const by = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[\x21-\x7e]+$/, 'expected printable text without spaces');

export const requestSchema = z.discriminatedUnion('method', [
  z.strictObject({ id: z.int().min(0), method: z.literal('hello') }),
  z.strictObject({ id: z.int().min(0), method: z.literal('view') }),
  z.strictObject({
    id: z.int().min(0),
    method: z.literal('events'),
    board: board.optional(),
    limit: z.int().min(1).max(1000).optional(),
  }),
  z.strictObject({ id: z.int().min(0), method: z.literal('follow'), board: board.optional() }),
  z.strictObject({
    id: z.int().min(0),
    method: z.literal('operate'),
    board,
    operation: z.enum(['on', 'off', 'reset', 'cycle', 'release']),
    by,
  }),
  z.strictObject({ id: z.int().min(0), method: z.literal('disks') }),
  z.strictObject({ id: z.int().min(0), method: z.literal('rewards') }),
  z.strictObject({
    id: z.int().min(0),
    method: z.literal('reward-address'),
    address: z.string().min(1).max(100),
  }),
  z.strictObject({ id: z.int().min(0), method: z.literal('skywire') }),
  /** The hypervisor UI's password: shown, or changed (on the hypervisor first, then where the manager keeps it). */
  z.strictObject({
    id: z.int().min(0),
    method: z.literal('hypervisor-password'),
    action: z.enum(['show', 'set']),
    password: z.string().max(1000).optional(),
  }),
  z.strictObject({
    id: z.int().min(0),
    method: z.literal('panel'),
    action: z.enum(['pages', 'page', 'cycle', 'dim', 'off', 'on', 'snapshot']),
    page: z.string().min(1).max(64).optional(),
  }),
  z.strictObject({ id: z.int().min(0), method: z.literal('config') }),
  z.strictObject({ id: z.int().min(0), method: z.literal('attach'), board }),
  /** A box-wide update: start one from a bundle (a path on the manager or a URL), see it, or stop it. */
  z.strictObject({
    id: z.int().min(0),
    method: z.literal('update'),
    action: z.enum(['start', 'status', 'stop']),
    source: z.string().min(1).max(1000).optional(),
    by: by.optional(),
  }),
]);

export type ControlRequest = z.infer<typeof requestSchema>;
export type ControlMethod = ControlRequest['method'];
/** A request as a client sends it: the id is added by the client. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
export type RequestBody = WithoutId<ControlRequest>;

/**
 * Why a request failed: `usage` (the request names something that does not exist, the CLI's exit code 2),
 * `failed` (the operation was tried and did not work), `not-available` (no source serves this data),
 * `bad-request` (not a valid request at all).
 */
export type ErrorCode = 'usage' | 'failed' | 'not-available' | 'bad-request';

export type ControlResponse =
  | { id: number | null; ok: true; result: unknown }
  | { id: number | null; ok: false; code: ErrorCode; error: string };

export interface FollowLine {
  id: number;
  event: Record<string, unknown>;
}

export type ParsedRequest =
  { ok: true; request: ControlRequest } | { ok: false; id: number | null; error: string };

/** Parses and validates one request line; the error is one line naming what was wrong. */
export function parseRequest(line: string): ParsedRequest {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch {
    return { ok: false, id: null, error: 'not JSON: expected one JSON object per line' };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return { ok: false, id: null, error: 'not an object: expected one JSON object per line' };
  }
  const id =
    typeof doc === 'object' && doc !== null && Number.isSafeInteger((doc as { id?: unknown }).id)
      ? (doc as { id: number }).id
      : null;
  const parsed = requestSchema.safeParse(doc);
  if (parsed.success) return { ok: true, request: parsed.data };
  const issue = parsed.error.issues[0]!;
  const path = issue.path.map(String).join('.');
  if (issue.code === 'invalid_union' && path === 'method') {
    const methods = requestSchema.options.map((o) => o.shape.method.value).join(', ');
    return { ok: false, id, error: `unknown method; methods: ${methods}` };
  }
  if (issue.code === 'unrecognized_keys')
    return { ok: false, id, error: `unknown key ${issue.keys.join(', ')}` };
  return { ok: false, id, error: `${path || 'request'}: ${issue.message}` };
}

/**
 * Splits a byte stream into lines, refusing any line longer than `maxBytes` without holding it in memory:
 * the rest of such a line is skipped up to its newline and reported once as `tooLong`.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private skipping = false;

  constructor(
    private readonly maxBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onTooLong: () => void,
  ) {}

  /** The end of the stream: a last line without its newline is still a line. */
  flush(): void {
    if (!this.skipping && this.size > 0) this.push(Buffer.from('\n'));
    this.skipping = false;
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      if (!this.skipping) {
        const piece = chunk.subarray(start, end);
        if (this.size + piece.length > this.maxBytes) {
          this.parts = [];
          this.size = 0;
          this.skipping = true;
          this.onTooLong();
        } else {
          this.parts.push(piece);
          this.size += piece.length;
        }
      }
      if (nl === -1) break;
      if (!this.skipping) {
        const line = Buffer.concat(this.parts).toString('utf8').replace(/\r$/, '');
        this.parts = [];
        this.size = 0;
        this.onLine(line);
      }
      this.skipping = false;
      start = nl + 1;
    }
  }
}
