import { z } from 'zod';
import { errorText, readJson, send, SourceError, splitCredentials } from './source-error.js';

export const DROPLETS_PER_SKY = 1_000_000;

/** The confirmed balance of the reward addresses. */
export interface Balance {
  droplets: number;
  sky: number;
  coinHours: number;
}

const amount = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const balanceShape = z.object({ confirmed: z.object({ coins: amount, hours: amount }) });

/** A Skycoin node's REST API: `GET /api/v1/balance?addrs=A,B`. */
export class SkycoinClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(options: { url: string; timeoutMs?: number }) {
    this.baseUrl = splitCredentials(options.url).base;
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  async balance(addresses: readonly string[]): Promise<Balance> {
    if (addresses.length === 0) throw new SourceError('http', 'no reward address to query');
    const url = `${this.baseUrl}/api/v1/balance?addrs=${addresses.map(encodeURIComponent).join(',')}`;
    const res = await send(url, { method: 'GET' }, this.timeoutMs);
    if (!res.ok) {
      throw new SourceError(
        'http',
        `skycoin node ${this.baseUrl}: HTTP ${res.status}: ${await errorText(res)}`,
      );
    }
    const r = balanceShape.safeParse(await readJson(res, 'skycoin /api/v1/balance'));
    if (!r.success) {
      const issue = r.error.issues[0]!;
      throw new SourceError(
        'malformed',
        `skycoin /api/v1/balance: ${issue.path.map(String).join('.') || '(top level)'}: ${issue.message}`,
      );
    }
    const { coins, hours } = r.data.confirmed;
    return { droplets: coins, sky: coins / DROPLETS_PER_SKY, coinHours: hours };
  }
}
