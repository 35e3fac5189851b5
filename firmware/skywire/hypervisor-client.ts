import { errorText, readJson, send, SourceError, splitCredentials } from './source-error.js';
import { parseVisorSummary, parseVisorsSummary, type VisorFigures } from './visor-summary.js';

export interface HypervisorClientOptions {
  /** e.g. http://192.168.0.2:8000; credentials in the URL win over username/password. */
  url: string;
  username?: string;
  password?: string;
  timeoutMs?: number;
}

const SESSION_COOKIE = 'swm-session';

/**
 * The Skywire hypervisor's HTTP API: CSRF token from /api/csrf, login that sets the swm-session cookie, then
 * the visor summaries. An expired session (401) triggers one new login and one retry, never a loop.
 */
export class HypervisorClient {
  readonly baseUrl: string;
  private readonly username: string;
  private readonly password: string;
  private readonly timeoutMs: number;
  private cookie: string | null = null;
  private csrf: string | null = null;
  /** Logins performed so far (a diagnostic, and what tests count). */
  logins = 0;

  constructor(options: HypervisorClientOptions) {
    const split = splitCredentials(options.url);
    this.baseUrl = split.base;
    this.username = split.username ?? options.username ?? 'admin';
    this.password = split.password ?? options.password ?? '';
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  /** Every visor the hypervisor knows, itself included. */
  async visorsSummary(): Promise<VisorFigures[]> {
    return parseVisorsSummary(await this.getJson('/api/visors-summary'));
  }

  async visorSummary(pk: string): Promise<VisorFigures> {
    return parseVisorSummary(await this.getJson(`/api/visors/${encodeURIComponent(pk)}/summary`));
  }

  /** Forgets the session, as after a hypervisor restart. */
  logout(): void {
    this.cookie = null;
    this.csrf = null;
  }

  private async getJson(path: string): Promise<unknown> {
    if (this.cookie === null) await this.login();
    let res = await this.get(path);
    if (res.status === 401) {
      await res.body?.cancel();
      this.logout();
      await this.login();
      res = await this.get(path);
      if (res.status === 401) {
        throw new SourceError('credentials', `hypervisor ${this.baseUrl}: session refused right after login`);
      }
    }
    if (!res.ok) {
      throw new SourceError(
        'http',
        `hypervisor ${this.baseUrl}${path}: HTTP ${res.status}: ${await errorText(res)}`,
      );
    }
    return readJson(res, `hypervisor ${path}`);
  }

  private get(path: string): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.cookie) headers.cookie = this.cookie;
    if (this.csrf) headers['x-csrf-token'] = this.csrf;
    return send(this.baseUrl + path, { method: 'GET', headers }, this.timeoutMs);
  }

  private async login(): Promise<void> {
    const csrfRes = await send(`${this.baseUrl}/api/csrf`, { method: 'GET' }, this.timeoutMs);
    if (!csrfRes.ok) {
      throw new SourceError('http', `hypervisor ${this.baseUrl}/api/csrf: HTTP ${csrfRes.status}`);
    }
    const body = (await readJson(csrfRes, 'hypervisor /api/csrf')) as { csrf_token?: unknown } | null;
    if (typeof body?.csrf_token !== 'string') {
      throw new SourceError('malformed', 'hypervisor /api/csrf: csrf_token missing');
    }
    this.csrf = body.csrf_token || null;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.csrf) headers['x-csrf-token'] = this.csrf;
    const res = await send(
      `${this.baseUrl}/api/login`,
      { method: 'POST', headers, body: JSON.stringify({ username: this.username, password: this.password }) },
      this.timeoutMs,
    );
    this.logins++;
    if (res.status === 404) {
      // A hypervisor with authentication disabled has no login route: its API is open.
      await res.body?.cancel();
      this.cookie = '';
      return;
    }
    if (res.status === 401) {
      throw new SourceError(
        'credentials',
        `hypervisor ${this.baseUrl}: login as ${JSON.stringify(this.username)} refused: ${await errorText(res)}`,
      );
    }
    if (!res.ok) {
      throw new SourceError(
        'http',
        `hypervisor ${this.baseUrl}/api/login: HTTP ${res.status}: ${await errorText(res)}`,
      );
    }
    await res.body?.cancel();
    const session = res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!.trim())
      .find((c) => c.startsWith(`${SESSION_COOKIE}=`));
    if (!session)
      throw new SourceError('malformed', `hypervisor ${this.baseUrl}: login set no ${SESSION_COOKIE} cookie`);
    this.cookie = session;
  }
}
