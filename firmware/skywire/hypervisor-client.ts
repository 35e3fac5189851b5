import { errorText, readJson, send, SourceError, splitCredentials } from './source-error.js';
import { parseVisorSummary, parseVisorsSummary, type VisorFigures } from './visor-summary.js';

export interface HypervisorClientOptions {
  /** e.g. http://192.168.0.2:8000; credentials in the URL win over username/password. */
  url: string;
  username?: string;
  /** The account's password, or where to read it at each login (the firmware-made one on the data partition). */
  password?: string | (() => Promise<string>);
  timeoutMs?: number;
}

const SESSION_COOKIE = 'swm-session';
/** The hypervisor's answer to a wrong password, at login and at change-password alike. */
const BAD_LOGIN = 'incorrect username or password';

/** What `createAccount` found: a fresh hypervisor took the account, or one was there already. */
export type AccountResult = 'created' | 'exists';

/** Socket errors of a kept-alive connection that the server closed (a hypervisor restarted under it). */
const STALE_SOCKET = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'UND_ERR_CLOSED']);

/**
 * The Skywire hypervisor's HTTP API as v1.3.28 answers it. Login is a plain POST (no CSRF token) that sets the
 * swm-session cookie; only changes under /api/visors/{pk}/ need X-CSRF-Token (from /api/csrf, valid 30 s). An
 * expired session (401, as after a hypervisor restart) costs one new login and one retry, never a loop; the first
 * request on a kept-alive socket of a restarted hypervisor fails at the socket and is sent once more.
 */
export class HypervisorClient {
  readonly baseUrl: string;
  private readonly username: string;
  private readonly password: string | (() => Promise<string>);
  private readonly timeoutMs: number;
  private cookie: string | null = null;
  /** Logins performed so far (a diagnostic, and what tests count). */
  logins = 0;

