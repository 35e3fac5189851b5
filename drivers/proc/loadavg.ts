import type { FileRoot } from '../fileroot/file-root.js';
import { fields, ParseError, uint } from './parse.js';

export interface LoadAvg {
  load1: number;
  load5: number;
  load15: number;
  running: number;
  total: number;
}

export function parseLoadAvg(text: string): LoadAvg {
  const f = fields(text);
  const [running, total] = (f[3] ?? '').split('/').map(uint);
  const [load1, load5, load15] = f.slice(0, 3).map(Number);
  const all = [load1, load5, load15, running, total];
  if (f.length < 4 || all.some((v) => v === undefined || !Number.isFinite(v))) {
    throw new ParseError('/proc/loadavg', `malformed "${text.trim()}"`);
  }
  return { load1: load1!, load5: load5!, load15: load15!, running: running!, total: total! };
}

export async function readLoadAvg(root: FileRoot): Promise<LoadAvg> {
  return parseLoadAvg(await root.readText('proc/loadavg'));
}
