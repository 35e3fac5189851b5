import type { IncomingMessage } from 'node:http';
import { EmulatedHttpService, type Answer } from './emulated-http.js';

interface Amounts {
  coins: number;
  hours: number;
}

/** A Skycoin node's `GET /api/v1/balance?addrs=A,B` on loopback, in the node's JSON shape (coins in droplets). */
export class EmulatedSkycoinNode extends EmulatedHttpService {
  private readonly balances = new Map<string, Amounts>();
  readonly requests: string[] = [];

  protected answer(req: IncomingMessage): Answer | null {
    return this.route(req);
  }

  /** Adds coins (droplets) and coin hours to an address, as a confirmed incoming transaction does. */
  credit(address: string, droplets: number, hours = 0): void {
    const a = this.balances.get(address) ?? { coins: 0, hours: 0 };
    this.balances.set(address, { coins: a.coins + droplets, hours: a.hours + hours });
  }

  /** Sets an address's balance outright, as after the owner spends from it. */
  set(address: string, droplets: number, hours: number): void {
    this.balances.set(address, { coins: droplets, hours });
  }

  private route(req: IncomingMessage): Answer | null {
    const url = new URL(req.url ?? '/', 'http://node');
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    if (url.pathname !== '/api/v1/balance') return null;
    if (req.method !== 'GET' && req.method !== 'POST') {
      return { status: 405, body: null, raw: '405 Method Not Allowed' };
    }
    const addrs = (url.searchParams.get('addrs') ?? '')
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean);
    if (addrs.length === 0) return { status: 400, body: null, raw: '400 Bad Request - addrs is required' };
    const bad = addrs.find((a) => !/^[1-9A-HJ-NP-Za-km-z]{25,35}$/.test(a));
    if (bad) return { status: 400, body: null, raw: `400 Bad Request - invalid address ${bad}` };
    const total: Amounts = { coins: 0, hours: 0 };
    const addresses: Record<string, { confirmed: Amounts; predicted: Amounts }> = {};
    for (const a of new Set(addrs)) {
      const b = this.balances.get(a) ?? { coins: 0, hours: 0 };
      total.coins += b.coins;
      total.hours += b.hours;
      addresses[a] = { confirmed: { ...b }, predicted: { ...b } };
    }
    return { status: 200, body: { confirmed: total, predicted: { ...total }, addresses } };
  }
}
