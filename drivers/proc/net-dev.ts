import type { FileRoot } from '../fileroot/file-root.js';
import { counterRate, type Rate, type RateLimits } from './counters.js';
import { fields, ParseError, uint } from './parse.js';

export interface NetCounters {
  rxBytes: number;
  rxPackets: number;
  txBytes: number;
  txPackets: number;
}

/** Counters per interface from `/proc/net/dev`. */
export function parseNetDev(text: string): Map<string, NetCounters> {
  const out = new Map<string, NetCounters>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    // The two header lines contain '|' and no 'name:' prefix.
    if (colon < 0 || line.includes('|')) continue;
    const name = line.slice(0, colon).trim();
    const f = fields(line.slice(colon + 1)).map(uint);
    if (f.length < 16 || f.some(Number.isNaN))
      throw new ParseError('/proc/net/dev', `malformed line for "${name}"`);
    out.set(name, { rxBytes: f[0]!, rxPackets: f[1]!, txBytes: f[8]!, txPackets: f[9]! });
  }
  return out;
}

export async function readNetDev(root: FileRoot): Promise<Map<string, NetCounters>> {
  return parseNetDev(await root.readText('proc/net/dev'));
}

export interface NetRates {
  rxBytes: Rate;
  txBytes: Rate;
  rxPackets: Rate;
  txPackets: Rate;
}

/** 10 Gbit/s: no board interface moves more, so a bigger step is a counter glitch. */
export const NET_MAX_BYTES_PER_SECOND = 1.25e9;
const NET_MAX_PACKETS_PER_SECOND = 15e6;

/** Rates per interface present in `next`; an interface new since `prev` gets null rates ('no-previous'). */
export function netRates(
  prev: Map<string, NetCounters> | undefined,
  next: Map<string, NetCounters>,
  dtSeconds: number,
  opts: { wrap32?: boolean } = {},
): Map<string, NetRates> {
  const bytes: RateLimits = { maxPerSecond: NET_MAX_BYTES_PER_SECOND, wrap32: opts.wrap32 ?? false };
  const packets: RateLimits = { maxPerSecond: NET_MAX_PACKETS_PER_SECOND, wrap32: opts.wrap32 ?? false };
  const out = new Map<string, NetRates>();
  for (const [name, n] of next) {
    const p = prev?.get(name);
    out.set(name, {
      rxBytes: counterRate(p?.rxBytes, n.rxBytes, dtSeconds, bytes),
      txBytes: counterRate(p?.txBytes, n.txBytes, dtSeconds, bytes),
      rxPackets: counterRate(p?.rxPackets, n.rxPackets, dtSeconds, packets),
      txPackets: counterRate(p?.txPackets, n.txPackets, dtSeconds, packets),
    });
  }
  return out;
}
