import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { EmulatedHttpService, type Answer } from './emulated-http.js';
import type { EmulatedVisor } from './emulated-visor.js';

export interface EmulatedHypervisorOptions {
  username?: string;
  password?: string;
  /** The visors it reports, asked afresh on every request. */
  visors: () => readonly EmulatedVisor[];
  now?: () => number;
}

/**
 * The Skywire hypervisor's HTTP API on loopback, with the real endpoints and JSON shapes: /api/ping,
 * /api/csrf, POST /api/login (X-CSRF-Token, sets swm-session), and behind login /api/visors,
 * /api/visors-summary, /api/visors/{pk}/summary|health|uptime|transports.
 */
export class EmulatedHypervisor extends EmulatedHttpService {
  private readonly sessions = new Set<string>();
  private readonly csrfTokens = new Set<string>();
  private readonly username: string;
  private readonly password: string;
  private readonly now: () => number;
  /** Successful and failed login attempts. */
  logins = 0;
  /** Every request seen, as "METHOD /path status". */
  readonly requests: string[] = [];

  constructor(private readonly options: EmulatedHypervisorOptions) {
    super();
    this.username = options.username ?? 'admin';
    this.password = options.password ?? 'skywire';
    this.now = options.now ?? Date.now;
  }

  protected answer(req: IncomingMessage, body: string): Answer | null {
    return this.record(req, this.route(req, body));
  }

  /** Drops every session, as when sessions expire or the hypervisor restarts. */
  expireSessions(): void {
    this.sessions.clear();
  }

  private record(req: IncomingMessage, answer: Answer | null): Answer | null {
    this.requests.push(`${req.method} ${(req.url ?? '').split('?')[0]} ${answer?.status ?? 404}`);
    return answer;
  }

  private route(req: IncomingMessage, body: string): Answer | null {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'GET' && path === '/api/ping') return { status: 200, body: 'PONG!' };
    if (req.method === 'GET' && path === '/api/csrf') {
      const token = randomBytes(32).toString('base64url');
      this.csrfTokens.add(token);
      return { status: 200, body: { csrf_token: token } };
    }
    if (req.method === 'POST' && path === '/api/login') return this.login(req, body);
    if (!path.startsWith('/api/')) return null;

    if (!this.sessions.has(sessionOf(req) ?? '')) {
      return {
        status: 401,
        body: { error: 'session cookie is either non-existent, expired, or ill-formatted' },
      };
    }
    if (req.method !== 'GET') return { status: 405, body: { error: 'method not allowed' } };
    const now = this.now();
    const visors = this.options.visors();
    if (path === '/api/visors-summary') return { status: 200, body: visors.map((v) => v.summary(now)) };
    if (path === '/api/visors') {
      return { status: 200, body: visors.filter((v) => v.online).map((v) => v.summary(now).overview) };
    }
    const m = /^\/api\/visors\/([^/]+)\/(summary|health|uptime|transports)$/.exec(path);
    if (m) {
      const visor = visors.find((v) => v.pk === m[1]);
      if (!visor || !visor.online) {
        return { status: 404, body: { error: `visor ${m[1]} is not connected to this hypervisor` } };
      }
      const s = visor.summary(now) as { overview: { transports: unknown }; health: unknown; uptime: number };
      if (m[2] === 'summary') return { status: 200, body: s };
      if (m[2] === 'health') return { status: 200, body: s.health };
      if (m[2] === 'uptime') return { status: 200, body: s.uptime };
      return { status: 200, body: s.overview.transports ?? [] };
    }
    return null;
  }

  private login(req: IncomingMessage, body: string): Answer {
    const token = req.headers['x-csrf-token'];
    if (typeof token !== 'string' || !this.csrfTokens.delete(token)) {
      return { status: 403, body: { error: 'invalid or missing CSRF token' } };
    }
    if (this.sessions.has(sessionOf(req) ?? '')) return { status: 403, body: { error: 'not logged out' } };
    let rb: { username?: unknown; password?: unknown };
    try {
      rb = JSON.parse(body) as typeof rb;
    } catch {
      return { status: 400, body: { error: 'request format is malformed' } };
    }
    this.logins++;
    if (rb.username !== this.username || rb.password !== this.password) {
      return { status: 401, body: { error: 'incorrect username or password' } };
    }
    const sid = randomBytes(24).toString('base64url');
    this.sessions.add(sid);
    return {
      status: 200,
      body: true,
      headers: { 'set-cookie': [`swm-session=${sid}; Path=/; Max-Age=43200; HttpOnly; SameSite=Strict`] },
    };
  }
}

function sessionOf(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie ?? '';
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === 'swm-session') return rest.join('=');
  }
  return undefined;
}
