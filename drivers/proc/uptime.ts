import type { FileRoot } from '../fileroot/file-root.js';
import { fields, ParseError } from './parse.js';

export interface Uptime {
  /** Seconds since boot. */
  uptime: number;
  /** Idle seconds summed over all cores. */
  idle: number;
}

export function parseUptime(text: string): Uptime {
  const [uptime, idle] = fields(text).map(Number);
  if (uptime === undefined || idle === undefined || !Number.isFinite(uptime) || !Number.isFinite(idle)) {
    throw new ParseError('/proc/uptime', `malformed "${text.trim()}"`);
  }
  return { uptime, idle };
}

export async function readUptime(root: FileRoot): Promise<Uptime> {
  return parseUptime(await root.readText('proc/uptime'));
}
