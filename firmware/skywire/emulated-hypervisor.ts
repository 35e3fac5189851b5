import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { EmulatedHttpService, type Answer } from './emulated-http.js';
import type { EmulatedVisor } from './emulated-visor.js';
import { skycoinAddressProblem } from './skycoin-address.js';

export interface EmulatedHypervisorOptions {
  username?: string;
  /** The account's password; null: a fresh hypervisor without an account (the first create-account takes it). */
  password?: string | null;
  /** The visors it reports, asked afresh on every request; the one with isHypervisor is its own. */
  visors: () => readonly EmulatedVisor[];
  now?: () => number;
}

/** The hypervisor's password rules (skywire's usermanager): 6-64 printable ASCII, upper, lower, digit, special. */
export function hypervisorPasswordProblem(password: string): string | null {
  if (password.length < 6 || password.length > 64) return 'password length should be between 6 and 64 chars';
  if ([...password].some((c) => c < '!' || c > '~')) return 'non-ASCII character found';
  const classes = [/[A-Z]/, /[a-z]/, /[0-9]/, /[^A-Za-z0-9]/];
  if (!classes.every((re) => re.test(password)))
    return 'password must have at least one upper, lower, digit and special character';
  return null;
}

const USERNAME = /^[a-z0-9_-]{4,21}$/;
const CSRF_TTL_MS = 30_000;
const SESSION_TTL_MS = 12 * 3600_000;
const PK = /^0[23][0-9a-f]{64}$/;
const NOT_FOUND: Answer = { status: 404, body: null, raw: '404 page not found\n', contentType: 'text/plain' };

/**
 * The Skywire hypervisor's HTTP API on loopback, answering as v1.3.28 does: /api/ping, /api/csrf, login and account
 * creation without CSRF (the only user is `admin`, the password rules are the hypervisor's), the swm-session cookie,
 * and behind it /api/change-password (no CSRF either; it ends every session), /api/visors, /api/visors-summary
 * (connected visors only), /api/visors/{pk}/summary|health|uptime|transports|reward, with X-CSRF-Token required on
 * PUT, and the real error texts and status codes.
 */
export class EmulatedHypervisor extends EmulatedHttpService {
  private readonly sessions = new Map<string, number>();
  private readonly csrfKey = randomBytes(32);
  private readonly username: string;
  private password: string | null;
  private readonly now: () => number;
  /** Successful and failed login attempts. */
  logins = 0;
  /** Every request seen, as "METHOD /path status". */
  readonly requests: string[] = [];

  constructor(private readonly options: EmulatedHypervisorOptions) {
    super();
    this.username = options.username ?? 'admin';
    this.password = options.password === undefined ? 'Skyminer-sim1' : options.password;
    this.now = options.now ?? Date.now;
  }

  protected answer(req: IncomingMessage, body: string): Answer | null {
    const a = this.record(req, this.route(req, body));
    // Go's JSON encoder ends every JSON answer with a newline (the ping's text has none).
    return a && a.raw === undefined && a.contentType === undefined
      ? { ...a, raw: `${JSON.stringify(a.body)}\n`, contentType: 'application/json' }
      : a;
  }

  /** Drops every session, as when sessions expire or the hypervisor restarts. */
  expireSessions(): void {
    this.sessions.clear();
  }

  /** The account's password, as a hypervisor restarted over a kept user store would have it. */
  setPassword(password: string): void {
    this.password = password;
  }

  /** True once an account exists. */
  get hasAccount(): boolean {
    return this.password !== null;
  }

  private record(req: IncomingMessage, answer: Answer | null): Answer | null {
    this.requests.push(`${req.method} ${(req.url ?? '').split('?')[0]} ${answer?.status ?? 404}`);
    return answer;
  }

