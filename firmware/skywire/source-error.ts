/** How a remote source (hypervisor, Skycoin node) failed; the service logs one line per episode from this. */
export type SourceErrorKind = 'unreachable' | 'timeout' | 'credentials' | 'http' | 'malformed';

export class SourceError extends Error {
  override readonly name = 'SourceError';
  constructor(
    readonly kind: SourceErrorKind,
    message: string,
    /** The socket error's code (ECONNREFUSED, UND_ERR_SOCKET, ...) of an 'unreachable' source. */
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Splits `http://user:pass@host:port/` into the bare base URL and its credentials (fetch refuses the latter). */
export function splitCredentials(url: string): { base: string; username?: string; password?: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SourceError('http', `not a URL: ${JSON.stringify(url)}`);
  }
  const username = parsed.username ? decodeURIComponent(parsed.username) : undefined;
  const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  parsed.username = '';
  parsed.password = '';
  const base = parsed.toString().replace(/\/+$/, '');
  return {
    base,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
  };
}

/** One HTTP exchange with a timeout; network failures become a SourceError naming the URL and the cause. */
export async function send(url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') {
      throw new SourceError('timeout', `${url}: no answer within ${timeoutMs} ms`);
    }
    const cause = e.cause?.code ?? e.cause?.message ?? e.message;
    throw new SourceError('unreachable', `cannot reach ${url}: ${cause}`, e.cause?.code);
  }
}

/** Reads a JSON body; anything else is a malformed answer, named with a short excerpt. */
export async function readJson(res: Response, what: string): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    const excerpt = text.length > 40 ? `${text.slice(0, 40)}...` : text;
    throw new SourceError('malformed', `${what}: answer is not JSON (${JSON.stringify(excerpt)})`);
  }
}

/** The error text of a non-2xx answer: skywire and skycoin send {"error": "..."} or plain text. */
export async function errorText(res: Response): Promise<string> {
  const text = (await res.text()).trim();
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === 'string') return body.error;
  } catch {
    // plain text
  }
  return text.slice(0, 80) || res.statusText;
}
