import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How an emulated server misbehaves, for tests of the clients' failure handling. */
export type ServerFault = 'none' | 'malformed' | 'wrong-shape' | 'server-error' | 'hang';

export interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string | string[]>;
  /** Sent as is instead of JSON. */
  raw?: string;
  /** Content type (default: JSON, or text/html for a raw body; '' for none). */
  contentType?: string;
}

/** A small loopback HTTP server around a request handler, shared by the emulated hypervisor and node. */
export class LoopbackServer {
  private server: Server | null = null;
  private readonly open = new Set<ServerResponse>();
  fault: ServerFault = 'none';

  constructor(private readonly handle: (req: IncomingMessage, body: string) => Answer | null) {}

  async start(port = 0, host = '127.0.0.1'): Promise<void> {
    const server = createServer((req, res) => this.serve(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
  }

  get url(): string {
    const a = this.server?.address() as AddressInfo | null | undefined;
    if (!a) throw new Error('emulated server not started');
    return `http://${a.address}:${a.port}`;
  }

  get port(): number {
    return (this.server?.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    for (const res of this.open) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (this.fault === 'hang') {
        this.open.add(res);
        res.on('close', () => this.open.delete(res));
        return;
      }
      const answer = this.handle(req, Buffer.concat(chunks).toString('utf8')) ?? {
        status: 404,
        body: { error: '404 page not found' },
      };
      let { status, body, raw } = answer;
      if (status === 200 && this.fault === 'malformed') raw = '<html>502 Bad Gateway</html>';
      if (status === 200 && this.fault === 'wrong-shape') {
        body = { unexpected: true };
        raw = undefined;
      }
      if (this.fault === 'server-error') {
        status = 500;
        body = { error: 'internal error' };
        raw = undefined;
      }
      const type =
        (this.fault === 'none' ? answer.contentType : undefined) ??
        (raw !== undefined ? 'text/html' : 'application/json');
      // An empty content type: none at all, as Go's server sends with an empty body.
      res.writeHead(status, { ...(type ? { 'content-type': type } : {}), ...(answer.headers ?? {}) });
      res.end(raw ?? JSON.stringify(body));
    });
  }
}

/** What the emulated hypervisor and Skycoin node share: a LoopbackServer answered by `answer`. */
export abstract class EmulatedHttpService {
  private readonly http = new LoopbackServer((req, body) => this.answer(req, body));

  protected abstract answer(req: IncomingMessage, body: string): Answer | null;

  start(port = 0): Promise<void> {
    return this.http.start(port);
  }

  stop(): Promise<void> {
    return this.http.stop();
  }

  get url(): string {
    return this.http.url;
  }

  set fault(f: ServerFault) {
    this.http.fault = f;
  }
}