  private route(req: IncomingMessage, body: string): Answer | null {
    const path = (req.url ?? '/').split('?')[0]!;
    const now = this.now();
    if (req.method === 'GET' && path === '/api/ping')
      return { status: 200, body: 'PONG!', contentType: 'text/plain' };
    if (req.method === 'GET' && path === '/api/csrf')
      return { status: 200, body: { csrf_token: this.csrf(now) } };
    if (req.method === 'POST' && path === '/api/login') return this.login(req, body, now);
    if (req.method === 'POST' && path === '/api/create-account') return this.createAccount(body);
    const known =
      /^\/api\/(visors|visors-summary|about|user|logout|change-password)$/.test(path) ||
      /^\/api\/visors\/[^/]+\/[a-z-]+$/.test(path);
    if (!known) return NOT_FOUND;

    const sid = sessionOf(req);
    const expiry = sid === undefined ? undefined : this.sessions.get(sid);
    if (expiry === undefined || expiry <= now) {
      return {
        status: 401,
        body: { error: 'session cookie is either non-existent, expired, or ill-formatted' },
      };
    }
    if (req.method === 'POST' && path === '/api/logout') {
      this.sessions.delete(sid!);
      return { status: 200, body: true };
    }
    if (path === '/api/change-password')
      return req.method === 'POST'
        ? this.changePassword(body)
        : { status: 405, body: null, raw: '', contentType: 'text/plain' };
    const visors = this.options.visors();
    const own = visors.find((v) => v.isHypervisor && v.online);
    // Remote visors reach the hypervisor through its own visor: when that is down, none is connected.
    const hasOwn = visors.some((v) => v.isHypervisor);
    const connected = visors.filter((v) => v.online && (v.isHypervisor || !hasOwn || !!own));
    const hvPk = own?.pk ?? null;
    if (req.method === 'GET' && path === '/api/visors-summary')
      return {
        status: 200,
        body: connected.map((v) => v.summary(now, { hypervisorPk: hvPk, listed: true })),
      };
    if (req.method === 'GET' && path === '/api/visors')
      return { status: 200, body: connected.map((v) => v.summary(now, { hypervisorPk: hvPk }).overview) };
    if (req.method === 'GET' && path === '/api/about')
      return { status: 200, body: { public_key: hvPk, build: own?.buildInfo() ?? null } };
    const m = /^\/api\/visors\/([^/]+)\/([a-z-]+)$/.exec(path);
    if (!m) return NOT_FOUND;
    const [, pk, what] = m as unknown as [string, string, string];
    if (!PK.test(pk)) return { status: 400, body: { error: 'Invalid public key' } };
    if (req.method !== 'GET') {
      const token = req.headers['x-csrf-token'];
      if (typeof token !== 'string' || token === '')
        return { status: 403, body: { error: `no csrf token for ${req.method} request` } };
      const problem = this.checkCsrf(token, now);
      if (problem) return { status: 403, body: { error: problem } };
    }
    const visor = connected.find((v) => v.pk === pk);
    if (!visor) return { status: 404, body: { error: `visor of pk '${pk}' not found` } };
    const s = visor.summary(now, { hypervisorPk: hvPk });
    if (req.method === 'GET') {
      if (what === 'summary') return { status: 200, body: s };
      if (what === 'health') return { status: 200, body: { status: 200, ...(s.health as object) } };
      if (what === 'uptime') return { status: 200, body: s.uptime };
      if (what === 'transports')
        return { status: 200, body: (s.overview as { transports: unknown }).transports ?? [] };
      if (what === 'reward') return { status: 200, body: visor.rewardAddress };
    }
    if (req.method === 'PUT' && what === 'reward') {
      let address: unknown;
      try {
        address = (JSON.parse(body) as { reward_address?: unknown }).reward_address;
      } catch {
        return { status: 400, body: { error: 'invalid character in request body' } };
      }
      const problem = typeof address === 'string' ? rewardAddressError(address) : 'Invalid base58 string';
      if (problem) return { status: 500, body: { error: problem } };
      visor.rewardAddress = address as string;
      return { status: 200, body: address };
    }
    return { status: 405, body: null, raw: '', contentType: 'text/plain' };
  }

  private csrf(now: number): string {
    const claims = Buffer.from(
      JSON.stringify({ Nonce: randomBytes(16).toString('base64'), ExpiresAt: new Date(now + CSRF_TTL_MS) }),
    ).toString('base64url');
    return `${claims}.${createHmac('sha256', this.csrfKey).update(claims).digest('base64url')}`;
  }

  private checkCsrf(token: string, now: number): string | null {
    const [claims, sig] = token.split('.');
    if (!claims || !sig || createHmac('sha256', this.csrfKey).update(claims).digest('base64url') !== sig)
      return 'invalid CSRF token';
    const { ExpiresAt } = JSON.parse(Buffer.from(claims, 'base64url').toString()) as { ExpiresAt: string };
    return Date.parse(ExpiresAt) < now ? 'csrf token expired' : null;
  }