  constructor(options: HypervisorClientOptions) {
    const split = splitCredentials(options.url);
    this.baseUrl = split.base;
    this.username = split.username ?? options.username ?? 'admin';
    this.password = split.password ?? options.password ?? '';
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  /**
   * The hypervisor's own visor and every remote visor connected right now, all online: a visor that drops is
   * removed from this list, never listed offline.
   */
  async visorsSummary(): Promise<VisorFigures[]> {
    return parseVisorsSummary(await this.json('GET', '/api/visors-summary'));
  }

  /**
   * One visor's summary. Its `online` is not to be trusted (a remote visor reads `false` even when connected):
   * online state comes from `visorsSummary`.
   */
  async visorSummary(pk: string): Promise<VisorFigures> {
    return parseVisorSummary(await this.json('GET', `/api/visors/${encodeURIComponent(pk)}/summary`));
  }

  /** `connecting` for the first 300 s of every visor start, then `healthy` once the uptime tracker answered. */
  async servicesHealth(pk: string): Promise<string> {
    const body = (await this.json('GET', `/api/visors/${encodeURIComponent(pk)}/health`)) as {
      services_health?: unknown;
    } | null;
    if (typeof body?.services_health !== 'string')
      throw new SourceError('malformed', `hypervisor /api/visors/${pk}/health: services_health missing`);
    return body.services_health;
  }

  /** Sets a visor's reward address (the hypervisor checks it; a bad one is an 'http' error naming why). */
  async setRewardAddress(pk: string, address: string): Promise<void> {
    await this.json('PUT', `/api/visors/${encodeURIComponent(pk)}/reward`, { reward_address: address });
  }

  /**
   * Creates the hypervisor's only account (`admin`) on a fresh hypervisor, which gives it to whoever asks first.
   * A password outside the hypervisor's rules is refused with its own reason.
   */
  async createAccount(password: string): Promise<AccountResult> {
    const res = await this.sendOnce('/api/create-account', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: this.username, password }),
    });
    if (res.ok) {
      await res.body?.cancel();
      return 'created';
    }
    // The hypervisor answers an existing account with 500 and no body.
    const text = await errorText(res);
    if (res.status === 500 && text === res.statusText) return 'exists';
    throw new SourceError(
      res.status === 400 || res.status === 403 ? 'credentials' : 'http',
      `hypervisor ${this.baseUrl}: account not created: HTTP ${res.status}: ${text}`,
    );
  }

  /**
   * Changes the account's password (`POST /api/change-password`, behind the session, no CSRF token). The hypervisor
   * checks the old password (401 `incorrect username or password`) and its own rules for the new one (400 with the
   * rule's text), then ends every session of the account: the next request logs in again.
   */
  async changePassword(oldPassword: string, newPassword: string): Promise<void> {
    const body = { old_password: oldPassword, new_password: newPassword };
    if (this.cookie === null) await this.login();
    let res = await this.request('POST', '/api/change-password', body);
    let text = res.ok ? '' : await errorText(res);
    if (res.status === 401 && text !== BAD_LOGIN) {
      // The session ended (a hypervisor restart): one new login, one retry.
      this.logout();
      await this.login();
      res = await this.request('POST', '/api/change-password', body);
      text = res.ok ? '' : await errorText(res);
    }
    if (res.status === 401 && text === BAD_LOGIN)
      throw new SourceError('credentials', `hypervisor ${this.baseUrl}: the current password was refused`);
    if (res.status === 400)
      throw new SourceError('credentials', `hypervisor ${this.baseUrl}: new password refused: ${text}`);
    if (!res.ok)
      throw new SourceError(
        'http',
        `hypervisor ${this.baseUrl}/api/change-password: HTTP ${res.status}: ${text}`,
      );
    await res.body?.cancel();
    this.logout();
  }

  /** Forgets the session, as after a hypervisor restart. */
  logout(): void {
    this.cookie = null;
  }

  private async json(method: 'GET' | 'PUT', path: string, body?: unknown): Promise<unknown> {
    if (this.cookie === null) await this.login();
    let res = await this.request(method, path, body);
    if (res.status === 401) {
      await res.body?.cancel();
      this.logout();
      await this.login();
      res = await this.request(method, path, body);
      if (res.status === 401) {
        await res.body?.cancel();
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

  private async request(method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.cookie) headers.cookie = this.cookie;
    if (method !== 'GET') headers['content-type'] = 'application/json';
    // Only changes under /api/visors/{pk}/ are guarded by a CSRF token.
    if (method !== 'GET' && path.startsWith('/api/visors/')) {
      const csrf = await this.csrfToken();
      if (csrf) headers['x-csrf-token'] = csrf;
    }
    return this.sendOnce(path, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  }

  private async csrfToken(): Promise<string | null> {
    const res = await this.sendOnce('/api/csrf', { method: 'GET' });
    if (!res.ok) {
      await res.body?.cancel();
      throw new SourceError('http', `hypervisor ${this.baseUrl}/api/csrf: HTTP ${res.status}`);
    }
    const body = (await readJson(res, 'hypervisor /api/csrf')) as { csrf_token?: unknown } | null;
    if (typeof body?.csrf_token !== 'string')
      throw new SourceError('malformed', 'hypervisor /api/csrf: csrf_token missing');
    return body.csrf_token || null;
  }

  /** One exchange, sent a second time only when a stale kept-alive socket failed it. */
  private async sendOnce(path: string, init: RequestInit): Promise<Response> {
    try {
      return await send(this.baseUrl + path, init, this.timeoutMs);
    } catch (err) {
      if (err instanceof SourceError && err.code !== undefined && STALE_SOCKET.has(err.code))
        return send(this.baseUrl + path, init, this.timeoutMs);
      throw err;
    }
  }

  private async login(): Promise<void> {
    const res = await this.sendOnce('/api/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        username: this.username,
        password: typeof this.password === 'function' ? await this.password() : this.password,
      }),
    });
    this.logins++;
    if (res.status === 404) {
      // A hypervisor with authentication disabled has no login route: its API is open.
      await res.body?.cancel();
      this.cookie = '';
      return;
    }
    if (res.status === 401 || res.status === 400) {
      throw new SourceError(
        'credentials',
        `hypervisor ${this.baseUrl}: login as ${JSON.stringify(this.username)} refused: ${await errorText(res)}`,
      );
    }
    if (res.status === 500 && this.username !== 'admin') {
      await res.body?.cancel();
      throw new SourceError(
        'credentials',
        `hypervisor ${this.baseUrl}: login as ${JSON.stringify(this.username)} refused: the hypervisor has only the user "admin"`,
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