  private login(req: IncomingMessage, body: string, now: number): Answer {
    const current = sessionOf(req);
    if (current !== undefined && (this.sessions.get(current) ?? 0) > now)
      return { status: 403, body: { error: 'not logged out' } };
    const rb = parseBody(body);
    if (!rb) return { status: 400, body: { error: 'request format is malformed' } };
    if (typeof rb.username !== 'string' || !USERNAME.test(rb.username))
      return { status: 400, body: { error: "format of 'username' is not accepted" } };
    // Any other well-formed name fails inside the hypervisor's user store: 500 with no body.
    if (rb.username !== this.username) return { status: 500, body: null, raw: '', contentType: '' };
    this.logins++;
    if (this.password === null || rb.password !== this.password) {
      return { status: 401, body: { error: 'incorrect username or password' } };
    }
    const sid = randomBytes(16).toString('hex');
    const expires = now + SESSION_TTL_MS;
    this.sessions.set(sid, expires);
    return {
      status: 200,
      body: true,
      headers: {
        'set-cookie': [`swm-session=${sid}; Path=/; Expires=${new Date(expires).toUTCString()}; HttpOnly`],
      },
    };
  }

  /**
   * As the usermanager does: the body must hold only `old_password` and `new_password` (Go's decoder refuses other
   * keys and other types), the old password must be the account's, the new one must pass the rules; then every
   * session of the account ends, this one too.
   */
  private changePassword(body: string): Answer {
    const malformed: Answer = { status: 400, body: { error: 'request format is malformed' } };
    let rb: unknown;
    try {
      rb = JSON.parse(body);
    } catch {
      return malformed;
    }
    if (!rb || typeof rb !== 'object' || Array.isArray(rb)) return malformed;
    const fields = rb as Record<string, unknown>;
    const text = (key: string): string | null => {
      const v = fields[key];
      return v === undefined || v === null ? '' : typeof v === 'string' ? v : null;
    };
    const oldPassword = text('old_password');
    const newPassword = text('new_password');
    const known = Object.keys(fields).every((k) => k === 'old_password' || k === 'new_password');
    if (!known || oldPassword === null || newPassword === null) return malformed;
    if (this.password === null || oldPassword !== this.password)
      return { status: 401, body: { error: 'incorrect username or password' } };
    const problem = hypervisorPasswordProblem(newPassword);
    if (problem) return { status: 400, body: { error: problem } };
    this.password = newPassword;
    this.sessions.clear();
    return { status: 200, body: true };
  }

  private createAccount(body: string): Answer {
    const rb = parseBody(body);
    if (!rb) return { status: 400, body: { error: 'request format is malformed' } };
    if (typeof rb.username !== 'string' || !USERNAME.test(rb.username))
      return { status: 400, body: { error: "format of 'username' is not accepted" } };
    const problem = hypervisorPasswordProblem(typeof rb.password === 'string' ? rb.password : '');
    if (problem) return { status: 400, body: { error: problem } };
    if (rb.username !== this.username) return { status: 403, body: { error: 'name not allowed' } };
    if (this.password !== null) return { status: 500, body: null, raw: '', contentType: '' };
    this.password = rb.password as string;
    return { status: 200, body: true };
  }
}

function parseBody(body: string): { username?: unknown; password?: unknown } | null {
  try {
    const parsed = JSON.parse(body) as unknown;
    return parsed && typeof parsed === 'object'
      ? (parsed as { username?: unknown; password?: unknown })
      : null;
  } catch {
    return null;
  }
}

/** skycoin's cipher error texts, which the hypervisor passes on. */
function rewardAddressError(address: string): string | null {
  if (address === '') return 'Invalid base58 string';
  const problem = skycoinAddressProblem(address);
  if (!problem) return null;
  if (problem.includes('base58')) return 'Invalid base58 character';
  if (problem.includes('bytes')) return 'Invalid address length';
  if (problem.includes('checksum')) return 'Invalid checksum';
  return 'Address version invalid';
}

function sessionOf(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie ?? '';
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === 'swm-session') return rest.join('=');
  }
  return undefined;
}
